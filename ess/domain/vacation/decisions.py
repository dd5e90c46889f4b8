"""Use cases of the manager (or HR): the requests waiting for a decision, approving (booking the days) or rejecting
a request, and deciding a cancellation."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ess.domain.auth.caller import own_employee
from ess.domain.auth.model import Principal
from ess.domain.errors import N_, Conflict, NotFound, PermissionDenied, PolicyViolation
from ess.domain.hr.model import Employee, Role
from ess.domain.shared import Link, Notice
from ess.domain.vacation import rules
from ess.domain.vacation.deputies import acting_for
from ess.domain.vacation.model import (
    EntryType,
    LeaveRequest,
    LedgerEntry,
    RequestStatus,
    VacationPage,
    bucket_remaining,
)
from ess.domain.vacation.ports import VacationDeps, VacationUnitOfWork
from ess.domain.vacation.recompute import bring_up_to_date
from ess.domain.vacation.requests import MAX_NOTE, date_text, days_text, leave_event

NO_SUCH_REQUEST = N_("No such request.")


async def _authorize_decision(
    principal: Principal, requester: Employee, uow: VacationUnitOfWork, deps: VacationDeps
) -> Employee | None:
    """Only the requester's manager, the manager's deputy while the period runs, or HR decide; nobody decides their
    own request. For anyone else the request does not exist: the same NotFound as an unknown id, so ids cannot be
    probed. Returns the manager a deputy acts for (None when the caller decides in their own right)."""
    if requester.login == principal.login:
        raise PermissionDenied("You cannot decide your own request.")  # they see it anyway
    if principal.has(Role.HR):
        return None
    caller = await uow.employees.get(principal.employee_id) if principal.employee_id else None
    if caller is None:
        raise NotFound(NO_SUCH_REQUEST)
    if requester.manager_personnel_number == caller.personnel_number:
        return None
    for manager in await acting_for(caller, uow, deps.clock.today()):
        if requester.manager_personnel_number == manager.personnel_number:
            return manager
    raise NotFound(NO_SUCH_REQUEST)


@dataclass(frozen=True, slots=True)
class Waiting:
    """A request waiting for the caller's decision; `on_behalf_of` is the absent manager a deputy decides for."""

    request: LeaveRequest
    employee: Employee
    on_behalf_of: Employee | None = None


async def _waiting_request(
    request_id: int,
    status: RequestStatus,
    principal: Principal,
    uow: VacationUnitOfWork,
    deps: VacationDeps,
    *,
    message: str,
) -> Waiting:
    """The request, if the caller may decide it, re-read under its employee's lock and still in `status`."""
    request = await uow.vacation.request(request_id)
    requester = await uow.employees.get(request.employee_id) if request else None
    if request is None or requester is None:
        raise NotFound(NO_SUCH_REQUEST)
    on_behalf_of = await _authorize_decision(principal, requester, uow, deps)
    await uow.vacation.lock_employee(request.employee_id)
    request = await uow.vacation.request(request_id)  # re-read under the lock
    if request is None or request.status is not status:
        raise Conflict(message)
    return Waiting(request, requester, on_behalf_of)


def _decision_details(waiting: Waiting) -> dict[str, str | int | bool | None]:
    """What a decision's audit event names: the employee, and the manager a deputy decided for."""
    details: dict[str, str | int | bool | None] = {"employee": waiting.employee.login}
    if waiting.on_behalf_of is not None:
        details["on_behalf_of"] = waiting.on_behalf_of.login
    return details


async def decide(
    request_id: int, *, approve: bool, comment: str, principal: Principal, deps: VacationDeps
) -> LeaveRequest:
    """Approve (book the days against the soonest-expiring buckets) or reject a pending request."""
    async with deps.new_uow() as uow:
        waiting = await _waiting_request(
            request_id,
            RequestStatus.PENDING,
            principal,
            uow,
            deps,
            message=N_("This request has already been decided or withdrawn."),
        )
        request, requester = waiting.request, waiting.employee
        now = deps.clock.now()
        if approve:
            await _book(request, requester, principal, uow, deps)
        decided = replace(
            request,
            status=RequestStatus.APPROVED if approve else RequestStatus.REJECTED,
            decided_by=principal.login,
            decided_at=now,
            decision_comment=comment.strip()[:MAX_NOTE],
        )
        await uow.vacation.update_request(decided, expected=RequestStatus.PENDING)
        action = "leave.approved" if approve else "leave.rejected"
        await uow.audit.add(leave_event(deps.clock, principal, action, decided, _decision_details(waiting)))
        await uow.commit()
    params = {
        "employee": requester.display_name,
        "manager": principal.display_name,
        "approved": "yes" if approve else "no",
        "start": date_text(decided.start),
        "end": date_text(decided.end),
        "days": days_text(decided.total),
        "comment": decided.decision_comment,
    }
    await deps.notifier.notify(Notice("leave_decided", (requester.work_email,), params, Link(VacationPage.OWN)))
    return decided


async def _book(
    request: LeaveRequest, requester: Employee, principal: Principal, uow: VacationUnitOfWork, deps: VacationDeps
) -> None:
    assert requester.id is not None and request.id is not None
    ledger = await bring_up_to_date(requester, {d.day.year for d in request.days}, uow, deps.clock)
    buckets, entries = ledger.buckets, ledger.entries
    booked: list[LedgerEntry] = []
    for day in request.days:
        # A leave day draws on its own year's buckets; earlier years reach it only through carry-over buckets.
        usable = [b for b in buckets if b.leave_year == day.day.year and b.usable_on(day.day) and b.id is not None]
        if not usable:
            raise PolicyViolation("No leave entitlement covers %(date)s.", params={"date": day.day})
        balances = [
            rules.BucketBalance(
                id=str(b.id),
                kind=b.kind.value,
                remaining=bucket_remaining(b, [*entries, *booked]),
                expires_on=b.expires_on,
            )
            for b in usable
        ]
        for bucket_id, amount in rules.allocate(day.fraction, balances):
            booked.append(
                LedgerEntry(
                    bucket_id=int(bucket_id),
                    employee_id=requester.id,
                    effective_date=day.day,
                    amount=-amount,
                    entry_type=EntryType.TAKE,
                    created_by=principal.login,
                    created_at=deps.clock.now(),
                    request_id=request.id,
                )
            )
    await uow.vacation.add_entries(booked)


async def decide_cancellation(
    request_id: int, *, approve: bool, comment: str, principal: Principal, deps: VacationDeps
) -> LeaveRequest:
    """Approve a cancellation (the booking is reversed, never deleted) or keep the leave as approved."""
    async with deps.new_uow() as uow:
        waiting = await _waiting_request(
            request_id,
            RequestStatus.CANCELLATION_REQUESTED,
            principal,
            uow,
            deps,
            message=N_("No cancellation is waiting for a decision."),
        )
        request = waiting.request
        now = deps.clock.now()
        if approve:
            reversals = [
                replace(
                    e,
                    id=None,
                    amount=-e.amount,
                    entry_type=EntryType.REVERSE,
                    created_by=principal.login,
                    created_at=now,
                    reason="cancelled",
                )
                for e in await uow.vacation.entries(request.employee_id)
                if e.request_id == request.id and e.entry_type is EntryType.TAKE
            ]
            await uow.vacation.add_entries(reversals)
        decided = replace(
            request,
            status=RequestStatus.CANCELLED if approve else RequestStatus.APPROVED,
            decided_by=principal.login,
            decided_at=now,
            decision_comment=comment.strip()[:MAX_NOTE],
        )
        await uow.vacation.update_request(decided, expected=RequestStatus.CANCELLATION_REQUESTED)
        action = "leave.cancelled" if approve else "leave.cancellation_rejected"
        await uow.audit.add(leave_event(deps.clock, principal, action, decided, _decision_details(waiting)))
        await uow.commit()
    return decided


async def request_for_decision(request_id: int, *, principal: Principal, deps: VacationDeps) -> LeaveRequest:
    """A request as its decider sees it; NotFound / PermissionDenied for everybody else."""
    async with deps.new_uow() as uow:
        request = await uow.vacation.request(request_id)
        requester = await uow.employees.get(request.employee_id) if request else None
        if request is None or requester is None:
            raise NotFound("No such request.")
        await _authorize_decision(principal, requester, uow, deps)
        return request


async def pending_for_decision(principal: Principal, *, deps: VacationDeps) -> list[tuple[LeaveRequest, Employee]]:
    """Requests waiting for the caller: pending ones and cancellation requests of their direct reports (HR: all),
    and of the managers whose deputy they are today."""
    return [(w.request, w.employee) for w in await decisions_waiting(principal, deps=deps)]


async def decisions_waiting(principal: Principal, *, deps: VacationDeps) -> list[Waiting]:
    """`pending_for_decision`, each marked with the manager a deputy decides for; oldest first."""
    async with deps.new_uow().read_only() as uow:
        if principal.has(Role.HR):
            pairs = await uow.vacation.pending_requests(manager_personnel_number=None)
            return [Waiting(r, e) for r, e in pairs]
        manager = await own_employee(principal, uow.employees)
        own = await uow.vacation.pending_requests(manager_personnel_number=manager.personnel_number)
        result = [Waiting(r, e) for r, e in own]
        for absent in await acting_for(manager, uow, deps.clock.today()):
            theirs = await uow.vacation.pending_requests(manager_personnel_number=absent.personnel_number)
            result += [Waiting(r, e, absent) for r, e in theirs if e.login != principal.login]
    unique = {w.request.id: w for w in reversed(result)}  # a request once, in the caller's own right first
    return sorted(unique.values(), key=lambda w: w.request.created_at)


async def decide_waiting(
    request_id: int, *, approve: bool, comment: str, principal: Principal, deps: VacationDeps
) -> LeaveRequest:
    """Decide whatever the request is waiting for: the leave itself, or its cancellation."""
    waiting = await request_for_decision(request_id, principal=principal, deps=deps)
    if waiting.status is RequestStatus.CANCELLATION_REQUESTED:
        return await decide_cancellation(request_id, approve=approve, comment=comment, principal=principal, deps=deps)
    return await decide(request_id, approve=approve, comment=comment, principal=principal, deps=deps)
