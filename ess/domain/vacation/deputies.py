"""Deputies: a manager names a colleague who decides the team's leave requests for a period (holidays, illness).

Who can be named: another manager (someone with direct reports) under the same manager, or the manager's own
manager - the people a manager's decisions would go to anyway, and who have the manager role, so the decision
pages and API are open to them. While the period runs, the deputy sees the manager's waiting requests among their own
decisions, marked as deputy, and decides them; the audit trail names both.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.auth.caller import own_employee
from ess.domain.auth.model import Principal
from ess.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ess.domain.hr.model import Employee
from ess.domain.shared import Link, Notice
from ess.domain.vacation.model import Deputy, VacationPage
from ess.domain.vacation.ports import VacationDeps, VacationUnitOfWork
from ess.domain.vacation.requests import date_text

# A deputy is named for a holiday or an illness, not for good: at most this many days per entry.
MAX_DEPUTY_DAYS = 366


@dataclass(frozen=True, slots=True)
class NameDeputy:
    principal: Principal
    deputy: str  # the colleague's personnel number (one of `deputy_choices`)
    first_day: date
    last_day: date


@dataclass(frozen=True, slots=True)
class DeputyEntry:
    """A deputy entry as the manager or the deputy sees it."""

    entry: Deputy
    manager: Employee
    deputy: Employee
    active: bool  # the period runs today


def check_period(first_day: date, last_day: date, today: date) -> None:
    """The period of a deputy entry: not in the past, the last day not before the first, at most a year."""
    if first_day < today:
        raise InvalidInput(
            "The first day cannot lie in the past.", fields={"first_day": "in the past"}, rule="deputy_in_past"
        )
    if last_day < first_day:
        raise InvalidInput(
            "The last day cannot be before the first day.",
            fields={"last_day": "before the first day"},
            rule="deputy_end_before_start",
        )
    if (last_day - first_day).days >= MAX_DEPUTY_DAYS:
        raise InvalidInput(
            "A deputy is named for at most %(days)s days.",
            fields={"last_day": "too long"},
            rule="deputy_too_long",
            params={"days": MAX_DEPUTY_DAYS},
        )


def may_deputise(manager: Employee, candidate: Employee, managers: set[str], today: date) -> bool:
    """Whether `candidate` may be `manager`'s deputy: employed, not the manager, and either the manager's own manager
    or another manager (in `managers`: personnel numbers of everyone with direct reports) under the same manager."""
    if candidate.personnel_number == manager.personnel_number:
        return False
    if candidate.exit_date is not None and candidate.exit_date < today:
        return False
    if candidate.personnel_number == manager.manager_personnel_number:
        return True
    return (
        candidate.personnel_number in managers
        and manager.manager_personnel_number is not None
        and candidate.manager_personnel_number == manager.manager_personnel_number
    )


async def _candidates(manager: Employee, uow: VacationUnitOfWork, today: date) -> list[Employee]:
    links = await uow.employees.manager_links()  # personnel number -> their manager's, for everybody
    managers = {m for m in links.values() if m}
    wanted = sorted(n for n, boss in links.items() if n == manager.manager_personnel_number or (boss and n in managers))
    found = await uow.employees.by_personnel_numbers(wanted)
    return sorted(
        (e for e in found.values() if may_deputise(manager, e, managers, today)), key=lambda e: e.display_name
    )


async def _own_team_manager(principal: Principal, uow: VacationUnitOfWork) -> Employee:
    manager = await own_employee(principal, uow.employees)
    assert manager.id is not None
    if not await uow.employees.has_reports(manager.id):
        raise PermissionDenied("Only a manager with a team names a deputy.", rule="deputy_no_team")
    return manager


async def deputy_choices(principal: Principal, *, deps: VacationDeps) -> list[Employee]:
    """The colleagues the caller (a manager) may name as deputy; empty for someone without a team."""
    async with deps.new_uow().read_only() as uow:
        manager = await own_employee(principal, uow.employees)
        assert manager.id is not None
        if not await uow.employees.has_reports(manager.id):
            return []
        return await _candidates(manager, uow, deps.clock.today())


async def my_deputies(principal: Principal, *, deps: VacationDeps) -> list[DeputyEntry]:
    """The caller's deputy entries that are not over: those they named, and those naming them, by first day."""
    today = deps.clock.today()
    async with deps.new_uow().read_only() as uow:
        me = await own_employee(principal, uow.employees)
        assert me.id is not None
        named = await uow.vacation.deputies(current_on=today, manager_id=me.id)
        naming_me = await uow.vacation.deputies(current_on=today, deputy_id=me.id)
        entries = sorted({d.id: d for d in [*named, *naming_me]}.values(), key=lambda d: (d.first_day, d.id or 0))
        return [await _entry(d, uow, today) for d in entries]


async def _entry(deputy: Deputy, uow: VacationUnitOfWork, today: date) -> DeputyEntry:
    manager = await uow.employees.get(deputy.manager_id)
    colleague = await uow.employees.get(deputy.deputy_id)
    if manager is None or colleague is None:  # employees are never deleted while entries point at them
        raise NotFound("No such deputy entry.")
    return DeputyEntry(deputy, manager, colleague, deputy.active_on(today))


async def name_deputy(cmd: NameDeputy, *, deps: VacationDeps) -> DeputyEntry:
    """Name a deputy for a period (validated per field); the deputy is told."""
    today = deps.clock.today()
    async with deps.new_uow() as uow:
        manager = await _own_team_manager(cmd.principal, uow)
        assert manager.id is not None
        if not cmd.deputy.strip():
            raise InvalidInput("Please choose a deputy.", fields={"deputy": "missing"}, rule="deputy_missing")
        if cmd.deputy.strip() == manager.personnel_number:
            raise InvalidInput("You cannot be your own deputy.", fields={"deputy": "yourself"}, rule="deputy_self")
        chosen = next((e for e in await _candidates(manager, uow, today) if e.personnel_number == cmd.deputy), None)
        if chosen is None or chosen.id is None:
            raise InvalidInput(
                "Please choose a deputy from the list: another manager under your manager, or your manager.",
                fields={"deputy": "not a possible deputy"},
                rule="deputy_not_eligible",
            )
        check_period(cmd.first_day, cmd.last_day, today)
        await uow.vacation.lock_employee(manager.id)  # two entries at once cannot both pass the overlap check
        for other in await uow.vacation.deputies(current_on=cmd.first_day, manager_id=manager.id):
            if other.first_day <= cmd.last_day:
                clash = max(other.first_day, cmd.first_day)
                raise Conflict(
                    "You already have a deputy on %(date)s; end that entry first.",
                    fields={"first_day": clash.isoformat()},
                    rule="deputy_overlap",
                    params={"date": clash},
                )
        stored = await uow.vacation.add_deputy(
            Deputy(manager.id, chosen.id, cmd.first_day, cmd.last_day, deps.clock.now(), cmd.principal.login)
        )
        await uow.audit.add(_event(deps, cmd.principal, "leave.deputy_named", stored, chosen))
        await uow.commit()
    params = {"deputy": chosen.display_name, "manager": manager.display_name}
    params |= {"start": date_text(stored.first_day), "end": date_text(stored.last_day)}
    await deps.notifier.notify(Notice("leave_deputy_named", (chosen.work_email,), params, Link(VacationPage.TEAM)))
    return DeputyEntry(stored, manager, chosen, stored.active_on(today))


async def end_deputy(entry_id: int, *, principal: Principal, deps: VacationDeps) -> None:
    """The manager ends an entry: one that has not begun is deleted, a running one ends yesterday. Someone else's
    entry (or one that is over) does not exist for the caller."""
    today = deps.clock.today()
    async with deps.new_uow() as uow:
        manager = await own_employee(principal, uow.employees)
        entry = await uow.vacation.deputy(entry_id)
        if entry is None or entry.manager_id != manager.id or entry.last_day < today:
            raise NotFound("No such deputy entry.")
        colleague = await uow.employees.get(entry.deputy_id)
        ended = today - timedelta(days=1)
        await uow.vacation.end_deputy(entry_id, last_day=None if entry.first_day >= today else ended)
        deleted = entry.first_day >= today
        action = "leave.deputy_deleted" if deleted else "leave.deputy_ended"
        recorded = entry if deleted else replace(entry, last_day=ended)  # the day it really ended
        await uow.audit.add(_event(deps, principal, action, recorded, colleague))
        await uow.commit()


def _event(deps: VacationDeps, principal: Principal, action: str, entry: Deputy, deputy: Employee | None) -> AuditEvent:
    return AuditEvent(
        occurred_at=deps.clock.now(),
        actor=principal.login,
        action=action,
        outcome=Outcome.SUCCESS,
        target=f"leave_deputy:{entry.id}",
        details={
            "deputy": deputy.login if deputy else None,
            "first_day": entry.first_day.isoformat(),
            "last_day": entry.last_day.isoformat(),
        },
    )


async def acting_for(deputy: Employee, uow: VacationUnitOfWork, today: date) -> list[Employee]:
    """The managers whose deputy `deputy` is today, within the caller's unit of work."""
    if deputy.id is None:
        return []
    entries = await uow.vacation.deputies(current_on=today, deputy_id=deputy.id)
    managers = [await uow.employees.get(d.manager_id) for d in entries if d.active_on(today)]
    return [m for m in managers if m is not None and still_placed_to_deputise(m, deputy, today)]


def still_placed_to_deputise(manager: Employee, deputy: Employee, today: date) -> bool:
    """Whether a named deputy still stands where they were named from, by today's HR data: employed, and the
    manager's own manager or under the same manager. After a reorganisation an entry stops counting at once
    rather than at its last day."""
    if deputy.exit_date is not None and deputy.exit_date < today:
        return False
    boss = manager.manager_personnel_number
    return deputy.personnel_number == boss or (boss is not None and deputy.manager_personnel_number == boss)


async def active_deputies(uow: VacationUnitOfWork, today: date) -> dict[str, Employee]:
    """Managers' personnel numbers -> their deputy today (the first named, if periods were ever to overlap)."""
    result: dict[str, Employee] = {}
    for entry in await uow.vacation.deputies(current_on=today):
        if not entry.active_on(today):
            continue
        manager = await uow.employees.get(entry.manager_id)
        deputy = await uow.employees.get(entry.deputy_id)
        if manager is not None and deputy is not None and still_placed_to_deputise(manager, deputy, today):
            result.setdefault(manager.personnel_number, deputy)
    return result
