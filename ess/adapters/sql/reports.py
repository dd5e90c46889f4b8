"""Reports over all employees, computed by the database with aggregate queries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Numeric,
    ScalarSelect,
    Select,
    String,
    Subquery,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.functions import GenericFunction

from ess.adapters.sql.database import READ_ONLY
from ess.adapters.sql.tables import (
    LEAVE_YEAR_SUMS,
    YEAR_SLOTS,
    EmployeeRow,
    LeaveBucketRow,
    LeaveLedgerRow,
    LeaveRequestDayRow,
    LeaveRequestRow,
    OrgUnitRow,
)
from ess.domain.vacation.model import (
    ENTITLEMENT_TYPES,
    BucketKind,
    EntryType,
    ReportPerson,
    ReportRow,
    ReportTotals,
    RequestStatus,
)

ZERO = Decimal(0)
_DAY = timedelta(days=1)
# Personnel numbers per statement when rows of some employees are asked for (within every parameter limit).
_CHUNK = 500
# Wide enough for a sum over many years of entries; the scale makes SQLite's float sums come back exact.
_SUM = Numeric(14, 2)

_ENTITLEMENT_TYPES = tuple(t.value for t in sorted(ENTITLEMENT_TYPES))
_GRANT_KINDS = (BucketKind.STATUTORY.value, BucketKind.CONTRACTUAL.value)
_ENTITLEMENT_KINDS = (BucketKind.STATUTORY.value, BucketKind.CONTRACTUAL.value, BucketKind.SPECIAL.value)
_CARRY_TYPES = (EntryType.CARRY_IN.value, EntryType.ADJUST.value)
_BOOKING_TYPES = (EntryType.TAKE.value, EntryType.REVERSE.value)
_EXPIRY_TYPES = (EntryType.EXPIRE.value, EntryType.CARRY_OUT.value)


def _sum_where(condition: ColumnElement[bool], amount: ColumnElement[Decimal]) -> ColumnElement[Decimal]:
    return type_coerce(func.sum(case((condition, amount), else_=0)), _SUM)


class SqlLeaveReport:
    """`LeaveReport` in two aggregate subqueries (ledger sums, pending days) joined to the employees, in one
    statement: PostgreSQL answers it from one snapshot, and no ledger row travels to Python."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._reader: AsyncEngine | None = None

    def _read(self) -> AsyncSession:
        """A read-only session: on SQLite a deferred BEGIN (the report reads beside writers instead of taking the
        write lock for its whole run), on PostgreSQL one REPEATABLE READ snapshot."""
        if self._reader is None:
            engine: AsyncEngine = self._sessions.kw["bind"]
            options: dict[str, Any] = {READ_ONLY: True}
            if engine.dialect.name == "postgresql":
                options["isolation_level"] = "REPEATABLE READ"
            self._reader = engine.execution_options(**options)
        return self._sessions(bind=self._reader)

    async def rows(
        self, as_of: date, personnel_numbers: Sequence[str] | None = None, *, lapse_by: date | None = None
    ) -> list[ReportRow]:
        """Every employee employed in the leave year of `as_of` (or those of `personnel_numbers`); the figures mean
        what `compute_balance` says."""
        return await _in_chunks(self._rows, as_of, personnel_numbers, lapse_by)

    async def summed_rows(
        self, as_of: date, personnel_numbers: Sequence[str] | None = None, *, lapse_by: date | None = None
    ) -> list[ReportRow]:
        """The rows of `rows`, with the same figures, from the leave year sums (one row per employee and year, kept
        by the database: migration 0020) instead of the year's ledger: the report date's month is split at the date
        from the ledger, as `totals` does it, per employee. What a sort by a figure reads for every listed row."""
        return await _in_chunks(self._summed_rows, as_of, personnel_numbers, lapse_by)

    async def _summed_rows(
        self, as_of: date, personnel_numbers: Sequence[str] | None, lapse_by: date | None
    ) -> list[ReportRow]:
        first, last = date(as_of.year, 1, 1), date(as_of.year, 12, 31)
        only = None
        if personnel_numbers is not None:
            only = select(EmployeeRow.id).where(EmployeeRow.personnel_number.in_(personnel_numbers)).scalar_subquery()
        sums = LEAVE_YEAR_SUMS.c
        done, from_ledger, sign = _month_split(as_of)
        pending = _pending_days(first, last, only)
        month = _month_of_ledger_by_employee(as_of, from_ledger, only) if from_ledger[0] <= from_ledger[1] else None
        lapsing = _lapsing(as_of, lapse_by, only) if lapse_by is not None else None
        statement = (
            select(
                *_row_person(),
                sums.granted,
                sums.entitlement,
                sums.carried_over,
                _added(*(sums[f"bookings_{slot:02d}"] for slot in done)),
                _added(*(sums[f"bookings_{slot:02d}"] for slot in YEAR_SLOTS if slot not in done)),
                _added(*(sums[f"expiries_{slot:02d}"] for slot in done)),
                month.c.bookings if month is not None else literal(None, _SUM),
                month.c.expiries if month is not None else literal(None, _SUM),
                pending.c.pending,
                lapsing.c.lapsing if lapsing is not None else literal(None, _SUM),
            )
            .outerjoin(OrgUnitRow, OrgUnitRow.id == EmployeeRow.org_unit_id)
            .outerjoin(LEAVE_YEAR_SUMS, and_(sums.employee_id == EmployeeRow.id, sums.leave_year == as_of.year))
            .outerjoin(pending, pending.c.employee_id == EmployeeRow.id)
            .where(_employed_between(first, last))
        )
        if month is not None:
            statement = statement.outerjoin(month, month.c.employee_id == EmployeeRow.id)
        if lapsing is not None:
            statement = statement.outerjoin(lapsing, lapsing.c.employee_id == EmployeeRow.id)
        if personnel_numbers is not None:
            statement = statement.where(EmployeeRow.personnel_number.in_(personnel_numbers))
        async with self._read() as session:
            connection = await session.connection()
            result = (await connection.execute(statement)).all()
        return [_summed_row(sign, *row) for row in result]

    async def people(self, as_of: date, *, lapse_by: date | None = None) -> list[ReportPerson]:
        first, last = date(as_of.year, 1, 1), date(as_of.year, 12, 31)
        lapsing = _lapsing(as_of, lapse_by or as_of)
        statement = (
            select(
                EmployeeRow.personnel_number,
                EmployeeRow.first_name,
                EmployeeRow.preferred_name,
                EmployeeRow.last_name,
                OrgUnitRow.name,
                EmployeeRow.country,
                EmployeeRow.subdivision,
                lapsing.c.lapsing if lapse_by is not None else literal(None, _SUM),
            )
            .outerjoin(OrgUnitRow, OrgUnitRow.id == EmployeeRow.org_unit_id)
            .where(_employed_between(first, last))
        )
        if lapse_by is not None:
            statement = statement.outerjoin(lapsing, lapsing.c.employee_id == EmployeeRow.id)
        async with self._read() as session:
            connection = await session.connection()  # Core rows: no ORM loading
            result = (await connection.execute(statement)).all()
        return [
            ReportPerson(
                number,
                _display_name(first_name, preferred, last_name),
                unit or "",
                _location(country, subdivision),
                lapse or ZERO,
            )
            for number, first_name, preferred, last_name, unit, country, subdivision, lapse in result
        ]

    async def listed(
        self,
        as_of: date,
        *,
        unit: str = "",
        region: str = "",
        lapse_by: date | None = None,
        sort: str = "org_unit",
        descending: bool = False,
        offset: int = 0,
        limit: int | None = None,
        lapsing_until: date | None = None,
    ) -> tuple[list[str], int]:
        """The personnel numbers of `people` in the unit and region (with `lapse_by`: only those with days that
        lapse by then), sorted by a column of who is listed and cut to the page by the database; and how many
        there are in all. Text sorts case-insensitively by code point, as `str.casefold` sorts in Python.

        A figure sort orders by the figure as `rows` gives it (from the year sums, `summed_rows`; "lapsing" up to
        `lapsing_until`), rounded to the cent, then in the report's order."""
        statement, counted = self._listing(as_of, unit=unit, region=region, lapse_by=lapse_by)
        if sort in _FIGURES:
            statement = _by_figure(statement, as_of, sort, descending, lapsing_until)
        else:
            statement = statement.order_by(*_person_order(sort, descending))
        statement = statement.offset(offset)
        if limit is not None:
            statement = statement.limit(limit)
        async with self._read() as session:
            connection = await session.connection()  # Core rows: no ORM loading for a list of strings
            numbers = list((await connection.execute(statement)).scalars())
            total = len(numbers) if limit is None and not offset else (await connection.scalar(counted)) or 0
        return numbers, total

    async def any_unbooked(
        self, as_of: date, *, unit: str = "", region: str = "", lapse_by: date | None = None
    ) -> bool:
        """Whether anyone `listed` with these filters has no grant booked for the year of `as_of` yet."""
        statement, _counted = self._listing(as_of, unit=unit, region=region, lapse_by=lapse_by)
        sums = LEAVE_YEAR_SUMS.c
        statement = (
            statement.outerjoin(
                LEAVE_YEAR_SUMS, and_(sums.employee_id == EmployeeRow.id, sums.leave_year == as_of.year)
            )
            .where(func.coalesce(sums.granted, False).is_(False))
            .limit(1)
        )
        async with self._read() as session:
            connection = await session.connection()
            return (await connection.execute(statement)).first() is not None

    def _listing(
        self, as_of: date, *, unit: str, region: str, lapse_by: date | None
    ) -> tuple[Select[tuple[str]], Select[tuple[int]]]:
        """The personnel numbers `listed` filters, unsorted, and their count."""
        first, last = date(as_of.year, 1, 1), date(as_of.year, 12, 31)
        where: list[ColumnElement[bool]] = [_employed_between(first, last)]
        if unit:
            where.append(OrgUnitRow.name == unit)
        if region:
            country, _dash, subdivision = region.partition("-")
            where.append(EmployeeRow.country == country)
            if _dash:
                where.append(EmployeeRow.subdivision == subdivision)
                where.append(EmployeeRow.subdivision != "")
        statement = (
            select(EmployeeRow.personnel_number)
            .outerjoin(OrgUnitRow, OrgUnitRow.id == EmployeeRow.org_unit_id)
            .where(*where)
        )
        counted = (
            select(func.count())
            .select_from(EmployeeRow)
            .outerjoin(OrgUnitRow, OrgUnitRow.id == EmployeeRow.org_unit_id)
            .where(*where)
        )
        if lapse_by is not None:
            lapsing = _lapsing(as_of, lapse_by)
            statement = statement.join(lapsing, lapsing.c.employee_id == EmployeeRow.id).where(lapsing.c.lapsing > 0)
            counted = counted.join(lapsing, lapsing.c.employee_id == EmployeeRow.id).where(lapsing.c.lapsing > 0)
        return statement, counted

    async def choices(self, as_of: date) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The org units and the locations of the people listed on `as_of`: what the filters offer."""
        first, last = date(as_of.year, 1, 1), date(as_of.year, 12, 31)
        employed = _employed_between(first, last)
        async with self._read() as session:
            connection = await session.connection()
            units = (
                await connection.execute(
                    select(OrgUnitRow.name)
                    .distinct()
                    .join(EmployeeRow, EmployeeRow.org_unit_id == OrgUnitRow.id)
                    .where(employed, OrgUnitRow.name != "")
                )
            ).scalars()
            places = await connection.execute(
                select(EmployeeRow.country, EmployeeRow.subdivision).distinct().where(employed)
            )
            locations = {_location(country, subdivision) for country, subdivision in places}
        return tuple(sorted(units, key=str.casefold)), tuple(sorted(loc for loc in locations if loc))

    async def totals(self, as_of: date, personnel_numbers: Sequence[str] | None = None) -> ReportTotals:
        if personnel_numbers is None:
            return await self._totals(as_of, None)
        parts = [
            await self._totals(as_of, personnel_numbers[start : start + _CHUNK])
            for start in range(0, len(personnel_numbers), _CHUNK)
        ]
        return ReportTotals(
            employees=sum(p.employees for p in parts),
            entitlement=sum((p.entitlement for p in parts), ZERO),
            carried_over=sum((p.carried_over for p in parts), ZERO),
            taken=sum((p.taken for p in parts), ZERO),
            approved_upcoming=sum((p.approved_upcoming for p in parts), ZERO),
            pending=sum((p.pending for p in parts), ZERO),
            expired=sum((p.expired for p in parts), ZERO),
            remaining=sum((p.remaining for p in parts), ZERO),
            unbooked=tuple(n for p in parts for n in p.unbooked),
        )

    async def _totals(self, as_of: date, personnel_numbers: Sequence[str] | None) -> ReportTotals:
        """From the leave year sums of who is listed (one row each, kept by the database: migration 0020) in one
        statement with the head count, the pending days and how many have no grant booked yet; the bookings and
        expiries of the report date's month are split at the date from the ledger, reading the shorter side of
        the month (nothing on its last day). The personnel numbers of years not booked yet are read only if any."""
        first, last = date(as_of.year, 1, 1), date(as_of.year, 12, 31)
        listed = [_employed_between(first, last)]
        if personnel_numbers is not None:
            listed.append(EmployeeRow.personnel_number.in_(personnel_numbers))
        sums = LEAVE_YEAR_SUMS.c
        done, from_ledger, sign = _month_split(as_of)
        who = select(EmployeeRow.id).where(*listed)
        joined = (
            select()
            .select_from(EmployeeRow)
            .outerjoin(LEAVE_YEAR_SUMS, and_(sums.employee_id == EmployeeRow.id, sums.leave_year == as_of.year))
            .where(*listed)
        )
        statement = joined.add_columns(
            func.count(EmployeeRow.id),
            _total(sums.entitlement),
            _total(sums.carried_over),
            _total(*(sums[f"bookings_{slot:02d}"] for slot in done)),
            _total(*(sums[f"bookings_{slot:02d}"] for slot in YEAR_SLOTS if slot not in done)),
            _total(*(sums[f"expiries_{slot:02d}"] for slot in done)),
            func.count(case((func.coalesce(sums.granted, False).is_(False), 1))),
            _pending_total(first, last, who).scalar_subquery(),
        )
        async with self._read() as session:
            connection = await session.connection()
            count, entitlement, carried, bookings, later, expiries, unbooked, pending = (
                await connection.execute(statement)
            ).one()
            all_bookings = (bookings or ZERO) + (later or ZERO)
            if from_ledger[0] <= from_ledger[1]:
                month = (await connection.execute(_month_of_ledger(as_of, from_ledger, who))).one()
                bookings = (bookings or ZERO) + sign * (month[0] or ZERO)
                expiries = (expiries or ZERO) + sign * (month[1] or ZERO)
            numbers: tuple[str, ...] = ()
            if unbooked:
                ungranted = joined.add_columns(EmployeeRow.personnel_number).where(
                    func.coalesce(sums.granted, False).is_(False)
                )
                numbers = tuple((await connection.execute(ungranted)).scalars())
        entitlement, carried, pending = entitlement or ZERO, carried or ZERO, pending or ZERO
        taken, expired = -(bookings or ZERO), -(expiries or ZERO)
        upcoming = -all_bookings - taken
        return ReportTotals(
            employees=count,
            entitlement=entitlement,
            carried_over=carried,
            taken=taken,
            approved_upcoming=upcoming,
            pending=pending,
            expired=expired,
            remaining=entitlement + carried - taken - upcoming - expired - pending,
            unbooked=numbers,
        )

    async def _rows(
        self, as_of: date, personnel_numbers: Sequence[str] | None, lapse_by: date | None
    ) -> list[ReportRow]:
        first, last = date(as_of.year, 1, 1), date(as_of.year, 12, 31)
        only = None
        if personnel_numbers is not None:
            only = select(EmployeeRow.id).where(EmployeeRow.personnel_number.in_(personnel_numbers)).scalar_subquery()
        sums, pending = _ledger_sums(as_of, only), _pending_days(first, last, only)
        lapsing = _lapsing(as_of, lapse_by or as_of, only)
        statement = (
            select(
                *_row_person(),
                sums.c.entitlement,
                sums.c.carried_over,
                sums.c.taken,
                sums.c.upcoming,
                sums.c.expired,
                sums.c.booked,
                pending.c.pending,
                lapsing.c.lapsing if lapse_by is not None else literal(None, _SUM),
            )
            .outerjoin(OrgUnitRow, OrgUnitRow.id == EmployeeRow.org_unit_id)
            .outerjoin(sums, sums.c.employee_id == EmployeeRow.id)
            .outerjoin(pending, pending.c.employee_id == EmployeeRow.id)
            .where(_employed_between(first, last))
        )
        if lapse_by is not None:
            statement = statement.outerjoin(lapsing, lapsing.c.employee_id == EmployeeRow.id)
        if personnel_numbers is not None:
            statement = statement.where(EmployeeRow.personnel_number.in_(personnel_numbers))
        async with self._read() as session:
            connection = await session.connection()  # Core rows: no ORM loading
            result = (await connection.execute(statement)).all()
        return [_report_row(*row) for row in result]


async def _in_chunks(
    read: Callable[[date, Sequence[str] | None, date | None], Awaitable[list[ReportRow]]],
    as_of: date,
    personnel_numbers: Sequence[str] | None,
    lapse_by: date | None,
) -> list[ReportRow]:
    """`read` for everyone, or for `personnel_numbers` a chunk at a time (within every parameter limit)."""
    if personnel_numbers is None:
        return await read(as_of, None, lapse_by)
    rows: list[ReportRow] = []
    for start in range(0, len(personnel_numbers), _CHUNK):
        rows += await read(as_of, personnel_numbers[start : start + _CHUNK], lapse_by)
    return rows


def _row_person() -> tuple[InstrumentedAttribute[str], ...]:
    """The columns a report row begins with: who it is (`_report_row`'s first seven parameters)."""
    return (
        EmployeeRow.personnel_number,
        EmployeeRow.first_name,
        EmployeeRow.preferred_name,
        EmployeeRow.last_name,
        EmployeeRow.country,
        EmployeeRow.subdivision,
        OrgUnitRow.name,
    )


class casefold(GenericFunction[str]):  # noqa: N801 - a SQL function's name
    """A text folded for a case-insensitive sort that agrees with Python's `str.casefold` order: on SQLite the
    function the engine registers on every connection (`ess_casefold`), on PostgreSQL lower() in code point order."""

    type = String()
    inherit_cache = True


@compiles(casefold, "sqlite")
def _casefold_sqlite(element: casefold, compiler: Any, **kw: Any) -> str:
    return f"ess_casefold({compiler.process(element.clauses, **kw)})"


@compiles(casefold)
def _casefold_other(element: casefold, compiler: Any, **kw: Any) -> str:
    return f'lower({compiler.process(element.clauses, **kw)}) COLLATE "C"'


def _total(*columns: ColumnElement[Decimal]) -> ColumnElement[Decimal]:
    """The sum over the rows of the columns added up (nothing for no column)."""
    if not columns:
        return literal(ZERO, _SUM)
    return type_coerce(func.sum(_added(*columns)), _SUM)


def _month_split(as_of: date) -> tuple[range, tuple[date, date], int]:
    """The slots of the year sums wholly on or before `as_of`, the days of its month to read from the ledger (the
    days up to it, or those after it: whichever are fewer; none on the month's last day) and how they count: added
    to those slots, or taken off them (the slots then include the whole month)."""
    month_start = as_of.replace(day=1)
    month_end = date(as_of.year, 12, 31) if as_of.month == 12 else date(as_of.year, as_of.month + 1, 1) - _DAY
    if as_of - month_start < month_end - as_of:
        return range(as_of.month), (month_start, as_of), 1
    return range(as_of.month + 1), (as_of + _DAY, month_end), -1


def _pending_total(first: date, last: date, who: Select[Any]) -> Select[Any]:
    """The days of pending requests between `first` and `last` of the employees `who` selects."""
    day = LeaveRequestDayRow.__table__.c
    request = LeaveRequestRow.__table__.c
    return (
        select(type_coerce(func.sum(day.fraction), _SUM))
        .select_from(LeaveRequestDayRow.__table__)
        .join(LeaveRequestRow.__table__, request.id == day.request_id)
        .where(
            request.status == RequestStatus.PENDING.value, day.day.between(first, last), request.employee_id.in_(who)
        )
    )


def _month_of_ledger(as_of: date, days: tuple[date, date], who: Select[Any]) -> Select[Any]:
    """The bookings and expiries (as the ledger signs them) of the year's buckets of the employees `who` selects,
    dated between `days` (both included): the part of the report date's month the year sums cannot split."""
    ledger = LeaveLedgerRow.__table__.c
    bucket = LeaveBucketRow.__table__.c
    return (
        select(
            _sum_where(ledger.entry_type.in_(_BOOKING_TYPES), ledger.amount),
            _sum_where(ledger.entry_type.in_(_EXPIRY_TYPES), ledger.amount),
        )
        .select_from(LeaveLedgerRow.__table__)
        .join(LeaveBucketRow.__table__, and_(bucket.id == ledger.bucket_id, bucket.employee_id == ledger.employee_id))
        .where(ledger.effective_date.between(*days), bucket.leave_year == as_of.year, ledger.employee_id.in_(who))
    )


_FIGURES = ("entitlement", "carried_over", "taken", "approved_upcoming", "pending", "expired", "remaining", "lapsing")


def _by_figure(
    statement: Select[tuple[str]], as_of: date, sort: str, descending: bool, lapsing_until: date | None
) -> Select[tuple[str]]:
    """`statement` (over the employees) ordered by one figure of each row as `summed_rows` computes it, rounded to
    the cent (SQLite adds in floating point), then in the report's order; ties keep that order either way."""
    first, last = date(as_of.year, 1, 1), date(as_of.year, 12, 31)
    sums = LEAVE_YEAR_SUMS.c
    done, from_ledger, sign = _month_split(as_of)
    statement = statement.outerjoin(
        LEAVE_YEAR_SUMS, and_(sums.employee_id == EmployeeRow.id, sums.leave_year == as_of.year)
    )

    def zero_if_none(value: ColumnElement[Decimal]) -> ColumnElement[Decimal]:
        return func.coalesce(value, 0)

    bookings_done = zero_if_none(_added(*(sums[f"bookings_{slot:02d}"] for slot in done)))
    bookings_later = zero_if_none(_added(*(sums[f"bookings_{slot:02d}"] for slot in YEAR_SLOTS if slot not in done)))
    expiries_done = zero_if_none(_added(*(sums[f"expiries_{slot:02d}"] for slot in done)))
    month_bookings: ColumnElement[Decimal] = literal(0)
    month_expiries: ColumnElement[Decimal] = literal(0)
    if sort in {"taken", "approved_upcoming", "expired", "remaining"} and from_ledger[0] <= from_ledger[1]:
        month = _month_of_ledger_by_employee(as_of, from_ledger, None)
        statement = statement.outerjoin(month, month.c.employee_id == EmployeeRow.id)
        month_bookings, month_expiries = zero_if_none(month.c.bookings), zero_if_none(month.c.expiries)
    pending: ColumnElement[Decimal] = literal(0)
    if sort in {"pending", "remaining"}:
        days = _pending_days(first, last)
        statement = statement.outerjoin(days, days.c.employee_id == EmployeeRow.id)
        pending = zero_if_none(days.c.pending)
    entitlement, carried = zero_if_none(sums.entitlement), zero_if_none(sums.carried_over)
    taken = -(bookings_done + sign * month_bookings)
    expired = -(expiries_done + sign * month_expiries)
    upcoming = -(bookings_done + bookings_later) - taken
    figures: dict[str, ColumnElement[Decimal]] = {
        "entitlement": entitlement,
        "carried_over": carried,
        "taken": taken,
        "approved_upcoming": upcoming,
        "pending": pending,
        "expired": expired,
        "remaining": entitlement + carried - taken - upcoming - expired - pending,
    }
    if sort == "lapsing":
        lapsing = _lapsing(as_of, lapsing_until or as_of, name="lapsing_sort")  # beside a "lapses soon" filter's
        statement = statement.outerjoin(lapsing, lapsing.c.employee_id == EmployeeRow.id)
        figures["lapsing"] = zero_if_none(lapsing.c.lapsing)
    figure = func.round(figures[sort], 2)
    return statement.order_by(figure.desc() if descending else figure, *_person_order("org_unit", False))


def _month_of_ledger_by_employee(as_of: date, days: tuple[date, date], only: ScalarSelect[int] | None) -> Subquery:
    """`_month_of_ledger` per employee (of `only`, or everyone)."""
    ledger = LeaveLedgerRow.__table__.c
    bucket = LeaveBucketRow.__table__.c
    return (
        select(
            ledger.employee_id.label("employee_id"),
            _sum_where(ledger.entry_type.in_(_BOOKING_TYPES), ledger.amount).label("bookings"),
            _sum_where(ledger.entry_type.in_(_EXPIRY_TYPES), ledger.amount).label("expiries"),
        )
        .select_from(LeaveLedgerRow.__table__)
        .join(LeaveBucketRow.__table__, and_(bucket.id == ledger.bucket_id, bucket.employee_id == ledger.employee_id))
        .where(
            ledger.effective_date.between(*days),
            bucket.leave_year == as_of.year,
            *([ledger.employee_id.in_(only)] if only is not None else []),
        )
        .group_by(ledger.employee_id)
        .subquery("month")
    )


def _added(*columns: ColumnElement[Decimal]) -> ColumnElement[Decimal]:
    """The columns of one row added up (nothing for no column)."""
    if not columns:
        return literal(ZERO, _SUM)
    added: ColumnElement[Decimal] = columns[0]
    for column in columns[1:]:
        added = added + column
    return type_coerce(added, _SUM)


def _person_order(sort: str, descending: bool) -> list[ColumnElement[Any]]:
    """ORDER BY of `report._sorted` for a column of who is listed: the report's order (people without a unit
    last, unit, name, personnel number), led by the sorted column; a descending sort keeps ties in that order."""
    unit = func.coalesce(OrgUnitRow.name, "")
    name = (
        func.coalesce(func.nullif(EmployeeRow.preferred_name, ""), EmployeeRow.first_name) + " " + EmployeeRow.last_name
    )
    location = case(
        (EmployeeRow.subdivision == "", EmployeeRow.country),
        else_=EmployeeRow.country + "-" + EmployeeRow.subdivision,
    )
    report_order: list[ColumnElement[Any]] = [
        case((unit == "", 1), else_=0),
        casefold(unit),
        casefold(name),
        EmployeeRow.__table__.c.personnel_number,
    ]
    if sort == "org_unit":
        return [column.desc() for column in report_order] if descending else report_order
    lead = {
        "name": casefold(name),
        "personnel_number": casefold(EmployeeRow.personnel_number),
        "location": casefold(location),
    }[sort]
    return [lead.desc() if descending else lead, *report_order]


def _location(country: str, subdivision: str) -> str:
    return f"{country}-{subdivision}" if subdivision else country


def _lapsing(as_of: date, lapse_by: date, only: ScalarSelect[int] | None = None, *, name: str = "lapsing") -> Subquery:
    """Per employee, what is left in the buckets that lapse after `as_of` and by `lapse_by` (nothing of a bucket
    that is used up): every entry but the lapse itself counts, bookings ahead included."""
    ledger = LeaveLedgerRow.__table__.c
    bucket = LeaveBucketRow.__table__.c
    per_bucket = (
        select(bucket.employee_id.label("employee_id"), type_coerce(func.sum(ledger.amount), _SUM).label("rest"))
        .select_from(LeaveBucketRow.__table__)
        .join(LeaveLedgerRow.__table__, ledger.bucket_id == bucket.id)
        .where(
            ledger.entry_type != EntryType.EXPIRE.value,
            bucket.expires_on > as_of,
            bucket.expires_on <= lapse_by,
            *([bucket.employee_id.in_(only)] if only is not None else []),
        )
        .group_by(bucket.employee_id, bucket.id)
        .subquery("per_bucket")
    )
    return (
        select(
            per_bucket.c.employee_id,
            type_coerce(func.sum(case((per_bucket.c.rest > 0, per_bucket.c.rest), else_=0)), _SUM).label("lapsing"),
        )
        .group_by(per_bucket.c.employee_id)
        .subquery(name)
    )


def _employed_between(first: date, last: date) -> ColumnElement[bool]:
    return and_(EmployeeRow.hire_date <= last, or_(EmployeeRow.exit_date.is_(None), EmployeeRow.exit_date >= first))


def _display_name(first_name: str, preferred: str, last_name: str) -> str:
    # As Employee.display_name.
    return f"{preferred or first_name} {last_name}"


def _figures(as_of: date) -> list[ColumnElement[Decimal]]:
    """The ledger's sums by what each entry means, over buckets joined to their entries."""
    ledger = LeaveLedgerRow.__table__.c
    bucket = LeaveBucketRow.__table__.c
    amount = ledger.amount
    booking = ledger.entry_type.in_(_BOOKING_TYPES)
    return [
        _sum_where(and_(ledger.entry_type.in_(_ENTITLEMENT_TYPES), bucket.kind.in_(_ENTITLEMENT_KINDS)), amount).label(
            "entitlement"
        ),
        _sum_where(and_(ledger.entry_type.in_(_CARRY_TYPES), bucket.kind == BucketKind.CARRYOVER.value), amount).label(
            "carried_over"
        ),
        _sum_where(and_(booking, ledger.effective_date <= as_of), -amount).label("taken"),
        _sum_where(and_(booking, ledger.effective_date > as_of), -amount).label("upcoming"),
        _sum_where(and_(ledger.entry_type.in_(_EXPIRY_TYPES), ledger.effective_date <= as_of), -amount).label(
            "expired"
        ),
    ]


def _year_ledger(as_of: date, only: ScalarSelect[int] | None) -> Select[Any]:
    """From the year's buckets to their entries (the bucket_id index): older years are never read."""
    ledger = LeaveLedgerRow.__table__.c
    bucket = LeaveBucketRow.__table__.c
    return (
        select(*_figures(as_of))
        .select_from(LeaveBucketRow.__table__)
        .join(LeaveLedgerRow.__table__, and_(ledger.bucket_id == bucket.id, ledger.employee_id == bucket.employee_id))
        .where(bucket.leave_year == as_of.year, *([bucket.employee_id.in_(only)] if only is not None else []))
    )


def _ledger_sums(as_of: date, only: ScalarSelect[int] | None = None) -> Subquery:
    """Per employee, the ledger of the year of `as_of` summed by what each entry means."""
    bucket = LeaveBucketRow.__table__.c
    return (
        _year_ledger(as_of, only)
        .add_columns(
            bucket.employee_id.label("employee_id"),
            func.max(case((bucket.kind.in_(_GRANT_KINDS), 1), else_=0)).label("booked"),
        )
        .group_by(bucket.employee_id)
        .subquery("sums")
    )


def _pending_days(first: date, last: date, only: ScalarSelect[int] | None = None) -> Subquery:
    """Per employee, the days of pending requests between `first` and `last`."""
    day = LeaveRequestDayRow.__table__.c
    request = LeaveRequestRow.__table__.c
    return (
        select(
            request.employee_id.label("employee_id"),
            type_coerce(func.sum(day.fraction), _SUM).label("pending"),
        )
        .select_from(LeaveRequestDayRow.__table__)
        .join(LeaveRequestRow.__table__, request.id == day.request_id)
        .where(
            request.status == RequestStatus.PENDING.value,
            day.day.between(first, last),
            *([request.employee_id.in_(only)] if only is not None else []),
        )
        .group_by(request.employee_id)
        .subquery("pending")
    )


def _report_row(  # noqa: PLR0917 - one result row of the statement above, column by column
    number: str,
    first_name: str,
    preferred: str,
    last_name: str,
    country: str,
    subdivision: str,
    unit: str | None,
    entitlement: Decimal | None,
    carried_over: Decimal | None,
    taken: Decimal | None,
    upcoming: Decimal | None,
    expired: Decimal | None,
    booked: int | None,
    pending_days: Decimal | None,
    lapsing: Decimal | None,
) -> ReportRow:
    entitlement, carried_over, taken = entitlement or ZERO, carried_over or ZERO, taken or ZERO
    upcoming, expired, pending_days = upcoming or ZERO, expired or ZERO, pending_days or ZERO
    return ReportRow(
        personnel_number=number,
        name=_display_name(first_name, preferred, last_name),
        org_unit=unit or "",
        location=_location(country, subdivision),
        entitlement=entitlement,
        carried_over=carried_over,
        taken=taken,
        approved_upcoming=upcoming,
        pending=pending_days,
        expired=expired,
        remaining=entitlement + carried_over - taken - upcoming - expired - pending_days,
        booked=bool(booked),
        lapsing=lapsing or ZERO,
    )


def _summed_row(  # noqa: PLR0917 - the sign, then one result row of `_summed_rows`, column by column
    sign: int,
    number: str,
    first_name: str,
    preferred: str,
    last_name: str,
    country: str,
    subdivision: str,
    unit: str | None,
    granted: bool | None,
    entitlement: Decimal | None,
    carried_over: Decimal | None,
    bookings_done: Decimal | None,
    bookings_later: Decimal | None,
    expiries_done: Decimal | None,
    month_bookings: Decimal | None,
    month_expiries: Decimal | None,
    pending_days: Decimal | None,
    lapsing: Decimal | None,
) -> ReportRow:
    """As `totals` reads the sums, for one employee: the month's part of the ledger added to or taken off the
    slots before it (`_month_split`); bookings and expiries carry the ledger's sign (negative)."""
    taken = -((bookings_done or ZERO) + sign * (month_bookings or ZERO))
    expired = -((expiries_done or ZERO) + sign * (month_expiries or ZERO))
    upcoming = -((bookings_done or ZERO) + (bookings_later or ZERO)) - taken
    row = (number, first_name, preferred, last_name, country, subdivision, unit, entitlement, carried_over)
    return _report_row(*row, taken, upcoming, expired, int(bool(granted)), pending_days, lapsing)
