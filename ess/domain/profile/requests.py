"""Use cases of change requests: HR's queue and decision (four eyes), and the employee's withdrawal."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ess.domain.auth.caller import own_employee
from ess.domain.auth.model import Principal
from ess.domain.errors import Conflict, NotFound, PermissionDenied
from ess.domain.hr.model import Employee, Role
from ess.domain.profile.model import ChangeRequest, ChangeVia, ProfilePage, RequestStatus
from ess.domain.profile.ports import ProfileDeps, ProfileUnitOfWork
from ess.domain.profile.recording import DirectoryBatch, apply_change, audit, load_profile
from ess.domain.profile.submission import ProfileRejected
from ess.domain.profile.validation import Problem
from ess.domain.shared import Link, Notice

MAX_COMMENT = 1000


@dataclass(frozen=True, slots=True)
class QueueItem:
    request: ChangeRequest
    employee: Employee


async def withdraw_request(principal: Principal, request_id: int, *, deps: ProfileDeps, client: str = "") -> None:
    """The employee takes back their own open request."""
    async with deps.new_uow() as uow:
        employee = await own_employee(principal, uow.employees)
        request = await uow.profiles.request(request_id)
        if request is None or request.employee_id != employee.id:
            raise NotFound("No such change request.")
        if not request.status.is_open:
            raise Conflict("This request has already been decided.")
        now = deps.clock.now()
        updated = replace(request, status=RequestStatus.WITHDRAWN, decided_at=now, decided_by=principal.login)
        await uow.profiles.update_request(updated, expected=request.status)
        details: dict[str, str | int | bool | None] = {"request": request_id}
        await audit(uow, "profile.withdraw", employee, now=now, actor=principal.login, details=details, client=client)
        await uow.commit()


async def change_request_queue(principal: Principal, *, deps: ProfileDeps) -> list[QueueItem]:
    """HR's queue: requests waiting for a decision, oldest first."""
    _require_hr(principal)
    async with deps.new_uow() as uow:
        items: list[QueueItem] = []
        for request in await uow.profiles.open_requests(status=RequestStatus.PENDING):
            employee = await uow.employees.get(request.employee_id)
            if employee is not None:
                items.append(QueueItem(request, employee))
        return items


def _require_hr(principal: Principal) -> None:
    if not principal.has(Role.HR):
        raise PermissionDenied("Only HR decides change requests.")


async def decide_request(
    principal: Principal,
    request_id: int,
    *,
    approve: bool,
    comment: str,
    deps: ProfileDeps,
    client: str = "",
) -> ChangeRequest:
    """HR approves (applied now, or on its effective date) or rejects a pending request. Nobody decides their own
    request, and a request whose old value no longer matches the record cannot be approved (stale)."""
    _require_hr(principal)
    comment = comment.strip()[:MAX_COMMENT]
    now, today = deps.clock.now(), deps.clock.today()
    async with deps.new_uow() as uow:
        request, employee = await _pending_request(uow, principal, request_id)
        if not approve and not comment:
            raise ProfileRejected({"comment": Problem.REQUIRED})
        profile = await load_profile(uow, employee)
        if approve and profile.value(request.field) != request.old:
            raise Conflict("The data changed since the request was made; reject it and ask for a new one.")
        status = RequestStatus.REJECTED
        if approve:
            due = request.effective_from is None or request.effective_from <= today
            status = RequestStatus.APPLIED if due else RequestStatus.APPROVED
        decided = replace(
            request,
            status=status,
            decided_at=now,
            decided_by=principal.login,
            comment=comment,
            applied_at=now if status is RequestStatus.APPLIED else None,
        )
        await uow.profiles.update_request(decided, expected=RequestStatus.PENDING)
        action = "profile.approve" if approve else "profile.reject"
        details: dict[str, str | int | bool | None] = {"request": request_id, "field": request.field.value}
        await audit(uow, action, employee, now=now, actor=principal.login, details=details, client=client)
        if status is RequestStatus.APPLIED:
            batch = DirectoryBatch()
            await apply_change(
                uow,
                profile,
                request.field,
                request.new,
                actor=principal.login,
                via=ChangeVia.APPROVAL,
                now=now,
                batch=batch,
                request_id=request_id,
            )
            await batch.record(uow, employee, now=now, actor=principal.login)
        await uow.commit()
    deps.directory_changed()
    await _tell_decision(employee, decided, approve=approve, deps=deps)
    return decided


async def _tell_decision(employee: Employee, decided: ChangeRequest, *, approve: bool, deps: ProfileDeps) -> None:
    params = {
        "employee": employee.display_name,
        "fields": decided.field.value,
        "approved": "yes" if approve else "no",
        "effective_from": decided.effective_from.strftime("%d.%m.%Y") if decided.effective_from else "",
        "comment": decided.comment,
    }
    await deps.notifier.notify(Notice("profile_request_decided", (employee.work_email,), params, Link(ProfilePage.OWN)))


async def _pending_request(
    uow: ProfileUnitOfWork, principal: Principal, request_id: int
) -> tuple[ChangeRequest, Employee]:
    """The request, re-read under its employee's lock, if it still waits and the caller may decide it."""
    request = await uow.profiles.request(request_id)
    if request is None:
        raise NotFound("No such change request.")
    await uow.profiles.lock(request.employee_id)
    request = await uow.profiles.request(request_id)
    employee = await uow.employees.get(request.employee_id) if request else None
    if request is None or employee is None:
        raise NotFound("No such change request.")
    if principal.employee_id is not None and request.employee_id == principal.employee_id:
        raise PermissionDenied("Nobody decides their own change request.")
    if request.status is not RequestStatus.PENDING:
        raise Conflict("This request has already been decided.")
    return request, employee
