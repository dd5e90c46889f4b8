"""Use cases of the employee's own leave requests: request, list, withdraw, ask to cancel."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.auth.caller import own_employee
from ess.domain.auth.model import Principal
from ess.domain.errors import Conflict, InvalidInput, NotFound, PolicyViolation
from ess.domain.hr.model import Employee
from ess.domain.shared import Clock, Link, Notice
from ess.domain.vacation.balance import shortfall
from ess.domain.vacation.calendar import count, days_off_between, leave_days
from ess.domain.vacation.entitlement import accrual_complete_on, accrued_on, check_year
from ess.domain.vacation.model import (
    ACTIVE_STATUSES,
    LeaveDay,
    LeaveRequest,
    RequestStatus,
    VacationPage,
)
from ess.domain.vacation.ports import VacationDeps, VacationUnitOfWork
from ess.domain.vacation.recompute import bring_up_to_date

MAX_NOTE = 500


@dataclass(frozen=True, slots=True)
class RequestLeave:
    principal: Principal
    start: date
    end: date
    start_half: bool = False
    end_half: bool = False
    note: str = ""
    substitute: str = ""  # a team colleague's personnel number (or name), "" for none


def date_text(day: date) -> str:
    """A date as leave notices show it."""
    return day.strftime("%d.%m.%Y")


def days_text(value: Decimal) -> str:
    """A number of days as leave notices show it: 2, 1.5, never 2.0."""
    return format(value.normalize(), "f")


def leave_event(
    clock: Clock, principal: Principal, action: str, request: LeaveRequest, details: dict[str, str | int | bool | None]
) -> AuditEvent:
    """The audit event of something that happened to a leave request."""
    return AuditEvent(
        occurred_at=clock.now(),
        actor=principal.login,
        action=action,
        outcome=Outcome.SUCCESS,
        target=f"leave_request:{request.id}",
        details={"start": request.start.isoformat(), "end": request.end.isoformat(), **details},
    )


async def my_requests(principal: Principal, *, deps: VacationDeps) -> list[LeaveRequest]:
    async with deps.new_uow() as uow:
        employee = await own_employee(principal, uow.employees)
        assert employee.id is not None
        return sorted(await uow.vacation.requests(employee.id), key=lambda r: r.start, reverse=True)


async def request_leave(cmd: RequestLeave, *, deps: VacationDeps) -> LeaveRequest:
    """Validate against the working-day calendar, overlaps and the balance, then file a pending request."""
    if len(cmd.note) > MAX_NOTE:
        raise InvalidInput(
            "The note has at most %(max)s characters.",
            fields={"note": f"at most {MAX_NOTE} characters"},
            rule="leave_note_too_long",
            params={"max": MAX_NOTE},
        )
    async with deps.new_uow() as uow:
        employee = await own_employee(cmd.principal, uow.employees)
        assert employee.id is not None
        days = _working_days(cmd, employee, deps)
        substitute = await _substitute(employee, cmd.substitute.strip(), uow, deps.clock.today())
        # Everything below reads and then writes this employee's leave: one request at a time per employee.
        await uow.vacation.lock_employee(employee.id)
        await _check_against_ledger(employee, days, uow, deps)
        request = await uow.vacation.add_request(
            LeaveRequest(
                employee_id=employee.id,
                start=cmd.start,
                end=cmd.end,
                days=tuple(days),
                status=RequestStatus.PENDING,
                created_at=deps.clock.now(),
                start_half=cmd.start_half,
                end_half=cmd.end_half,
                note=cmd.note.strip(),
                substitute=substitute.display_name if substitute else "",
            )
        )
        await uow.audit.add(
            leave_event(deps.clock, cmd.principal, "leave.requested", request, {"days": str(count(days))})
        )
        managers = await uow.employees.by_personnel_numbers(
            [employee.manager_personnel_number] if employee.manager_personnel_number else []
        )
        await uow.commit()
    manager = next(iter(managers.values()), None)
    if manager is not None:
        params = {
            "manager": manager.display_name,
            "employee": employee.display_name,
            "start": date_text(request.start),
            "end": date_text(request.end),
            "days": days_text(request.total),
            "note": request.note,
        }
        await deps.notifier.notify(Notice("leave_requested", (manager.work_email,), params, Link(VacationPage.TEAM)))
    if substitute is not None:  # the colleague picked as substitute is told
        told = {"substitute": substitute.display_name, "employee": employee.display_name}
        told |= {"start": date_text(request.start), "end": date_text(request.end)}
        await deps.notifier.notify(
            Notice("leave_substitute", (substitute.work_email,), told, Link(VacationPage.CALENDAR))
        )
    return request


async def _substitute(employee: Employee, value: str, uow: VacationUnitOfWork, today: date) -> Employee | None:
    """The team colleague picked as substitute, by personnel number (or, as before, by name); None for none.
    Anyone else is refused beside the field."""
    assert employee.id is not None
    if not value:
        return None
    mates = await uow.vacation.colleagues(employee.id, today)
    picked = next((c for c in mates if value in {c.personnel_number, c.name}), None)
    found = await uow.employees.by_personnel_numbers([picked.personnel_number]) if picked else {}
    if picked is None or picked.personnel_number not in found:
        raise InvalidInput(
            "Please choose your substitute from your team.",
            fields={"substitute": "not a colleague"},
            rule="leave_substitute_unknown",
        )
    return found[picked.personnel_number]


def _working_days(cmd: RequestLeave, employee: Employee, deps: VacationDeps) -> list[LeaveDay]:
    """The working days the leave uses, by the employee's pattern and the location's days off."""
    back = deps.policy.backdate_days
    earliest = deps.clock.today() - timedelta(days=back or 0)
    if back is not None and cmd.start < earliest:
        raise InvalidInput(
            "Leave can be requested at most %(days)s days back, from %(date)s on; for earlier leave please ask HR.",
            fields={"start": "too far in the past"},
            rule="leave_too_far_in_past",
            params={"days": deps.policy.backdate_days, "date": earliest},
        )
    if cmd.start < employee.hire_date or (employee.exit_date and cmd.end > employee.exit_date):
        raise InvalidInput(
            "The leave lies outside your employment.",
            fields={"start": "outside employment"},
            rule="leave_outside_employment",
        )
    days = leave_days(
        cmd.start,
        cmd.end,
        pattern_on=employee.pattern_on,
        days_off=days_off_between(deps.calendar, employee.location, cmd.start, cmd.end),
        start_half=cmd.start_half,
        end_half=cmd.end_half,
    )
    if not days:
        raise InvalidInput(
            "There is no working day in this period: weekends, public holidays and your days off are not counted.",
            fields={"end": "no working day"},
            rule="leave_no_working_day",
        )
    return days


async def _check_against_ledger(
    employee: Employee, days: list[LeaveDay], uow: VacationUnitOfWork, deps: VacationDeps
) -> None:
    """No overlap with other requests, only open years, and enough leave (pending requests included), under the
    employee's lock."""
    assert employee.id is not None
    requests = await uow.vacation.requests(employee.id)
    booked = {d.day for r in requests if r.status in ACTIVE_STATUSES for d in r.days}
    if clash := sorted(d.day for d in days if d.day in booked):
        raise Conflict(
            "You already have leave or a request on %(date)s.",
            fields={"start": clash[0].isoformat()},
            rule="leave_overlap",
            params={"date": clash[0]},
        )
    years = sorted({d.day.year for d in days})
    for year in years:
        check_year(employee, year, deps.clock)
    ledger = await bring_up_to_date(employee, years, uow, deps.clock)
    if closed := sorted(set(years) & ledger.closed):
        raise PolicyViolation(
            "The leave year %(year)s is closed; please ask HR.",
            fields={"start": "year closed"},
            rule="leave_year_closed",
            params={"year": closed[0]},
        )
    waiting = [d for r in requests if r.status is RequestStatus.PENDING for d in r.days]
    short = shortfall(ledger.buckets, ledger.entries, [*waiting, *days])
    if short > deps.policy.allow_overdraft_days:
        wanted = count(days)
        raise PolicyViolation(
            "Not enough leave for these dates: %(covered)s of %(wanted)s days are covered.",
            fields={"end": f"{short} days more than available"},
            rule="leave_not_enough",
            params={"covered": wanted - short, "wanted": wanted},
        )
    _check_accrual(employee, [d for r in requests if r.status in ACTIVE_STATUSES for d in r.days], days, deps)


def _check_accrual(employee: Employee, booked: list[LeaveDay], days: list[LeaveDay], deps: VacationDeps) -> None:
    """Austria, UrlG §2(2): in the first six months of the year of entry a day of leave needs the claim to have
    arisen by that day: the leave taken, approved or requested up to each day stays within what has arisen."""
    every = sorted([*booked, *days], key=lambda d: d.day)
    for day in sorted(days, key=lambda d: d.day):
        arisen = accrued_on(employee, day.day)
        if arisen is None:
            continue
        used = count([d for d in every if d.day.year == day.day.year and d.day <= day.day])
        if used > arisen + deps.policy.allow_overdraft_days:
            raise PolicyViolation(
                "By %(date)s only %(days)s days of your leave have arisen (UrlG §2(2)); "
                "in your first months leave arises with each day worked, in full from %(complete)s.",
                fields={"start": f"{arisen} days arisen by {day.day.isoformat()}"},
                rule="leave_not_yet_arisen",
                params={"date": day.day, "days": arisen, "complete": accrual_complete_on(employee)},
            )


async def withdraw(request_id: int, *, principal: Principal, deps: VacationDeps) -> LeaveRequest:
    """The employee takes back a request nobody has decided yet."""
    async with deps.new_uow() as uow:
        employee = await own_employee(principal, uow.employees)
        assert employee.id is not None
        await uow.vacation.lock_employee(employee.id)  # against a manager deciding at the same moment
        request = await uow.vacation.request(request_id)
        if request is None or request.employee_id != employee.id:
            raise NotFound("No such request.")  # someone else's request does not exist for the caller
        if request.status is not RequestStatus.PENDING:
            raise Conflict("Only a pending request can be withdrawn.")
        withdrawn = replace(
            request, status=RequestStatus.WITHDRAWN, decided_by=principal.login, decided_at=deps.clock.now()
        )
        await uow.vacation.update_request(withdrawn, expected=RequestStatus.PENDING)
        await uow.audit.add(leave_event(deps.clock, principal, "leave.withdrawn", withdrawn, {}))
        await uow.commit()
    return withdrawn


async def request_cancellation(request_id: int, *, principal: Principal, deps: VacationDeps) -> LeaveRequest:
    """Ask to cancel approved leave that has not started yet; the manager decides (the days stay booked until then)."""
    async with deps.new_uow() as uow:
        employee = await own_employee(principal, uow.employees)
        assert employee.id is not None
        await uow.vacation.lock_employee(employee.id)
        request = await uow.vacation.request(request_id)
        if request is None or request.employee_id != employee.id:
            raise NotFound("No such request.")
        if request.status is not RequestStatus.APPROVED:
            raise Conflict("Only approved leave can be cancelled; withdraw a pending request instead.")
        if request.start <= deps.clock.today():
            raise Conflict("Leave that has started can only be changed by HR.")
        asked = replace(request, status=RequestStatus.CANCELLATION_REQUESTED)
        await uow.vacation.update_request(asked, expected=RequestStatus.APPROVED)
        await uow.audit.add(leave_event(deps.clock, principal, "leave.cancellation_requested", asked, {}))
        await uow.commit()
    return asked
