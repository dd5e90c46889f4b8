"""Use cases: an employee reads their own personal data and history; HR and managers read someone else's."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ess.domain.auth.caller import own_employee
from ess.domain.auth.model import Principal
from ess.domain.errors import NotFound
from ess.domain.hr.model import Employee, Role
from ess.domain.outbox.queue import pending_fields
from ess.domain.profile.model import (
    DIRECTORY_FIELDS,
    ChangeRequest,
    HistoryEntry,
    Profile,
    ProfileField,
    ProfilePolicies,
    mask,
)
from ess.domain.profile.ports import ProfileDeps, ProfileUnitOfWork
from ess.domain.profile.recording import audit, load_profile


@dataclass(frozen=True, slots=True)
class ProfileView:
    """What the employee (or HR) sees: the data, the policy per field, what is waiting."""

    profile: Profile
    manager: Employee | None
    policies: ProfilePolicies
    requests: list[ChangeRequest]
    # Fields changed in HR whose directory write-back has not landed yet ("pending synchronisation").
    pending_sync: frozenset[str]

    def is_pending(self, profile_field: ProfileField) -> bool:
        """Changed in HR, not yet in the directory."""
        return bool(DIRECTORY_FIELDS.get(profile_field, frozenset()) & self.pending_sync)

    def open_request(self, profile_field: ProfileField) -> ChangeRequest | None:
        return next((r for r in self.requests if r.field is profile_field and r.status.is_open), None)


@dataclass(frozen=True, slots=True)
class WorkContact:
    """What a manager sees of a report: work contact data only."""

    personnel_number: str
    display_name: str
    work_email: str
    work_phone: str
    org_unit: str


async def my_profile(principal: Principal, *, deps: ProfileDeps) -> ProfileView:
    """The caller's own personal data with policies, open requests and pending directory synchronisation."""
    async with deps.new_uow() as uow:
        employee = await own_employee(principal, uow.employees)
        return await _view(uow, employee, deps)


async def _view(uow: ProfileUnitOfWork, employee: Employee, deps: ProfileDeps) -> ProfileView:
    assert employee.id is not None
    profile = await load_profile(uow, employee)
    manager = None
    if employee.manager_personnel_number:
        manager = (await uow.employees.by_personnel_numbers([employee.manager_personnel_number])).get(
            employee.manager_personnel_number
        )
    requests = await uow.profiles.requests_for(employee.id)
    pending = await pending_fields(uow, employee.id)
    return ProfileView(profile, manager, deps.policies, requests, frozenset(pending))


async def employee_profile(
    principal: Principal, personnel_number: str, *, deps: ProfileDeps
) -> ProfileView | WorkContact:
    """Someone else's data: HR sees everything, a manager the work contact of their direct reports, nobody else
    anything (NotFound, so that ids cannot be probed)."""
    async with deps.new_uow() as uow:
        target = (await uow.employees.by_personnel_numbers([personnel_number])).get(personnel_number)
        if target is None:
            raise NotFound("No such employee.")
        if principal.employee_id is not None and target.id == principal.employee_id:
            return await _view(uow, target, deps)
        if principal.has(Role.HR):
            view = await _view(uow, target, deps)
            await audit(uow, "profile.read", target, now=deps.clock.now(), actor=principal.login, details={})
            await uow.commit()
            return view
        if principal.has(Role.MANAGER) and principal.employee_id is not None:
            me = await uow.employees.get(principal.employee_id)
            if me is not None and target.manager_personnel_number == me.personnel_number:
                return WorkContact(
                    personnel_number=target.personnel_number,
                    display_name=target.display_name,
                    work_email=target.work_email,
                    work_phone=target.work_phone,
                    org_unit=target.org_unit.name if target.org_unit else "",
                )
    raise NotFound("No such employee.")


async def my_history(principal: Principal, *, deps: ProfileDeps) -> list[HistoryEntry]:
    """The caller's own changes, newest first, sensitive values masked."""
    async with deps.new_uow() as uow:
        employee = await own_employee(principal, uow.employees)
        assert employee.id is not None
        entries = await uow.profiles.history(employee.id)
    return [replace(e, old=mask(e.old), new=mask(e.new)) for e in entries]
