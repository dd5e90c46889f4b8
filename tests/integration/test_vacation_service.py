"""Leave requests against real databases: the DE-BY calendar, approval, the balance, and parallel requests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ess.adapters.holidays_calendar import HolidaysCalendar
from ess.adapters.hr_files import read_hr_file
from ess.adapters.regions import HolidaysRegions
from ess.adapters.sql.database import create_engine, create_session_factory
from ess.adapters.sql.reports import SqlLeaveReport
from ess.adapters.sql.unit_of_work import SqlUnitOfWork
from ess.domain.audit import AuditEvent, Outcome
from ess.domain.auth.model import Principal
from ess.domain.errors import Conflict, NotFound, PermissionDenied, PolicyViolation
from ess.domain.hr.model import Role, WorkPattern
from ess.domain.hr_import.importing import ImportEmployees, import_employees
from ess.domain.hr_import.ports import HrImportDeps
from ess.domain.shared import Notice, WriteNeeded
from ess.domain.types import EmployeeId
from ess.domain.vacation.adjustments import adjust
from ess.domain.vacation.balance import balance
from ess.domain.vacation.decisions import decide, pending_for_decision
from ess.domain.vacation.model import RequestStatus, VacationPolicy
from ess.domain.vacation.ports import VacationDeps
from ess.domain.vacation.requests import RequestLeave, request_leave, withdraw
from ess.domain.vacation.views import year_calendar
from ess.domain.vacation.year_end import CloseYearResult, close_year, expire_due, send_expiry_warnings
from tests.fakes import FakeNotifier, FixedClock

DEMO = Path(__file__).resolve().parents[2] / "ess" / "demo" / "company.csv"


class World:
    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.factory = create_session_factory(self.engine)
        self.clock = FixedClock(datetime(2026, 11, 22, 9, 0, tzinfo=UTC))
        self.calendar = HolidaysCalendar()
        self.notifier = FakeNotifier()

    @property
    def deps(self) -> VacationDeps:
        return VacationDeps(
            new_uow=self.uow,
            clock=self.clock,
            calendar=self.calendar,
            notifier=self.notifier,
            report=SqlLeaveReport(self.factory),
            policy=VacationPolicy(),
        )

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.factory, self.clock)

    async def principal(self, login: str, *roles: Role) -> Principal:
        async with self.uow() as uow:
            employee = await uow.employees.by_login(login)
            assert employee is not None
            manager = employee.id is not None and await uow.employees.has_reports(employee.id)
        found = {Role.EMPLOYEE, *roles, *([Role.MANAGER] if manager else [])}
        return Principal(login, employee.display_name, frozenset(found), employee.id)

    async def close(self, year: int) -> CloseYearResult:
        """close-year as HR runs it: once the year is over (the clock moves to 2 January if it is earlier)."""
        new_year = datetime(year + 1, 1, 2, 9, 0, tzinfo=UTC)
        if self.clock.now() < new_year:
            self.clock.advance(new_year - self.clock.now())
        return await close_year(year, deps=self.deps)

    async def request(self, who: Principal, start: date, end: date, **kwargs: bool) -> object:
        return await request_leave(
            RequestLeave(principal=who, start=start, end=end, **kwargs),  # type: ignore[arg-type]
            deps=self.deps,
        )


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    w = World(database_url)
    await import_employees(
        ImportEmployees(records=read_hr_file(DEMO), source_name="company.csv", actor="test"),
        deps=HrImportDeps(new_uow=w.uow, clock=w.clock, regions=HolidaysRegions(), notifier=FakeNotifier()),
    )
    yield w
    await w.engine.dispose()


async def test_anna_requests_christmas_and_markus_approves(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    markus = await world.principal("markus.weber")
    before = await balance(anna, date(2026, 11, 22), deps=world.deps)
    assert before.entitlement == Decimal(30)

    request = await request_leave(
        RequestLeave(principal=anna, start=date(2026, 12, 22), end=date(2027, 1, 9)),
        deps=world.deps,
    )
    # DE-BY: 14 weekdays minus 25.12., 1.1. and 6.1. (26.12. is a Saturday).
    assert request.total == Decimal(11)
    assert {d.day for d in request.days}.isdisjoint({date(2026, 12, 25), date(2027, 1, 1), date(2027, 1, 6)})
    pending = await balance(anna, date(2026, 11, 22), deps=world.deps)
    assert pending.pending == Decimal(7)  # 22.-31.12.2026: 8 weekdays minus 25.12.
    assert pending.remaining == before.remaining - 7

    assert [r.id for r, _ in await pending_for_decision(markus, deps=world.deps)] == [request.id]
    assert request.id is not None
    approved = await decide(request.id, approve=True, comment="Schöne Feiertage", principal=markus, deps=world.deps)
    assert approved.status is RequestStatus.APPROVED

    after = await balance(anna, date(2026, 11, 22), deps=world.deps)
    assert (after.pending, after.approved_upcoming, after.taken) == (0, 7, 0)
    assert after.remaining == before.remaining - 7
    on_new_year = await balance(anna, date(2027, 1, 10), deps=world.deps)
    assert on_new_year.taken == 4  # 4., 5., 7. and 8. January 2027 (1.1. and 6.1. are holidays)
    assert on_new_year.entitlement == 30
    # 2026 is not closed yet: its 23 unused days are projected into 2027 as close-year will carry them.
    assert (on_new_year.carried_over, on_new_year.projected_carried_over) == (23, 23)
    assert on_new_year.remaining == 30 + 23 - 4


async def test_double_booking_and_overdraft_are_refused(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    await world.request(anna, date(2026, 12, 1), date(2026, 12, 4))
    with pytest.raises(Conflict):
        await world.request(anna, date(2026, 12, 3), date(2026, 12, 8))
    with pytest.raises(PolicyViolation):
        await world.request(anna, date(2026, 6, 1), date(2026, 8, 31))


async def test_only_the_manager_decides_and_only_the_owner_withdraws(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    lea = await world.principal("lea.mueller")
    request = await world.request(anna, date(2026, 12, 14), date(2026, 12, 15))
    assert request.id is not None  # type: ignore[attr-defined]
    request_id: int = request.id  # type: ignore[attr-defined]
    with pytest.raises(PermissionDenied):  # her own request: she sees it, but does not decide it
        await decide(request_id, approve=True, comment="", principal=anna, deps=world.deps)
    with pytest.raises(NotFound):  # for anyone else it does not exist, like an unknown id
        await decide(request_id, approve=True, comment="", principal=lea, deps=world.deps)
    with pytest.raises(NotFound):
        await withdraw(request_id, principal=lea, deps=world.deps)
    withdrawn = await withdraw(request_id, principal=anna, deps=world.deps)
    assert withdrawn.status is RequestStatus.WITHDRAWN
    again = await world.request(anna, date(2026, 12, 14), date(2026, 12, 15))  # the days are free again
    assert again.status is RequestStatus.PENDING  # type: ignore[attr-defined]


async def test_hr_may_decide_everyone(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    hanna = await world.principal("hanna.berger", Role.HR)
    request = await world.request(anna, date(2026, 12, 10), date(2026, 12, 10), start_half=True)
    assert request.total == Decimal("0.5")  # type: ignore[attr-defined]
    decided = await decide(request.id, approve=False, comment="Inventur", principal=hanna, deps=world.deps)  # type: ignore[attr-defined]
    assert decided.status is RequestStatus.REJECTED


async def test_parallel_requests_never_overdraw(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    start = await balance(anna, date(2026, 1, 1), deps=world.deps)
    weeks = (
        [(date(2026, 2, 2 + 7 * i), date(2026, 2, 6 + 7 * i)) for i in range(3)]
        + [(date(2026, 3, 2 + 7 * i), date(2026, 3, 6 + 7 * i)) for i in range(4)]
        + [(date(2026, 5, 4 + 7 * i), date(2026, 5, 8 + 7 * i)) for i in range(3)]
    )
    # Ten different weeks plus ten requests for the same week: 20 parallel requests, 100 days wanted, 30 available.
    attempts = weeks + [(date(2026, 9, 7), date(2026, 9, 11))] * 10
    results = await asyncio.gather(*(world.request(anna, s, e) for s, e in attempts), return_exceptions=True)
    unexpected = [r for r in results if isinstance(r, BaseException) and not isinstance(r, Conflict | PolicyViolation)]
    assert unexpected == []
    accepted = [r for r in results if not isinstance(r, BaseException)]
    after = await balance(anna, date(2026, 1, 1), deps=world.deps)
    assert after.remaining >= 0
    assert sum(r.total for r in accepted) == start.remaining - after.remaining  # type: ignore[attr-defined]
    assert sum(r.total for r in accepted) <= start.remaining  # type: ignore[attr-defined]
    booked_days = [d.day for r in accepted for d in r.days]  # type: ignore[attr-defined]
    assert len(booked_days) == len(set(booked_days))  # no day twice


async def test_fifty_concurrent_first_views_and_requests_grant_once_and_never_overdraw(world: World) -> None:
    """The year is opened by 25 balance views and 25 leave requests at the same moment: it is granted once, every
    view shows the same entitlement, and the accepted requests fit into it."""
    anna = await world.principal("anna.schmidt")
    views = [balance(anna, date(2027, 1, 4), deps=world.deps) for _ in range(25)]
    weeks = [(date(2027, 2, 1) + timedelta(weeks=i), date(2027, 2, 5) + timedelta(weeks=i)) for i in range(25)]
    asks = [world.request(anna, start, end) for start, end in weeks]
    results = await asyncio.gather(*views, *asks, return_exceptions=True)
    unexpected = [r for r in results if isinstance(r, BaseException) and not isinstance(r, Conflict | PolicyViolation)]
    assert unexpected == []
    seen = {r.entitlement for r in results[:25] if not isinstance(r, BaseException)}  # type: ignore[attr-defined]
    assert seen == {Decimal(30)}
    accepted = [r for r in results[25:] if not isinstance(r, BaseException)]
    assert 0 < sum(r.total for r in accepted) <= 30  # type: ignore[attr-defined]
    after = await balance(anna, date(2027, 1, 4), deps=world.deps)
    assert after.entitlement == 30
    assert after.remaining >= 0
    grants = [e for e in after.entries if e.entry_type.value in {"grant", "pro_rata_grant", "recalc"}]
    assert len(grants) == 2  # statutory and contractual, once each


async def test_the_ledger_is_append_only(world: World, database_url: str) -> None:
    anna = await world.principal("anna.schmidt")
    await balance(anna, date(2026, 11, 22), deps=world.deps)  # grants the year
    for statement in ("UPDATE leave_ledger SET amount = 99", "DELETE FROM leave_ledger"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with world.engine.begin() as connection:
                await connection.execute(text(statement))


async def test_close_year_carries_over_with_and_without_a_warning(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    markus = await world.principal("markus.weber")
    tobias = await world.principal("tobias.huber")
    for who in (anna, markus, tobias):
        await balance(who, date(2026, 11, 22), deps=world.deps)  # grants 2026
    mails = RecordingNotifier()
    # Everyone in Germany with days left is warned (tobias works in Wien: Austrian law, no such duty here).
    sent = await send_expiry_warnings(2026, deps=replace(world.deps, notifier=mails))
    assert sent >= 2
    assert all(not n.to[0].startswith("tobias") for n in mails.notices)
    anna_mail = next(n for n in mails.notices if n.to == ("anna.schmidt@example-ess.test",))
    assert anna_mail.params["days"] == "30"
    assert anna_mail.params["deadline"] == "31.03.2027"

    first = await world.close(2026)
    assert first.carried >= 3
    assert first.waiting == []
    assert (await world.close(2026)).carried == 0  # idempotent

    anna_2027 = await balance(anna, date(2027, 1, 15), deps=world.deps)
    assert anna_2027.carried_over == 30
    assert anna_2027.carry_over_expires_on == date(2027, 3, 31)
    assert anna_2027.carry_over_lapsing == 30
    assert anna_2027.remaining == 60
    tobias_2027 = await balance(tobias, date(2027, 1, 15), deps=world.deps)
    assert tobias_2027.carry_over_expires_on == date(2028, 12, 31)  # AT: UrlG §4(5), two years

    lapsed = await expire_due(date(2027, 4, 1), deps=world.deps)
    assert lapsed >= 30
    after = await balance(anna, date(2027, 4, 1), deps=world.deps)
    assert (after.expired, after.remaining) == (30, 30)
    assert await expire_due(date(2027, 4, 1), deps=world.deps) == 0  # idempotent


async def test_without_a_recorded_warning_german_leave_does_not_lapse(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    await balance(anna, date(2026, 11, 22), deps=world.deps)
    await world.close(2026)
    carried = await balance(anna, date(2027, 1, 15), deps=world.deps)
    assert carried.carried_over == 30
    assert carried.carry_over_expires_on is None  # EuGH C-684/16: no warning, no lapse
    await expire_due(date(2027, 4, 1), deps=world.deps)
    assert (await balance(anna, date(2027, 4, 1), deps=world.deps)).remaining == 60


class RecordingNotifier:
    def __init__(self) -> None:
        self.notices: list[Notice] = []

    async def notify(self, notice: Notice) -> None:
        self.notices.append(notice)


async def test_close_year_moves_the_net_balance_and_keeps_old_deadlines(world: World) -> None:
    hanna = await world.principal("hanna.berger", Role.HR)
    tobias = await world.principal("tobias.huber")
    anna = await world.principal("anna.schmidt")
    await balance(anna, date(2026, 11, 22), deps=world.deps)
    await adjust("P10011", 2026, Decimal(-2), "Urlaubsbescheinigung", principal=hanna, deps=world.deps)
    await balance(tobias, date(2026, 11, 22), deps=world.deps)
    await world.close(2026)
    assert (await balance(anna, date(2027, 1, 2), deps=world.deps)).carried_over == 28
    world.clock.advance(timedelta(days=365))  # late 2027: 2028 may be booked now
    await world.close(2027)
    later = await balance(tobias, date(2028, 1, 2), deps=world.deps)
    # The 2026 days keep their own Austrian deadline (UrlG §4(5)): end of 2028, not of 2029.
    assert later.carry_over_expires_on == date(2028, 12, 31)


async def test_carry_over_that_will_have_lapsed_cannot_pay_for_summer(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    await balance(anna, date(2026, 11, 22), deps=world.deps)
    await send_expiry_warnings(2026, deps=replace(world.deps, notifier=RecordingNotifier()))
    await world.close(2026)  # 30 days, usable until 31.3.2027
    with pytest.raises(PolicyViolation):
        await world.request(anna, date(2027, 6, 1), date(2027, 7, 30))  # 43 working days, 30 of 2027 usable
    accepted = await world.request(anna, date(2027, 2, 1), date(2027, 3, 12))  # 30 days, paid by the carry-over
    assert accepted.total == 30  # type: ignore[attr-defined]


async def test_a_closed_year_takes_no_more_requests_and_undecided_ones_block_closing(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    markus = await world.principal("markus.weber")
    waiting = await world.request(anna, date(2026, 12, 28), date(2026, 12, 30))
    blocked = await world.close(2026)
    assert "P10011" in blocked.waiting
    await decide(waiting.id, approve=True, comment="", principal=markus, deps=world.deps)  # type: ignore[attr-defined]
    assert "P10011" not in (await world.close(2026)).waiting
    with pytest.raises(PolicyViolation, match="closed"):
        await world.request(anna, date(2026, 12, 31), date(2026, 12, 31))
    assert (await balance(anna, date(2027, 1, 2), deps=world.deps)).carried_over == 27


async def test_a_read_runs_beside_a_writer_and_may_not_write(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    first = await balance(anna, date(2026, 6, 30), deps=world.deps)  # books the year: a writer
    async with world.uow() as writer:
        await writer.vacation.lock_employee(EmployeeId(anna.employee_id or 0))
        await writer.session.execute(text("SELECT 1"))  # SQLite: BEGIN IMMEDIATE holds the write lock from here
        # Neither a read-only transaction nor the balance waits for it (on SQLite it would, for lock_timeout).
        async with world.uow().read_only() as reader:
            assert await reader.employees.by_login("anna.schmidt") is not None
        again = await asyncio.wait_for(balance(anna, date(2026, 6, 30), deps=world.deps), timeout=20)
        assert (again.entitlement, again.taken, again.remaining) == (first.entitlement, first.taken, first.remaining)
    with pytest.raises(WriteNeeded):
        async with world.uow().read_only() as reader:
            await reader.audit.add(
                AuditEvent(world.clock.now(), actor="x", action="x", outcome=Outcome.SUCCESS, target="x")
            )
            await reader.commit()
    async with world.uow() as check:
        assert await check.audit.recent(actor="x") == []


async def test_the_first_view_of_a_year_books_it_once_under_parallel_reads(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    # Nobody opened 2027 yet: every one of these parallel reads finds it unbooked, and one of them books it.
    results = await asyncio.gather(*(balance(anna, date(2027, 3, 1), deps=world.deps) for _ in range(8)))
    assert len({r.entitlement for r in results}) == 1 and results[0].entitlement > 0
    async with world.uow() as uow:
        buckets = [b for b in await uow.vacation.buckets(EmployeeId(anna.employee_id or 0)) if b.leave_year == 2027]
    assert len(buckets) == len({b.kind for b in buckets})  # no grant twice


async def test_the_year_calendar_follows_a_pattern_change_within_the_year(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    async with world.uow() as uow:
        employee = await uow.employees.by_login("anna.schmidt")
        assert employee is not None
        changed = replace(
            employee,
            work_pattern=WorkPattern.first_days(3),
            work_pattern_since=date(2026, 7, 1),
        )
        await uow.employees.save_all([changed])
        await uow.commit()
    days = await year_calendar(anna, 2026, deps=world.deps)
    assert len(days) == 365
    async with world.uow() as uow:
        stored = await uow.employees.by_login("anna.schmidt")
    assert stored is not None and len(stored.pattern_history) == 2
    assert [d.working for d in days] == [stored.pattern_on(d.day).days[d.day.weekday()] > 0 for d in days]
    assert next(d for d in days if d.day == date(2026, 6, 26)).working  # a Friday on five days
    assert not next(d for d in days if d.day == date(2026, 7, 3)).working  # a Friday on three days
