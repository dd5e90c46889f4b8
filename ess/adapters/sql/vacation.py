"""The leave ledger, buckets and requests in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    bindparam,
    cast,
    delete,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ess.adapters.sql.combined import padded_union, split
from ess.adapters.sql.database import READ_ONLY, select_rows
from ess.adapters.sql.repositories import SqlEmployeeRepository, chunks
from ess.adapters.sql.tables import (
    CalendarTokenRow,
    EmployeeRow,
    ExpiryWarningRow,
    LeaveBucketRow,
    LeaveDeputyRow,
    LeaveLedgerRow,
    LeaveReminderRow,
    LeaveRequestDayRow,
    LeaveRequestRow,
    LeaveYearClosureRow,
)
from ess.domain.errors import Conflict
from ess.domain.hr.model import Employee
from ess.domain.types import EmployeeId
from ess.domain.vacation.law_de import ExpiryWarning
from ess.domain.vacation.model import (
    ACTIVE_STATUSES,
    Bucket,
    BucketKind,
    Colleague,
    Deputy,
    EntryType,
    LeaveDay,
    LeaveRequest,
    LedgerEntry,
    ReminderStage,
    RequestStatus,
)

_BUCKET = LeaveBucketRow.__table__.c
_ENTRY = LeaveLedgerRow.__table__.c
_CLOSURE = LeaveYearClosureRow.__table__.c
_REQUEST = LeaveRequestRow.__table__.c
_DAY = LeaveRequestDayRow.__table__.c
_BUCKET_COLUMNS = (
    _BUCKET.id,
    _BUCKET.employee_id,
    _BUCKET.kind,
    _BUCKET.leave_year,
    _BUCKET.valid_from,
    _BUCKET.expires_on,
)
_ENTRY_COLUMNS = (
    _ENTRY.bucket_id,
    _ENTRY.employee_id,
    _ENTRY.effective_date,
    _ENTRY.amount,
    _ENTRY.entry_type,
    _ENTRY.created_by,
    _ENTRY.created_at,
    _ENTRY.reason,
    _ENTRY.request_id,
    _ENTRY.id,
)
_OWNER: BindParameter[int] = bindparam("employee_id")
# Built once, run with bound parameters: SQLAlchemy neither rebuilds nor re-keys them per request.
_BUCKETS = select(*_BUCKET_COLUMNS).where(_BUCKET.employee_id == _OWNER)
_ENTRIES = select(*_ENTRY_COLUMNS).where(_ENTRY.employee_id == _OWNER)
# The buckets, the entries and the closed years of one employee in one statement (bring_up_to_date reads all three).
_LEDGER = padded_union(
    [
        (_BUCKET_COLUMNS, [_BUCKET.employee_id == _OWNER]),
        (_ENTRY_COLUMNS, [_ENTRY.employee_id == _OWNER]),
        ((_CLOSURE.leave_year,), [_CLOSURE.employee_id == _OWNER]),
    ]
)
_LEDGER_WIDTHS = (len(_BUCKET_COLUMNS), len(_ENTRY_COLUMNS), 1)
# A request with its days in one statement (a request without days yields one row with NULL day columns).
_REQUEST_COLUMNS = (
    _REQUEST.id,
    _REQUEST.employee_id,
    _REQUEST.start_date,
    _REQUEST.end_date,
    _REQUEST.status,
    _REQUEST.created_at,
    _REQUEST.start_half,
    _REQUEST.end_half,
    _REQUEST.note,
    _REQUEST.substitute,
    _REQUEST.decided_by,
    _REQUEST.decided_at,
    _REQUEST.decision_comment,
    _DAY.day,
    _DAY.fraction,
)
_REQUESTS_WITH_DAYS = (
    select(*_REQUEST_COLUMNS)
    .select_from(LeaveRequestRow.__table__.outerjoin(LeaveRequestDayRow.__table__, _DAY.request_id == _REQUEST.id))
    .order_by(_REQUEST.id, _DAY.day)
)
_OWN_REQUESTS = _REQUESTS_WITH_DAYS.where(_REQUEST.employee_id == _OWNER)

# The caller's team colleagues: the other reports of their manager and their own reports, still employed.
_ME = EmployeeRow.__table__.alias("me")
_MATE = EmployeeRow.__table__.alias("mate")
_MATE_COLUMNS = (_MATE.c.personnel_number, _MATE.c.first_name, _MATE.c.preferred_name, _MATE.c.last_name)
_MATE_FILTER = (
    _MATE.c.id != _OWNER,
    or_(
        _MATE.c.manager_id == select(_ME.c.manager_id).where(_ME.c.id == _OWNER).scalar_subquery(),
        _MATE.c.manager_id == _OWNER,
    ),
    or_(_MATE.c.exit_date.is_(None), _MATE.c.exit_date >= bindparam("today")),
)
_COLLEAGUES = select(*_MATE_COLUMNS).where(*_MATE_FILTER)
# The caller's requests with their days and the colleagues, in one statement (the vacation page's form picks the
# substitute among them without a statement of its own): part 0 request rows, part 1 colleagues.
_REQUESTS_AND_COLLEAGUES = union_all(
    select(
        literal(0, Integer).label("part"),
        *_REQUEST_COLUMNS,
        *(cast(null(), c.type).label(f"mate_{i}") for i, c in enumerate(_MATE_COLUMNS)),
    )
    .select_from(LeaveRequestRow.__table__.outerjoin(LeaveRequestDayRow.__table__, _DAY.request_id == _REQUEST.id))
    .where(_REQUEST.employee_id == _OWNER),
    select(
        literal(1, Integer).label("part"),
        *(cast(null(), c.type).label(f"request_{i}") for i, c in enumerate(_REQUEST_COLUMNS)),
        *_MATE_COLUMNS,
    ).where(*_MATE_FILTER),
)


def _colleague(r: Sequence[Any]) -> Colleague:
    return Colleague(personnel_number=r[0], name=f"{r[2] or r[1]} {r[3]}")


def _bucket(r: Sequence[Any]) -> Bucket:
    return Bucket(EmployeeId(r[1]), BucketKind(r[2]), r[3], r[4], r[5], r[0])


def _entry(r: Sequence[Any]) -> LedgerEntry:
    return LedgerEntry(
        bucket_id=r[0],
        employee_id=EmployeeId(r[1]),
        effective_date=r[2],
        amount=Decimal(r[3]),
        entry_type=EntryType(r[4]),
        created_by=r[5],
        created_at=r[6],
        reason=r[7],
        request_id=r[8],
        id=r[9],
    )


def _requests(rows: Sequence[Sequence[Any]]) -> list[LeaveRequest]:
    """Requests from the rows of `_REQUESTS_WITH_DAYS` (one per day, ordered by request and day)."""
    heads: dict[int, Sequence[Any]] = {}
    days: dict[int, list[LeaveDay]] = {}
    for r in rows:
        heads.setdefault(r[0], r)
        if r[13] is not None:
            days.setdefault(r[0], []).append(LeaveDay(r[13], Decimal(r[14])))
    return [
        LeaveRequest(
            employee_id=EmployeeId(r[1]),
            start=r[2],
            end=r[3],
            days=tuple(days.get(request_id, [])),
            status=RequestStatus(r[4]),
            created_at=r[5],
            start_half=r[6],
            end_half=r[7],
            note=r[8],
            substitute=r[9],
            decided_by=r[10],
            decided_at=r[11],
            decision_comment=r[12],
            id=request_id,
        )
        for request_id, r in heads.items()
    ]


class SqlVacationRepository:
    def __init__(self, session: AsyncSession, employees: SqlEmployeeRepository) -> None:
        self._session = session
        self._employees = employees

    async def lock_employee(self, employee_id: EmployeeId) -> None:
        # PostgreSQL: a row lock held to the end of the transaction. SQLite: every writing transaction already holds
        # the database's write lock from its start (BEGIN IMMEDIATE, see database.py), so this is a no-op there.
        # A read-only unit of work cannot write (WriteNeeded) and reads one snapshot: it needs no lock, and must
        # not wait for writers.
        if self._session.info.get(READ_ONLY):
            return
        if self._session.bind.dialect.name == "postgresql":
            await self._session.execute(select(EmployeeRow.id).where(EmployeeRow.id == employee_id).with_for_update())

    async def buckets(self, employee_id: EmployeeId) -> list[Bucket]:
        rows = await select_rows(self._session, _BUCKETS.order_by(_BUCKET.id), {"employee_id": employee_id})
        return [_bucket(r) for r in rows]

    async def ledger(self, employee_id: EmployeeId) -> tuple[list[Bucket], list[LedgerEntry], set[int]]:
        rows = await select_rows(self._session, _LEDGER, {"employee_id": employee_id})
        buckets, entries, closed = split(rows, _LEDGER_WIDTHS)
        return (
            [_bucket(r) for r in sorted(buckets, key=lambda r: r[0])],
            [_entry(r) for r in sorted(entries, key=lambda r: r[9])],
            {r[0] for r in closed},
        )

    async def add_bucket(self, bucket: Bucket) -> Bucket:
        row = LeaveBucketRow(
            employee_id=bucket.employee_id,
            kind=bucket.kind.value,
            leave_year=bucket.leave_year,
            valid_from=bucket.valid_from,
            expires_on=bucket.expires_on,
        )
        self._session.add(row)
        await self._session.flush()
        return Bucket(bucket.employee_id, bucket.kind, bucket.leave_year, bucket.valid_from, bucket.expires_on, row.id)

    async def entries(self, employee_id: EmployeeId) -> list[LedgerEntry]:
        rows = await select_rows(self._session, _ENTRIES.order_by(_ENTRY.id), {"employee_id": employee_id})
        return [_entry(r) for r in rows]

    async def add_entries(self, entries: Sequence[LedgerEntry]) -> None:
        self._session.add_all(
            LeaveLedgerRow(
                bucket_id=e.bucket_id,
                employee_id=e.employee_id,
                effective_date=e.effective_date,
                amount=e.amount,
                entry_type=e.entry_type.value,
                request_id=e.request_id,
                created_by=e.created_by,
                created_at=e.created_at,
                reason=e.reason,
            )
            for e in entries
        )
        await self._session.flush()

    async def _load(self, statement: Select[Any], parameters: dict[str, Any] | None = None) -> list[LeaveRequest]:
        return _requests((await self._session.execute(statement, parameters)).all())

    async def requests(self, employee_id: EmployeeId) -> list[LeaveRequest]:
        return _requests(await select_rows(self._session, _OWN_REQUESTS, {"employee_id": employee_id}))

    async def colleagues(self, employee_id: EmployeeId, today: date) -> list[Colleague]:
        rows = await select_rows(self._session, _COLLEAGUES, {"employee_id": employee_id, "today": today})
        return sorted((_colleague(r) for r in rows), key=lambda c: c.name)

    async def requests_and_colleagues(
        self, employee_id: EmployeeId, today: date
    ) -> tuple[list[LeaveRequest], list[Colleague]]:
        rows = await select_rows(self._session, _REQUESTS_AND_COLLEAGUES, {"employee_id": employee_id, "today": today})
        width = len(_REQUEST_COLUMNS)
        requests = sorted((tuple(r[1 : 1 + width]) for r in rows if r[0] == 0), key=lambda r: (r[0], r[13] or date.min))
        mates = [_colleague(tuple(r[1 + width :])) for r in rows if r[0] == 1]
        return _requests(requests), sorted(mates, key=lambda c: c.name)

    async def request(self, request_id: int) -> LeaveRequest | None:
        found = await self._load(_REQUESTS_WITH_DAYS.where(_REQUEST.id == request_id))
        return found[0] if found else None

    async def add_request(self, request: LeaveRequest) -> LeaveRequest:
        row = LeaveRequestRow(
            employee_id=request.employee_id,
            start_date=request.start,
            end_date=request.end,
            start_half=request.start_half,
            end_half=request.end_half,
            status=request.status.value,
            note=request.note,
            substitute=request.substitute,
            created_at=request.created_at,
        )
        try:
            async with self._session.begin_nested():
                self._session.add(row)
                await self._session.flush()
                self._session.add_all(
                    LeaveRequestDayRow(
                        request_id=row.id, employee_id=request.employee_id, day=d.day, fraction=d.fraction, active=True
                    )
                    for d in request.days
                )
                await self._session.flush()
        except IntegrityError as exc:
            raise Conflict("You already have leave on some of these days.") from exc
        stored = await self.request(row.id)
        assert stored is not None
        return stored

    async def update_request(self, request: LeaveRequest, *, expected: RequestStatus) -> None:
        assert request.id is not None
        result = await self._session.execute(
            update(LeaveRequestRow)
            .where(LeaveRequestRow.id == request.id, LeaveRequestRow.status == expected.value)
            .values(
                status=request.status.value,
                decided_by=request.decided_by,
                decided_at=request.decided_at,
                decision_comment=request.decision_comment,
            )
        )
        if not getattr(result, "rowcount", 0):
            raise Conflict("The request was changed in the meantime.")
        await self._session.execute(
            update(LeaveRequestDayRow)
            .where(LeaveRequestDayRow.request_id == request.id)
            .values(active=request.status in ACTIVE_STATUSES)
        )

    async def closed_years(self, employee_id: EmployeeId) -> set[int]:
        years = await self._session.scalars(
            select(LeaveYearClosureRow.leave_year).where(LeaveYearClosureRow.employee_id == employee_id)
        )
        return set(years)

    async def mark_closed(self, employee_id: EmployeeId, leave_year: int, *, at: datetime, by: str) -> None:
        # Under the employee's lock (close-year takes it first): nobody else closes the same year meanwhile.
        if leave_year not in await self.closed_years(employee_id):
            self._session.add(
                LeaveYearClosureRow(employee_id=employee_id, leave_year=leave_year, closed_at=at, closed_by=by[:256])
            )
            await self._session.flush()

    async def warnings(self, employee_id: EmployeeId, leave_year: int) -> list[ExpiryWarning]:
        rows = await self._session.scalars(
            select(ExpiryWarningRow)
            .where(ExpiryWarningRow.employee_id == employee_id, ExpiryWarningRow.leave_year == leave_year)
            .order_by(ExpiryWarningRow.id)
        )
        return [ExpiryWarning(r.sent_on, Decimal(r.days_stated), r.deadline_stated) for r in rows]

    async def add_warning(
        self, employee_id: EmployeeId, leave_year: int, warning: ExpiryWarning, *, channel: str, recipient: str
    ) -> None:
        self._session.add(
            ExpiryWarningRow(
                employee_id=employee_id,
                leave_year=leave_year,
                sent_on=warning.sent_on,
                days_stated=warning.days_stated,
                deadline_stated=warning.deadline_stated,
                channel=channel,
                recipient=recipient,
                created_at=datetime.now(UTC),
            )
        )
        await self._session.flush()

    async def add_feed_token(self, employee_id: EmployeeId, token_hash: str, at: datetime) -> None:
        await self.revoke_feed_tokens(employee_id, at)
        self._session.add(CalendarTokenRow(employee_id=employee_id, token_hash=token_hash, created_at=at))
        await self._session.flush()

    async def revoke_feed_tokens(self, employee_id: EmployeeId, at: datetime) -> None:
        await self._session.execute(
            update(CalendarTokenRow)
            .where(CalendarTokenRow.employee_id == employee_id, CalendarTokenRow.revoked_at.is_(None))
            .values(revoked_at=at)
        )

    async def feed_owner(self, token_hash: str) -> EmployeeId | None:
        owner = await self._session.scalar(
            select(CalendarTokenRow.employee_id).where(
                CalendarTokenRow.token_hash == token_hash, CalendarTokenRow.revoked_at.is_(None)
            )
        )
        return EmployeeId(owner) if owner is not None else None

    async def pending_requests(self, *, manager_personnel_number: str | None) -> list[tuple[LeaveRequest, Employee]]:
        waiting = (RequestStatus.PENDING.value, RequestStatus.CANCELLATION_REQUESTED.value)
        where: list[ColumnElement[bool]] = [LeaveRequestRow.status.in_(waiting)]
        if manager_personnel_number is not None:
            manager_id = await self._session.scalar(
                select(EmployeeRow.id).where(EmployeeRow.personnel_number == manager_personnel_number)
            )
            reports = select(EmployeeRow.id).where(EmployeeRow.manager_id == manager_id)
            where.append(LeaveRequestRow.employee_id.in_(reports))
        requests = await self._load(_REQUESTS_WITH_DAYS.where(*where))
        result: list[tuple[LeaveRequest, Employee]] = []
        for request in requests:
            employee = await self._employees.get(request.employee_id)
            if employee is not None:
                result.append((request, employee))
        return sorted(result, key=lambda pair: pair[0].created_at)

    async def reminders_sent(self, request_ids: Sequence[int]) -> set[tuple[int, ReminderStage]]:
        sent: set[tuple[int, ReminderStage]] = set()
        for chunk in chunks(request_ids):
            rows = await self._session.execute(
                select(LeaveReminderRow.request_id, LeaveReminderRow.stage).where(
                    LeaveReminderRow.request_id.in_(chunk)
                )
            )
            sent |= {(request_id, ReminderStage(stage)) for request_id, stage in rows.tuples()}
        return sent

    async def add_reminder(self, request_id: int, stage: ReminderStage, at: datetime) -> None:
        self._session.add(LeaveReminderRow(request_id=request_id, stage=stage.value, sent_at=at))
        await self._session.flush()

    async def deputies(
        self, *, current_on: date, manager_id: EmployeeId | None = None, deputy_id: EmployeeId | None = None
    ) -> list[Deputy]:
        where: list[ColumnElement[bool]] = [LeaveDeputyRow.last_day >= current_on]
        if manager_id is not None:
            where.append(LeaveDeputyRow.manager_id == manager_id)
        if deputy_id is not None:
            where.append(LeaveDeputyRow.deputy_id == deputy_id)
        rows = await self._session.scalars(
            select(LeaveDeputyRow).where(*where).order_by(LeaveDeputyRow.first_day, LeaveDeputyRow.id)
        )
        return [_deputy(row) for row in rows]

    async def deputy(self, entry_id: int) -> Deputy | None:
        row = await self._session.get(LeaveDeputyRow, entry_id)
        return _deputy(row) if row is not None else None

    async def add_deputy(self, deputy: Deputy) -> Deputy:
        row = LeaveDeputyRow(
            manager_id=deputy.manager_id,
            deputy_id=deputy.deputy_id,
            first_day=deputy.first_day,
            last_day=deputy.last_day,
            created_at=deputy.created_at,
            created_by=deputy.created_by,
        )
        self._session.add(row)
        await self._session.flush()
        return _deputy(row)

    async def end_deputy(self, entry_id: int, *, last_day: date | None) -> None:
        if last_day is None:
            await self._session.execute(delete(LeaveDeputyRow).where(LeaveDeputyRow.id == entry_id))
        else:
            await self._session.execute(
                update(LeaveDeputyRow).where(LeaveDeputyRow.id == entry_id).values(last_day=last_day)
            )


def _deputy(row: LeaveDeputyRow) -> Deputy:
    return Deputy(
        manager_id=EmployeeId(row.manager_id),
        deputy_id=EmployeeId(row.deputy_id),
        first_day=row.first_day,
        last_day=row.last_day,
        created_at=row.created_at,
        created_by=row.created_by,
        id=row.id,
    )
