"""Deputies, the substitute and the reminder job against real databases (SQLite and PostgreSQL): who may be named,
what a deputy sees and decides while the period runs (and not after), the audit trail, the hand-over."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, timedelta

import pytest

from ess.adapters.hr_files import read_hr_file
from ess.adapters.regions import HolidaysRegions
from ess.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ess.domain.hr_import.importing import ImportEmployees, import_employees
from ess.domain.hr_import.ports import HrImportDeps
from ess.domain.vacation.decisions import decide, decisions_waiting
from ess.domain.vacation.deputies import NameDeputy, deputy_choices, end_deputy, my_deputies, name_deputy
from ess.domain.vacation.model import RequestStatus, VacationPolicy
from ess.domain.vacation.reminders import remind_waiting
from ess.domain.vacation.requests import RequestLeave, request_leave
from tests.fakes import FakeNotifier
from tests.integration.test_vacation_service import DEMO, World

TODAY = date(2026, 11, 22)  # World's clock: a Sunday


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    w = World(database_url)
    await import_employees(
        ImportEmployees(records=read_hr_file(DEMO), source_name="company.csv", actor="test"),
        deps=HrImportDeps(new_uow=w.uow, clock=w.clock, regions=HolidaysRegions(), notifier=FakeNotifier()),
    )
    yield w
    await w.engine.dispose()


async def test_a_deputy_decides_for_the_absent_manager_only_while_the_period_runs(world: World) -> None:
    markus, julia = await world.principal("markus.weber"), await world.principal("julia.schneider")
    anna = await world.principal("anna.schmidt")
    # Another manager under the same manager, and one's own manager: nobody else.
    choices = [e.login for e in await deputy_choices(markus, deps=world.deps)]
    assert choices == ["florian.bauer", "hanna.berger", "julia.schneider", "stefan.hofmann"], choices
    assert await deputy_choices(anna, deps=world.deps) == []
    with pytest.raises(PermissionDenied):
        await name_deputy(NameDeputy(anna, "P10010", TODAY, TODAY), deps=world.deps)
    with pytest.raises(InvalidInput) as refused:
        await name_deputy(NameDeputy(markus, "P10012", TODAY, TODAY), deps=world.deps)  # a report of his
    assert (refused.value.where, refused.value.rule) == ("deputy", "deputy_not_eligible")
    with pytest.raises(InvalidInput) as refused:
        await name_deputy(NameDeputy(markus, "P10010", TODAY, TODAY), deps=world.deps)
    assert refused.value.rule == "deputy_self"

    named = await name_deputy(NameDeputy(markus, "P10020", TODAY, TODAY + timedelta(days=6)), deps=world.deps)
    assert named.active and named.deputy.login == "julia.schneider"
    told = world.notifier.notices[-1]
    assert (told.kind, told.to) == ("leave_deputy_named", ("julia.schneider@example-ess.test",))
    with pytest.raises(Conflict) as clash:
        await name_deputy(
            NameDeputy(markus, "P10002", TODAY + timedelta(days=6), TODAY + timedelta(days=9)), deps=world.deps
        )
    assert clash.value.rule == "deputy_overlap"
    assert [e.manager.login for e in await my_deputies(julia, deps=world.deps)] == ["markus.weber"]

    filed = await request_leave(
        RequestLeave(principal=anna, start=date(2026, 12, 7), end=date(2026, 12, 8), substitute="P10012"),
        deps=world.deps,
    )
    assert filed.substitute == "Max Fischer"
    waiting = await decisions_waiting(julia, deps=world.deps)
    assert [(w.request.id, w.on_behalf_of and w.on_behalf_of.login) for w in waiting] == [(filed.id, "markus.weber")]
    assert filed.id is not None
    approved = await decide(filed.id, approve=True, comment="", principal=julia, deps=world.deps)
    assert approved.status is RequestStatus.APPROVED and approved.decided_by == "julia.schneider"
    async with world.uow() as uow:
        events = [e for e in await uow.audit.recent(20) if e.action == "leave.approved"]
    assert events[0].actor == "julia.schneider"
    assert events[0].details["on_behalf_of"] == "markus.weber"

    # After the period the deputy decides nothing of the team's any more: the request does not exist for her.
    second = await request_leave(
        RequestLeave(principal=anna, start=date(2026, 12, 14), end=date(2026, 12, 14)), deps=world.deps
    )
    assert second.id is not None
    world.clock.advance(timedelta(days=7))
    assert await decisions_waiting(julia, deps=world.deps) == []
    with pytest.raises(NotFound):
        await decide(second.id, approve=True, comment="", principal=julia, deps=world.deps)


async def test_entries_end_or_vanish_and_only_their_manager_ends_them(world: World) -> None:
    markus, julia = await world.principal("markus.weber"), await world.principal("julia.schneider")
    running = await name_deputy(NameDeputy(markus, "P10020", TODAY, TODAY + timedelta(days=3)), deps=world.deps)
    later = await name_deputy(
        NameDeputy(markus, "P10002", TODAY + timedelta(days=10), TODAY + timedelta(days=12)), deps=world.deps
    )
    assert running.entry.id is not None and later.entry.id is not None
    with pytest.raises(NotFound):
        await end_deputy(running.entry.id, principal=julia, deps=world.deps)  # the deputy cannot end it
    world.clock.advance(timedelta(days=1))
    await end_deputy(running.entry.id, principal=markus, deps=world.deps)
    await end_deputy(later.entry.id, principal=markus, deps=world.deps)
    assert await my_deputies(markus, deps=world.deps) == []  # the running one ended yesterday, the later is gone
    async with world.uow() as uow:
        assert (await uow.vacation.deputy(running.entry.id)) is not None
        assert (await uow.vacation.deputy(later.entry.id)) is None
        events = [e for e in await uow.audit.recent(10) if e.action.startswith("leave.deputy")]
    actions = [e.action for e in events]
    assert sorted(actions) == ["leave.deputy_deleted", "leave.deputy_ended", "leave.deputy_named", "leave.deputy_named"]
    [ended] = [e for e in events if e.action == "leave.deputy_ended"]
    assert ended.details["last_day"] == TODAY.isoformat()  # the day it really ended (yesterday by then), not as planned


async def test_an_unknown_substitute_is_refused_beside_the_field(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    for value in ("Katharina Vogt", "P10001", "somebody"):  # not of Anna's team
        with pytest.raises(InvalidInput) as refused:
            await request_leave(
                RequestLeave(principal=anna, start=date(2026, 12, 7), end=date(2026, 12, 7), substitute=value),
                deps=world.deps,
            )
        assert (refused.value.where, refused.value.rule) == ("substitute", "leave_substitute_unknown")
    async with world.uow() as uow:
        assert anna.employee_id is not None
        requests, mates = await uow.vacation.requests_and_colleagues(anna.employee_id, TODAY)
    assert requests == [] and "Lukas Wagner" in [m.name for m in mates] and len(mates) == 6


async def test_remind_then_hand_to_the_deputy_once_each(world: World) -> None:
    markus, anna = await world.principal("markus.weber"), await world.principal("anna.schmidt")
    deps = replace(world.deps, policy=VacationPolicy(remind_after_days=3, escalate_after_days=7))
    await request_leave(RequestLeave(principal=anna, start=date(2026, 12, 14), end=date(2026, 12, 14)), deps=deps)
    await name_deputy(NameDeputy(markus, "P10020", TODAY + timedelta(days=5), TODAY + timedelta(days=9)), deps=deps)
    world.clock.advance(timedelta(days=3))
    first = await remind_waiting(deps=deps)
    assert (first.reminded, first.handed_over, first.escalated) == (1, 0, 0)
    assert world.notifier.notices[-1].to == ("markus.weber@example-ess.test",)
    assert (await remind_waiting(deps=deps)).reminded == 0  # a second run sends nothing twice
    world.clock.advance(timedelta(days=4))
    before = len(world.notifier.notices)
    handed = await remind_waiting(deps=deps)
    assert (handed.reminded, handed.handed_over, handed.escalated) == (0, 1, 0)
    assert [(n.kind, n.to) for n in world.notifier.notices[before:]] == [
        ("leave_waiting_deputy", ("julia.schneider@example-ess.test",))
    ]
    again = await remind_waiting(deps=deps)
    assert (again.reminded, again.handed_over, again.escalated) == (0, 0, 0)
    async with world.uow() as uow:
        actions = [e.action for e in await uow.audit.recent(10) if e.action.startswith("leave.waiting")]
    assert sorted(actions) == ["leave.waiting_handover", "leave.waiting_remind"]
