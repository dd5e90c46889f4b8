"""Use cases of the manager (or HR): the requests waiting for a decision, approving (booking the days) or rejecting
a request, and deciding a cancellation."""

from __future__ import annotations

from dataclasses import replace

from ess.domain.auth.caller import own_employee
from ess.domain.auth.model import Principal
from ess.domain.errors import N_, Conflict, NotFound, PermissionDenied, PolicyViolation
from ess.domain.hr.model import Employee, Role
from ess.domain.shared import Link, Notice
from ess.domain.vacation import rules
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


async def _authorize_decision(principal: Principal, requester: Employee, uow: VacationUnitOfWork) -> None:
    """Only the requester's manager (or HR) decides; nobody decides their own request. For anyone else the request
    does not exist: the same NotFound as an unknown id, so ids cannot be probed."""
    if requester.login == principal.login:
        raise PermissionDenied("You cannot decide your own request.")  # they see it anyway
    if principal.has(Role.HR):
        return
    manager = await uow.employees.get(principal.employee_id) if principal.employee_id else None
    if manager is None or requester.manager_personnel_number != manager.personnel_number:
        raise NotFound(NO_SUCH_REQUEST)


async def _waiting_request(
    request_id: int, status: RequestStatus, principal: Principal, uow: VacationUnitOfWork, *, message: str
) -> tuple[LeaveRequest, Employee]:
    """The request, if the caller may decide it, re-read under its employee's lock and still in `status`."""
    request = await uow.vacation.request(request_id)
    requester = await uow.employees.get(request.employee_id) if request else None
    if request is None or requester is None:
        raise NotFound(NO_SUCH_REQUEST)
    await _authorize_decision(principal, requester, uow)
    await uow.vacation.lock_employee(request.employee_id)
    request = await uow.vacation.request(request_id)  # re-read under the lock
    if request is None or request.status is not status:
        raise Conflict(message)
    return request, requester


async def decide(
    request_id: int, *, approve: bool, comment: str, principal: Principal, deps: VacationDeps
) -> LeaveRequest:
    """Approve (book the days against the soonest-expiring buckets) or reject a pending request."""
    async with deps.new_uow() as uow:
        request, requester = await _waiting_request(
            request_id,
            RequestStatus.PENDING,
            principal,
            uow,
            message=N_("This request has already been decided or withdrawn."),
        )
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
        await uow.audit.add(leave_event(deps.clock, principal, action, decided, {"employee": requester.login}))
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
        request, requester = await _waiting_request(
            request_id,
            RequestStatus.CANCELLATION_REQUESTED,
            principal,
            uow,
            message=N_("No cancellation is waiting for a decision."),
        )
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
        await uow.audit.add(leave_event(deps.clock, principal, action, decided, {"employee": requester.login}))
        await uow.commit()
    return decided


async def request_for_decision(request_id: int, *, principal: Principal, deps: VacationDeps) -> LeaveRequest:
    """A request as its decider sees it; NotFound / PermissionDenied for everybody else."""
    async with deps.new_uow() as uow:
        request = await uow.vacation.request(request_id)
        requester = await uow.employees.get(request.employee_id) if request else None
        if request is None or requester is None:
            raise NotFound("No such request.")
        await _authorize_decision(principal, requester, uow)
        return request


async def pending_for_decision(principal: Principal, *, deps: VacationDeps) -> list[tuple[LeaveRequest, Employee]]:
    """Requests waiting for the caller: pending ones and cancellation requests of their direct reports (HR: all)."""
    async with deps.new_uow() as uow:
        if principal.has(Role.HR):
            return await uow.vacation.pending_requests(manager_personnel_number=None)
        manager = await own_employee(principal, uow.employees)
        return await uow.vacation.pending_requests(manager_personnel_number=manager.personnel_number)


async def decide_waiting(
    request_id: int, *, approve: bool, comment: str, principal: Principal, deps: VacationDeps
) -> LeaveRequest:
    """Decide whatever the request is waiting for: the leave itself, or its cancellation."""
    waiting = await request_for_decision(request_id, principal=principal, deps=deps)
    if waiting.status is RequestStatus.CANCELLATION_REQUESTED:
        return await decide_cancellation(request_id, approve=approve, comment=comment, principal=principal, deps=deps)
    return await decide(request_id, approve=approve, comment=comment, principal=principal, deps=deps)
