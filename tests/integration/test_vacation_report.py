"""The all-employee balance report against real databases: the same figures as compute_balance, CSV, bench data."""

from __future__ import annotations

import csv
import importlib.util
import io
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from ess.adapters.holidays_calendar import HolidaysCalendar
from ess.adapters.hr_files import read_hr_file
from ess.adapters.regions import HolidaysRegions
from ess.adapters.sql.database import create_engine, create_session_factory
from ess.adapters.sql.privacy import _delete_employees
from ess.adapters.sql.reports import SqlLeaveReport
from ess.adapters.sql.tables import LEAVE_YEAR_SUMS, YEAR_SLOTS, LeaveBucketRow, LeaveLedgerRow
from ess.adapters.sql.unit_of_work import SqlUnitOfWork
from ess.domain.auth.model import Principal
from ess.domain.errors import InvalidInput
from ess.domain.hr.model import Role
from ess.domain.hr_import.format import SourceRecord
from ess.domain.hr_import.importing import ImportEmployees, import_employees
from ess.domain.hr_import.ports import HrImportDeps
from ess.domain.types import EmployeeId
from ess.domain.vacation.balance import balance
from ess.domain.vacation.decisions import decide, decide_cancellation
from ess.domain.vacation.model import (
    ENTITLEMENT_TYPES,
    Bucket,
    BucketKind,
    EntryType,
    LedgerEntry,
    ReportRow,
    VacationPolicy,
    compute_balance,
)
from ess.domain.vacation.ports import VacationDeps
from ess.domain.vacation.report import (
    CSV_HEADER,
    FIGURE_SORTS,
    LAPSE_HORIZON_DAYS,
    MAX_PAGE_SIZE,
    PERSON_SORTS,
    ReportQuery,
    _sorted,
    _with_unbooked_entitlement,
    balance_report,
    balance_report_page,
    report_csv,
    to_csv,
)
from ess.domain.vacation.requests import RequestLeave, request_cancellation, request_leave
from ess.domain.vacation.year_end import close_year, expire_due, grant_year
from tests.fakes import FakeNotifier, FixedClock

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "ess" / "demo" / "company.csv"
TODAY = date(2026, 11, 22)
Booking = tuple[date, str, EntryType]  # effective date, amount, type


def _load_bench() -> ModuleType:
    # bench/ is not a package: load the script by path (registered first, as dataclasses look their module up).
    spec = importlib.util.spec_from_file_location("bench_vacation_report", ROOT / "bench" / "vacation_report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class World:
    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.factory = create_session_factory(self.engine)
        self.clock = FixedClock(datetime(2026, 11, 22, 9, 0, tzinfo=UTC))
        self.report = SqlLeaveReport(self.factory)

    @property
    def deps(self) -> VacationDeps:
        return VacationDeps(
            new_uow=self.uow,
            clock=self.clock,
            calendar=HolidaysCalendar(),
            notifier=FakeNotifier(),
            report=self.report,
            policy=VacationPolicy(),
        )

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.factory, self.clock)

    async def principal(self, login: str, *roles: Role) -> Principal:
        async with self.uow() as uow:
            employee = await uow.employees.by_login(login)
        assert employee is not None
        return Principal(login, employee.display_name, frozenset({Role.EMPLOYEE, *roles}), employee.id)

    async def request(self, login: str, start: date, end: date) -> int:
        request = await request_leave(
            RequestLeave(principal=await self.principal(login), start=start, end=end),
            deps=self.deps,
        )
        assert request.id is not None
        return request.id

    async def approve(self, request_id: int) -> None:
        hr = await self.principal("hanna.berger", Role.HR)
        await decide(request_id, approve=True, comment="", principal=hr, deps=self.deps)

    async def expected(self, as_of: date) -> list[ReportRow]:
        """compute_balance for every employee employed in the year, as a report row."""
        rows = []
        async with self.uow() as uow:
            employees = await uow.employees.by_personnel_numbers(sorted(await uow.employees.all_personnel_numbers()))
            for employee in employees.values():
                if not (employee.hire_date <= date(as_of.year, 12, 31)):
                    continue
                if employee.exit_date is not None and employee.exit_date < date(as_of.year, 1, 1):
                    continue
                assert employee.id is not None
                buckets = await uow.vacation.buckets(employee.id)
                b = compute_balance(
                    as_of,
                    buckets=buckets,
                    entries=await uow.vacation.entries(employee.id),
                    pending=await uow.vacation.requests(employee.id),
                )
                rows.append(
                    ReportRow(
                        personnel_number=employee.personnel_number,
                        name=employee.display_name,
                        org_unit=employee.org_unit.name if employee.org_unit else "",
                        location=f"{employee.location.country}-{employee.location.subdivision}",
                        entitlement=b.entitlement,
                        carried_over=b.carried_over,
                        taken=b.taken,
                        approved_upcoming=b.approved_upcoming,
                        pending=b.pending,
                        expired=b.expired,
                        remaining=b.remaining,
                        booked=any(
                            x.leave_year == as_of.year and x.kind in (BucketKind.STATUTORY, BucketKind.CONTRACTUAL)
                            for x in buckets
                        ),
                    )
                )
        return sorted(rows, key=lambda r: r.personnel_number)


async def _employee_id(world: World, login: str) -> EmployeeId:
    async with world.uow() as uow:
        employee = await uow.employees.by_login(login)
    assert employee is not None and employee.id is not None
    return employee.id


async def _book_by_hand(world: World, login: str, buckets: list[tuple[Bucket, list[Booking]]]) -> None:
    """Buckets and entries HR would book (carry-over, special leave, corrections), straight into the ledger."""
    async with world.uow() as uow:
        for bucket, entries in buckets:
            stored = await uow.vacation.add_bucket(bucket)
            assert stored.id is not None
            await uow.vacation.add_entries(
                [
                    LedgerEntry(
                        bucket_id=stored.id,
                        employee_id=bucket.employee_id,
                        effective_date=day,
                        amount=Decimal(amount),
                        entry_type=entry_type,
                        created_by=login,
                        created_at=world.clock.now(),
                    )
                    for day, amount, entry_type in entries
                ]
            )
        await uow.commit()


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    w = World(database_url)
    await import_employees(
        ImportEmployees(records=read_hr_file(DEMO), source_name="company.csv", actor="test"),
        deps=HrImportDeps(new_uow=w.uow, clock=w.clock, regions=HolidaysRegions(), notifier=FakeNotifier()),
    )
    # Anna: leave taken in spring, leave approved for December, a cancelled booking, a request over New Year.
    spring = await w.request("anna.schmidt", date(2026, 3, 9), date(2026, 3, 13))
    await w.approve(spring)
    december = await w.request("anna.schmidt", date(2026, 12, 14), date(2026, 12, 16))
    await w.approve(december)
    cancelled = await w.request("anna.schmidt", date(2026, 12, 1), date(2026, 12, 2))
    await w.approve(cancelled)
    anna = await w.principal("anna.schmidt")
    await request_cancellation(cancelled, principal=anna, deps=w.deps)
    hr = await w.principal("hanna.berger", Role.HR)
    await decide_cancellation(cancelled, approve=True, comment="", principal=hr, deps=w.deps)
    await w.request("anna.schmidt", date(2026, 12, 22), date(2027, 1, 9))

    # Maximilian: the year's grants first, then carry-over (partly taken, the rest lapsing on 31 March), special
    # leave with a correction, and last year's buckets that must not count in 2026.
    maximilian = await w.principal("maximilian.fischer")
    await balance(maximilian, TODAY, deps=w.deps)
    max_id = await _employee_id(w, "maximilian.fischer")
    await _book_by_hand(
        w,
        "hanna.berger",
        [
            (
                Bucket(max_id, BucketKind.CARRYOVER, 2026, date(2026, 1, 1), date(2026, 3, 31)),
                [(date(2026, 1, 1), "5.5", EntryType.CARRY_IN), (date(2026, 2, 1), "0.5", EntryType.ADJUST)],
            ),
            (
                Bucket(max_id, BucketKind.SPECIAL, 2026, date(2026, 1, 1)),
                [(date(2026, 5, 4), "2", EntryType.GRANT), (date(2026, 5, 5), "-0.5", EntryType.ADJUST)],
            ),
            (
                Bucket(max_id, BucketKind.STATUTORY, 2025, date(2025, 1, 1)),
                [(date(2025, 1, 1), "20", EntryType.GRANT), (date(2025, 12, 31), "-4", EntryType.CARRY_OUT)],
            ),
        ],
    )
    february = await w.request("maximilian.fischer", date(2026, 2, 9), date(2026, 2, 11))
    await w.approve(february)  # drawn from the carry-over bucket first (it expires soonest)
    carry = next(b for b in await _buckets(w, max_id) if b.kind is BucketKind.CARRYOVER)
    async with w.uow() as uow:
        assert carry.id is not None
        await uow.vacation.add_entries(
            [
                LedgerEntry(
                    bucket_id=carry.id,
                    employee_id=max_id,
                    effective_date=date(2026, 3, 31),
                    amount=Decimal(-3),
                    entry_type=EntryType.EXPIRE,
                    created_by="ess",
                    created_at=w.clock.now(),
                )
            ]
        )
        await uow.commit()
    await w.request("maximilian.fischer", date(2026, 12, 28), date(2026, 12, 30))

    # Jürgen only asks; Lea (Zürich) asks for half a week and gets it approved.
    await w.request("juergen.weiss", date(2026, 12, 7), date(2026, 12, 9))
    await w.approve(await w.request("lea.mueller", date(2026, 12, 7), date(2026, 12, 9)))
    yield w
    await w.engine.dispose()


async def _buckets(world: World, employee_id: EmployeeId) -> list[Bucket]:
    async with world.uow() as uow:
        return await uow.vacation.buckets(employee_id)


@pytest.mark.parametrize("as_of", [date(2026, 2, 10), date(2026, 3, 31), TODAY, date(2026, 12, 31), date(2027, 1, 10)])
async def test_the_report_says_what_compute_balance_says(world: World, as_of: date) -> None:
    expected = await world.expected(as_of)
    got = sorted(await world.report.rows(as_of), key=lambda r: r.personnel_number)
    assert got == expected
    # The world is rich enough for the comparison to mean something: every figure is non-zero somewhere.
    if as_of == TODAY:
        for figure in ("entitlement", "carried_over", "taken", "approved_upcoming", "pending", "expired"):
            assert any(getattr(row, figure) for row in got), figure
        anna = next(r for r in got if r.personnel_number == "P10011")
        # 30 days; 5 taken in March; 3 approved for December (the cancelled two came back); 7 pending in 2026.
        assert (anna.entitlement, anna.taken, anna.approved_upcoming, anna.pending) == tuple(
            map(Decimal, (30, 5, 3, 7))
        )
        assert anna.remaining == 15
        assert (anna.name, anna.org_unit, anna.location) == ("Anna Schmidt", "IT München", "DE-BY")


async def test_the_report_computes_the_entitlement_of_those_who_never_opened_the_year(world: World) -> None:
    # Katharina (30 days) and Johannes (30 days on a 3-day week: 18) never opened ESS in 2026; Theresa leaves on
    # 31.12.2026 (second half after the waiting period: the full year, BUrlG §5(1)c a contrario).
    stored = {r.personnel_number: r for r in await world.report.rows(TODAY)}
    assert not stored["P10001"].booked
    assert stored["P10001"].entitlement == 0  # the ledger holds nothing for her yet
    rows = {r.personnel_number: r for r in await balance_report(TODAY, deps=world.deps)}
    assert (rows["P10001"].entitlement, rows["P10001"].remaining) == (30, 30)
    assert rows["P10025"].entitlement == 18
    assert rows["P10024"].entitlement == 30
    assert rows["P10011"].entitlement == 30  # booked rows stay as booked
    # Nobody is left at 0: even Felix, who joined on 2.11.2026, has one full month (BUrlG §5(1)a: 2.5 -> 3).
    assert rows["P20027"].entitlement == 3
    assert [r.personnel_number for r in rows.values() if r.entitlement <= 0] == []
    # The report does not book anything: reading it writes no grant.
    assert not {r.personnel_number: r for r in await world.report.rows(TODAY)}["P10001"].booked


async def test_the_report_lists_who_was_employed_in_the_year(world: World) -> None:
    in_2026 = {r.personnel_number for r in await world.report.rows(date(2026, 6, 1))}
    in_2027 = {r.personnel_number for r in await world.report.rows(date(2027, 6, 1))}
    assert "P10024" in in_2026  # Theresa leaves on 31.12.2026
    assert "P10024" not in in_2027
    assert "P20027" in in_2026  # Felix joins on 2.11.2026
    assert len(in_2026) == 64


async def test_the_report_is_sorted_by_org_unit_and_name(world: World) -> None:
    rows = await balance_report(TODAY, deps=world.deps)
    keys = [(r.org_unit.casefold(), r.name.casefold()) for r in rows]
    assert keys == sorted(keys)
    assert len(rows) == 64


async def test_the_pages_of_the_report_are_the_report_cut_in_order(world: World) -> None:
    everyone = await balance_report(TODAY, deps=world.deps)
    pages = []
    offset = 0
    while True:
        page = await balance_report_page(TODAY, deps=world.deps, query=ReportQuery(offset=offset, limit=25))
        assert (page.total, page.offset, page.limit) == (64, offset, 25)
        pages.append(page.rows)
        if not page.has_next:
            break
        offset += 25
    assert [len(rows) for rows in pages] == [25, 25, 14]
    # Every row once, in the report's order, with the computed entitlement of who never opened the year.
    assert [row for rows in pages for row in rows] == everyone
    beyond = await balance_report_page(TODAY, deps=world.deps, query=ReportQuery(offset=64, limit=25))
    assert (beyond.rows, beyond.total, beyond.has_next) == ([], 64, False)


async def test_a_search_pages_only_the_rows_it_finds(world: World) -> None:
    page = await balance_report_page(TODAY, deps=world.deps, query=ReportQuery(search="  SCHMI ", limit=1))
    everyone = await balance_report(TODAY, deps=world.deps)
    found = [r for r in everyone if "schmi" in r.name.casefold()]  # Schmidt, Schmitt, Schmid
    assert page.total == len(found) >= 2
    assert page.rows == found[:1] and page.has_next
    by_unit = await balance_report_page(
        TODAY, deps=world.deps, query=ReportQuery(search="it münchen", limit=MAX_PAGE_SIZE)
    )
    assert {r.org_unit for r in by_unit.rows} == {"IT München"}
    assert by_unit.total == sum(1 for r in everyone if r.org_unit == "IT München")


async def test_the_report_sorts_by_any_column_filters_and_totals_every_filtered_row(world: World) -> None:
    everyone = await balance_report(TODAY, deps=world.deps)
    whole = await balance_report_page(TODAY, deps=world.deps, query=ReportQuery(limit=MAX_PAGE_SIZE))
    assert whole.totals is not None and whole.totals.employees == 64
    for figure in ("entitlement", "carried_over", "taken", "approved_upcoming", "pending", "expired", "remaining"):
        assert getattr(whole.totals, figure) == sum((getattr(r, figure) for r in everyone), Decimal(0)), figure
    # A figure sort reads every filtered row's figures; ties stay in the report's order.
    by_taken = await balance_report_page(TODAY, deps=world.deps, query=ReportQuery(sort="taken", descending=True))
    assert [r.taken for r in by_taken.rows] == sorted((r.taken for r in everyone), reverse=True)[:100]
    by_number = await balance_report_page(TODAY, deps=world.deps, query=ReportQuery(sort="personnel_number", limit=5))
    assert [r.personnel_number for r in by_number.rows] == sorted(r.personnel_number for r in everyone)[:5]
    # One unit, one region (or a whole country): the page and its totals hold only those.
    munich = ReportQuery(unit="IT München", limit=MAX_PAGE_SIZE)
    in_unit = await balance_report_page(TODAY, deps=world.deps, query=munich)
    expected = [r for r in everyone if r.org_unit == "IT München"]
    assert in_unit.rows == expected and in_unit.totals is not None
    assert (in_unit.totals.employees, in_unit.totals.remaining) == (len(expected), sum(r.remaining for r in expected))
    assert "IT München" in in_unit.units and "DE-BY" in in_unit.regions
    bavaria = await balance_report_page(TODAY, deps=world.deps, query=ReportQuery(region="DE-BY", limit=MAX_PAGE_SIZE))
    assert bavaria.rows == [r for r in everyone if r.location == "DE-BY"]
    swiss = await balance_report_page(TODAY, deps=world.deps, query=ReportQuery(region="CH", limit=MAX_PAGE_SIZE))
    assert swiss.rows and swiss.rows == [r for r in everyone if r.location.startswith("CH-")]
    with pytest.raises(InvalidInput):
        await balance_report_page(TODAY, deps=world.deps, query=ReportQuery(sort="salary"))


async def test_pages_sorted_by_the_database_are_the_people_sorted_in_python(world: World) -> None:
    # Without a search, a sort by who is listed is done by the database (only the page's numbers travel): every
    # such sort, both ways, with each filter, cuts the same rows as sorting every person in Python would.
    winter = date(2026, 1, 15)
    people = await world.report.people(winter, lapse_by=winter + timedelta(days=LAPSE_HORIZON_DAYS))
    everyone = await world.report.people(TODAY, lapse_by=TODAY)
    filters = [ReportQuery(), ReportQuery(unit="IT München"), ReportQuery(region="DE"), ReportQuery(region="DE-BY")]
    for sort in PERSON_SORTS:
        for descending in (False, True):
            for base in filters:
                query = replace(base, sort=sort, descending=descending, offset=3, limit=20, totals=True)
                page = await balance_report_page(TODAY, deps=world.deps, query=query)
                expected = _sorted([p for p in everyone if query.keeps(p)], query)
                assert [r.personnel_number for r in page.rows] == [p.personnel_number for p in expected[3:23]]
                assert page.total == len(expected) and page.totals is not None
                assert page.totals.employees == len(expected), (sort, descending, base)
    assert page.units == tuple(sorted({p.org_unit for p in everyone if p.org_unit}, key=str.casefold))
    assert page.regions == tuple(sorted({p.location for p in everyone}))
    # "Lapses soon" filtered by the database: the people whose carry-over lapses within the horizon.
    lapsing = await balance_report_page(winter, deps=world.deps, query=ReportQuery(lapses_soon=True))
    assert [r.personnel_number for r in lapsing.rows] == [
        p.personnel_number for p in _sorted([p for p in people if p.lapsing > 0], ReportQuery())
    ]
    assert lapsing.rows


async def test_pages_sorted_by_a_figure_are_the_ledger_rows_sorted_in_python(world: World) -> None:
    # A figure sort orders everyone by the year sums and reads the page's rows from the ledger: every figure, both
    # ways, with each filter, cuts the same rows (ties in the report's order) as sorting the ledger's rows would.
    for as_of in (TODAY, date(2026, 1, 15), date(2026, 12, 15)):
        lapse_by = as_of + timedelta(days=LAPSE_HORIZON_DAYS)
        rows = await _with_unbooked_entitlement(await world.report.rows(as_of, lapse_by=lapse_by), as_of, world.deps)
        filters = [
            ReportQuery(),
            ReportQuery(unit="IT München"),
            ReportQuery(region="DE"),
            ReportQuery(lapses_soon=True),
        ]
        for sort in FIGURE_SORTS:
            for descending in (False, True):
                for base in filters:
                    query = replace(base, sort=sort, descending=descending, offset=3, limit=20)
                    page = await balance_report_page(as_of, deps=world.deps, query=query)
                    expected = _sorted([r for r in rows if query.keeps(r)], query)
                    assert page.rows == expected[3:23], (as_of, sort, descending, base)
                    assert page.total == len(expected), (as_of, sort, descending, base)


async def test_the_database_sorts_by_each_figure_as_the_ledger_rows_sort_in_python(world: World) -> None:
    # `listed` with a figure sort: the figures as the ledger holds them (a year not booked yet has no entitlement
    # there), both ways, each filter, on days that split a month either way and the month's last day.
    for as_of in (TODAY, date(2026, 1, 15), date(2026, 12, 15), date(2026, 12, 16)):
        lapse_by = as_of + timedelta(days=LAPSE_HORIZON_DAYS)
        rows = await world.report.rows(as_of, lapse_by=lapse_by)
        assert any(not r.booked for r in rows) or as_of != TODAY
        for sort in (*FIGURE_SORTS, "expired"):
            for descending in (False, True):
                for unit, region, lapses in (("", "", False), ("IT München", "", False), ("", "DE", True)):
                    query = ReportQuery(unit=unit, region=region, lapses_soon=lapses, sort=sort, descending=descending)
                    numbers, total = await world.report.listed(
                        as_of,
                        unit=unit,
                        region=region,
                        lapse_by=lapse_by if lapses else None,
                        sort=sort,
                        descending=descending,
                        offset=2,
                        limit=25,
                        lapsing_until=lapse_by,
                    )
                    expected = _sorted([r for r in rows if query.keeps(r)], query)
                    assert numbers == [r.personnel_number for r in expected[2:27]], (as_of, sort, descending, unit)
                    assert total == len(expected)
    booked = await world.report.any_unbooked(TODAY)
    assert booked == any(not r.booked for r in await world.report.rows(TODAY))


async def test_lapses_soon_finds_the_carry_over_left_before_its_deadline(world: World) -> None:
    # Maximilian's carry-over (6 days, 3 taken in February) lapses on 31 March 2026: on 1 March 3 days lapse
    # within the 90 days; on 1 April it has lapsed (and the expiry entry itself never counts as left).
    march = await balance_report_page(date(2026, 3, 1), deps=world.deps, query=ReportQuery(lapses_soon=True))
    assert [(r.name, r.lapsing) for r in march.rows] == [("Max Fischer", Decimal(3))]
    assert march.lapse_by == date(2026, 5, 30) and march.total == 1
    april = await balance_report_page(date(2026, 4, 1), deps=world.deps, query=ReportQuery(lapses_soon=True))
    assert april.rows == [] and april.totals is not None and april.totals.employees == 0


async def test_the_csv_is_streamed_in_pieces_with_every_row(world: World) -> None:
    pieces = [piece async for piece in report_csv(TODAY, deps=world.deps, rows_per_piece=10)]
    assert len(pieces) == 1 + 7  # the header, then 64 rows ten at a time
    assert "".join(pieces) == to_csv(await balance_report(TODAY, deps=world.deps))


@pytest.mark.parametrize(("offset", "limit"), [(-1, 10), (0, 0), (0, MAX_PAGE_SIZE + 1)])
async def test_a_page_out_of_bounds_is_refused(world: World, offset: int, limit: int) -> None:
    with pytest.raises(InvalidInput):
        await balance_report_page(TODAY, deps=world.deps, query=ReportQuery(offset=offset, limit=limit))


async def test_the_report_as_csv(world: World) -> None:
    text = to_csv(await balance_report(TODAY, deps=world.deps))
    assert not text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert tuple(lines[0]) == CSV_HEADER
    assert len(lines) == 65
    anna = next(line for line in lines if line[0] == "P10011")
    assert anna[1:4] == ["Anna Schmidt", "IT München", "DE-BY"]
    assert anna[4:] == ["30.00", "0.00", "5.00", "3.00", "7.00", "0.00", "15.00"]
    zoe = next(line for line in lines if line[0] == "P10014")
    assert zoe[1] == "Zoë Lefèvre"
    assert text.encode().decode("utf-8") == text


def test_csv_format() -> None:
    rows = [
        ReportRow(
            "P1",
            "Müller; Hans",
            '=HYPERLINK("http://evil.example")',
            "AT-9",
            Decimal("27.5"),
            Decimal(0),
            -Decimal("0.00"),
            Decimal("1.25"),
            Decimal(0),
            Decimal(0),
            Decimal("-2.5"),
        )
    ]
    text = to_csv(rows)
    assert text.splitlines()[0] == ";".join(CSV_HEADER)
    assert text.endswith("\r\n")
    assert text.splitlines()[1] == (
        'P1;"Müller; Hans";"\'=HYPERLINK(""http://evil.example"")";AT-9;27.50;0.00;0.00;1.25;0.00;0.00;-2.50'
    )
    assert to_csv([]) == ";".join(CSV_HEADER) + "\r\n"


async def test_the_benchmark_world_is_reported_right(database_url: str) -> None:
    bench = _load_bench()
    world = World(database_url)
    try:
        built = await bench.build_world(world.engine, 50)
        assert built.employees == 50
        assert built.ledger_rows > 50 * 3 * 12
        as_of = bench.AS_OF
        rows = await balance_report(as_of, deps=world.deps)
        assert len(rows) == 50
        assert [r.org_unit for r in rows][-2:] == ["", ""]  # two without a unit, listed last
        assert sorted(rows, key=lambda r: r.personnel_number) == await world.expected(as_of)
        for figure in ("entitlement", "carried_over", "taken", "approved_upcoming", "pending", "expired"):
            assert sum(getattr(row, figure) for row in rows) > 0, figure
        # The app can go on writing after the bulk load with explicit ids (PostgreSQL sequences moved on).
        async with world.uow() as uow:
            employee = await uow.employees.by_login(rows[0].personnel_number.lower())
            assert employee is not None and employee.id is not None
            bucket = await uow.vacation.add_bucket(Bucket(employee.id, BucketKind.SPECIAL, 2026, date(2026, 1, 1)))
            assert bucket.id is not None and bucket.id > 50 * 3 * 3
            await uow.commit()
    finally:
        await world.engine.dispose()


# The report's totals come from the leave year sums the database keeps (migration 0020); the rows from the ledger.
# Days around the splits of the year sums: a month's first and last days, either side of booked leave.
SPLIT_DAYS = [
    date(2026, 1, 1),
    date(2026, 2, 10),
    date(2026, 3, 15),
    date(2026, 3, 31),
    date(2026, 4, 1),
    date(2026, 6, 16),
    TODAY,
    date(2026, 12, 1),
    date(2026, 12, 15),  # Anna's days of 14-16 December split, read up to the date
    date(2026, 12, 16),  # ... and read after it
    date(2026, 12, 31),
    date(2027, 1, 5),
]


@pytest.mark.parametrize("as_of", SPLIT_DAYS)
async def test_the_rows_from_the_year_sums_are_the_rows_from_the_ledger_on_any_day(world: World, as_of: date) -> None:
    # What a sort by a figure reads for everyone: every row, every figure, exactly as the ledger gives it.
    lapse_by = as_of + timedelta(days=LAPSE_HORIZON_DAYS)
    for by in (None, lapse_by):
        ledger = sorted(await world.report.rows(as_of, lapse_by=by), key=lambda r: r.personnel_number)
        summed = sorted(await world.report.summed_rows(as_of, lapse_by=by), key=lambda r: r.personnel_number)
        assert ledger and summed == ledger
        some = [r.personnel_number for r in ledger[::3]]
        assert sorted(await world.report.summed_rows(as_of, some, lapse_by=by), key=lambda r: r.personnel_number) == [
            r for r in ledger if r.personnel_number in some
        ]


@pytest.mark.parametrize("as_of", SPLIT_DAYS)
async def test_the_totals_are_the_rows_summed_on_any_day(world: World, as_of: date) -> None:
    rows = await world.report.rows(as_of)
    assert rows
    for some in (rows, rows[::3]):
        numbers = None if some is rows else [r.personnel_number for r in some]
        totals = await world.report.totals(as_of, numbers)
        assert totals.employees == len(some)
        for figure in ("entitlement", "carried_over", "taken", "approved_upcoming", "pending", "expired", "remaining"):
            assert getattr(totals, figure) == sum((getattr(r, figure) for r in some), Decimal(0)), (figure, numbers)
        assert sorted(totals.unbooked) == sorted(r.personnel_number for r in some if not r.booked)


async def _stored_year_sums(world: World) -> dict[tuple[int, int], tuple[object, ...]]:
    sums = LEAVE_YEAR_SUMS.c
    async with world.factory() as session:
        rows = (await session.execute(select(LEAVE_YEAR_SUMS))).all()
    return {
        (row.employee_id, row.leave_year): (
            bool(row.granted),
            row.entitlement,
            row.carried_over,
            tuple(row._mapping[sums[f"bookings_{s:02d}"]] for s in YEAR_SLOTS),
            tuple(row._mapping[sums[f"expiries_{s:02d}"]] for s in YEAR_SLOTS),
        )
        for row in rows
    }


async def _recounted_year_sums(world: World) -> tuple[dict[tuple[int, int], tuple[object, ...]], set[str], set[str]]:
    """The leave year sums counted again in Python from every bucket and ledger entry, by what the entries mean to
    compute_balance; and the entry types and bucket kinds seen."""
    bucket, ledger = LeaveBucketRow.__table__.c, LeaveLedgerRow.__table__.c
    async with world.factory() as session:
        buckets = (await session.execute(select(bucket.id, bucket.employee_id, bucket.kind, bucket.leave_year))).all()
        entries = (
            await session.execute(
                select(ledger.bucket_id, ledger.employee_id, ledger.effective_date, ledger.amount, ledger.entry_type)
            )
        ).all()
    zero = Decimal(0)
    counted: dict[tuple[int, int], list[Any]] = {}
    of_bucket = {}
    for bucket_id, employee_id, kind, year in buckets:
        of_bucket[bucket_id] = (employee_id, kind, year)
        row = counted.setdefault((employee_id, year), [False, zero, zero, [zero] * 14, [zero] * 14])
        row[0] = row[0] or kind in {BucketKind.STATUTORY, BucketKind.CONTRACTUAL}
    for bucket_id, employee_id, day, amount, entry_type in entries:
        owner, kind, year = of_bucket[bucket_id]
        if owner != employee_id:
            continue
        row = counted[employee_id, year]
        slot = 0 if day.year < year else 13 if day.year > year else day.month
        if entry_type in ENTITLEMENT_TYPES and kind != BucketKind.CARRYOVER:
            row[1] += amount
        if entry_type in {EntryType.CARRY_IN, EntryType.ADJUST} and kind == BucketKind.CARRYOVER:
            row[2] += amount
        if entry_type in {EntryType.TAKE, EntryType.REVERSE}:
            row[3][slot] += amount
        if entry_type in {EntryType.EXPIRE, EntryType.CARRY_OUT}:
            row[4][slot] += amount
    recounted = {key: (row[0], row[1], row[2], tuple(row[3]), tuple(row[4])) for key, row in counted.items()}
    return recounted, {e[4] for e in entries}, {b[2] for b in buckets}


async def _assert_year_sums_recount(world: World) -> set[str]:
    stored = await _stored_year_sums(world)
    recounted, types, kinds = await _recounted_year_sums(world)
    assert stored == recounted
    return types | kinds


async def test_the_year_sums_are_the_ledger_recounted_after_every_kind_of_write(world: World) -> None:
    """Bookings, cancellations, grants, HR changes, corrections, expiry, year end and erasure: after each, the rows
    the triggers keep are what a recount of the ledger gives (the world's own requests and grants first)."""
    seen = await _assert_year_sums_recount(world)
    lea = await _employee_id(world, "lea.mueller")
    # Every entry type in a bucket of every kind, dated before, in and after the year; a bucket with no entry.
    days = [date(2025, 12, 31), date(2026, 1, 1), date(2026, 6, 15), date(2026, 12, 31), date(2027, 1, 1)]
    await _book_by_hand(
        world,
        "hanna.berger",
        [
            (
                Bucket(lea, kind, 2026, date(2026, 1, 1)),
                [(days[n % len(days)], f"{n % 3 - 1}.5", entry_type) for n, entry_type in enumerate(EntryType)],
            )
            for kind in BucketKind
        ]
        + [(Bucket(lea, BucketKind.STATUTORY, 2028, date(2028, 1, 1)), [])],
    )
    seen |= await _assert_year_sums_recount(world)
    assert seen >= set(EntryType) | set(BucketKind)

    await grant_year(2026, deps=world.deps)  # the year of everyone who never opened it
    await _assert_year_sums_recount(world)

    # An HR change: Anna's contract gives more days, her open year is recomputed.
    records = [
        SourceRecord(r.position, {**r.values, "annual_leave_days": "28"})
        if r.values.get("login") == "anna.schmidt"
        else r
        for r in read_hr_file(DEMO)
    ]
    await import_employees(
        ImportEmployees(records=records, source_name="company.csv", actor="test"),
        deps=HrImportDeps(new_uow=world.uow, clock=world.clock, regions=HolidaysRegions(), notifier=FakeNotifier()),
    )
    anna = await _employee_id(world, "anna.schmidt")
    async with world.uow() as uow:
        assert EntryType.RECALC in {e.entry_type for e in await uow.vacation.entries(anna)}
    await _assert_year_sums_recount(world)

    await expire_due(date(2026, 4, 1), deps=world.deps)
    await _assert_year_sums_recount(world)
    await close_year(2026, deps=world.deps, force=True)
    before = await _stored_year_sums(world)
    await _assert_year_sums_recount(world)
    assert any(year == 2027 for _employee, year in before)

    # Erasure deletes an employee's ledger under a permit, then the employee (buckets and sums cascade).
    maximilian = await _employee_id(world, "maximilian.fischer")
    async with world.factory() as session, session.begin():
        await _delete_employees(session, [maximilian])
    after = await _stored_year_sums(world)
    assert not any(employee == maximilian for employee, _year in after)
    assert any(employee == maximilian for employee, _year in before)
    await _assert_year_sums_recount(world)


async def test_a_bucket_keeps_its_employee_kind_and_year(world: World) -> None:
    """The year sums follow inserts and deletes; a bucket moved to another year or kind would leave them wrong."""
    async with world.factory() as session:
        with pytest.raises(DBAPIError, match="fixed"):
            async with session.begin():
                await session.execute(update(LeaveBucketRow).values(leave_year=LeaveBucketRow.leave_year + 1))
