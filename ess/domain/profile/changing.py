"""Use case: an employee changes personal data; each field applies at once, tells HR, or waits for HR's approval.

Every change to a field goes the same way: checked in full before anything is written, stored with its history entry,
its audit event and (for fields a directory keeps) an outbox entry in one transaction, then the people concerned hear
of it. Authorization is decided here, for every object, not in the routes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Final

from ess.domain.audit import Outcome
from ess.domain.auth.caller import own_employee
from ess.domain.auth.model import Principal
from ess.domain.directory.model import AuthOutcome, normalise_password
from ess.domain.errors import NotFound, Throttled
from ess.domain.hr.model import Employee
from ess.domain.profile.model import (
    ChangeRequest,
    ChangeVia,
    FieldPolicy,
    FieldValue,
    Profile,
    ProfileField,
    ProfilePage,
    ProfilePolicies,
    RequestStatus,
)
from ess.domain.profile.ports import ProfileDeps, ProfileUnitOfWork
from ess.domain.profile.recording import DirectoryBatch, apply_change, audit, field_list, hr_recipients, load_profile
from ess.domain.profile.submission import ProfileRejected, normalise, submitted_fields
from ess.domain.profile.validation import Problem
from ess.domain.shared import Link, Notice

# How far ahead an effective date may lie.
MAX_EFFECTIVE_AHEAD: Final = timedelta(days=366)
# Fields whose change needs the current password again and a notice to the private address first.
REAUTH_FIELDS: Final = frozenset({ProfileField.BANK_ACCOUNT})
REAUTH_FAILURES: Final = 5
REAUTH_WINDOW_SECONDS: Final = 15 * 60


@dataclass(frozen=True, slots=True)
class ChangeProfile:
    principal: Principal
    # Input names and values as typed (form fields or API body), for one or more fields.
    inputs: Mapping[str, str]
    client: str = ""
    effective_from: date | None = None
    current_password: str = ""


@dataclass(slots=True)
class ChangeResult:
    applied: list[ProfileField] = field(default_factory=list)
    requested: list[ChangeRequest] = field(default_factory=list)
    unchanged: list[ProfileField] = field(default_factory=list)


async def change_profile(cmd: ChangeProfile, *, deps: ProfileDeps) -> ChangeResult:
    """Apply, notify HR about, or request approval for each submitted field, by its policy.

    All inputs are checked first; one wrong input means nothing is written. A value equal to the stored one is not a
    change. A bank account change needs the current password and first tells the private address (if that mail
    cannot be sent, nothing changes)."""
    fields = _fields_and_date(cmd, deps.clock.today())
    async with deps.new_uow() as uow:
        employee = await own_employee(cmd.principal, uow.employees)
        profile = await load_profile(uow, employee)
        assert employee.id is not None
        open_fields = {r.field for r in await uow.profiles.requests_for(employee.id) if r.status.is_open}

    new_values, problems = _check(fields, cmd.inputs, profile, open_fields, deps.policies)
    if problems:
        raise ProfileRejected(problems)
    changed = {f: v for f, v in new_values.items() if v != profile.value(f)}
    result = ChangeResult(unchanged=sorted(set(fields) - changed.keys()))
    if not changed:
        return result

    if changed.keys() & REAUTH_FIELDS:
        await _confirm_and_warn(cmd, employee, deps)
    fresh, hr_notices = await _write(cmd, employee, changed, result, deps)
    deps.directory_changed()
    await _tell_after_change(fresh, result, hr_notices, deps)
    return result


async def _write(
    cmd: ChangeProfile,
    employee: Employee,
    changed: Mapping[ProfileField, FieldValue],
    result: ChangeResult,
    deps: ProfileDeps,
) -> tuple[Employee, list[ProfileField]]:
    """In one transaction, under the employee's lock: apply or request each changed field by its policy. Returns the
    record as re-read under the lock and the fields HR hears of."""
    assert employee.id is not None
    now, today = deps.clock.now(), deps.clock.today()
    hr_notices: list[ProfileField] = []
    batch = DirectoryBatch()
    async with deps.new_uow() as uow:
        await uow.profiles.lock(employee.id)
        # Re-read under the lock: a change that landed meanwhile decides what "old" is.
        fresh = await uow.employees.get(employee.id)
        if fresh is None:
            raise NotFound("No HR record belongs to this account.")
        profile = await load_profile(uow, fresh)
        for profile_field, value in sorted(changed.items()):
            old = profile.value(profile_field)
            if value == old:
                result.unchanged.append(profile_field)
                continue
            policy = deps.policies.of(profile_field)
            if policy is FieldPolicy.NOTIFY_HR:
                hr_notices.append(profile_field)
            if policy is FieldPolicy.APPROVAL or (cmd.effective_from is not None and cmd.effective_from > today):
                status = RequestStatus.PENDING if policy is FieldPolicy.APPROVAL else RequestStatus.APPROVED
                change = ChangeRequest(employee.id, profile_field, old, value, status, now, cmd.principal.login)
                result.requested.append(await _file_request(uow, cmd, fresh, change))
            else:
                via = ChangeVia.NOTIFY_HR if policy is FieldPolicy.NOTIFY_HR else ChangeVia.SELF_SERVICE
                profile = await apply_change(
                    uow, profile, profile_field, value, actor=cmd.principal.login, via=via, now=now, batch=batch
                )
                result.applied.append(profile_field)
        await batch.record(uow, fresh, now=now, actor=cmd.principal.login)
        await uow.commit()
    return fresh, hr_notices


async def _file_request(
    uow: ProfileUnitOfWork, cmd: ChangeProfile, employee: Employee, change: ChangeRequest
) -> ChangeRequest:
    """A change that waits: for HR's approval, or for its effective date."""
    request = await uow.profiles.add_request(replace(change, effective_from=cmd.effective_from))
    details: dict[str, str | int | bool | None] = {
        "field": request.field.value,
        "request": request.id,
        "status": request.status.value,
    }
    now, actor = request.created_at, cmd.principal.login
    await audit(uow, "profile.request", employee, now=now, actor=actor, details=details, client=cmd.client)
    return request


def _fields_and_date(cmd: ChangeProfile, today: date) -> set[ProfileField]:
    fields = submitted_fields(cmd.inputs)
    if not fields:
        raise ProfileRejected({"form": Problem.REQUIRED})
    if cmd.effective_from is not None and not today <= cmd.effective_from <= today + MAX_EFFECTIVE_AHEAD:
        raise ProfileRejected({"effective_from": Problem.EFFECTIVE_DATE})
    return fields


def _check(
    fields: set[ProfileField],
    inputs: Mapping[str, str],
    profile: Profile,
    open_fields: set[ProfileField],
    policies: ProfilePolicies,
) -> tuple[dict[ProfileField, FieldValue], dict[str, Problem]]:
    region = profile.employee.location.country
    values: dict[ProfileField, FieldValue] = {}
    problems: dict[str, Problem] = {}
    for profile_field in sorted(fields):
        try:
            values[profile_field] = normalise(profile_field, inputs, region=region)
        except ProfileRejected as exc:
            problems.update(exc.problems)
            continue
        if values[profile_field] == profile.value(profile_field):
            continue  # unchanged: a no-op whatever the policy
        if policies.of(profile_field) is FieldPolicy.READ_ONLY:
            problems[profile_field.value] = Problem.READ_ONLY
        elif profile_field in open_fields:
            problems[profile_field.value] = Problem.REQUEST_OPEN
    return values, problems


async def _confirm_and_warn(cmd: ChangeProfile, employee: Employee, deps: ProfileDeps) -> None:
    """The current password again, then a notice to the private address (the work one if none is on record) before
    anything changes: a hijacked session cannot divert the salary silently."""
    await _confirm_password(cmd, employee, deps)
    await deps.notifier.notify_first(
        Notice(
            kind="profile_bank_notice",
            to=(employee.private_email or employee.work_email,),
            params={"employee": employee.display_name},
            link=Link(ProfilePage.OWN),
        )
    )


async def _confirm_password(cmd: ChangeProfile, employee: Employee, deps: ProfileDeps) -> None:
    if not cmd.current_password:
        raise ProfileRejected({"current_password": Problem.REAUTH_MISSING})
    key = f"profile-reauth:{cmd.principal.login}"
    if deps.attempts is not None and await deps.attempts.hit(key, REAUTH_WINDOW_SECONDS) > REAUTH_FAILURES:
        raise Throttled(
            "Too many wrong passwords. Please wait a few minutes.", retry_after_seconds=REAUTH_WINDOW_SECONDS
        )
    outcome = await deps.directory.authenticate(cmd.principal.login, normalise_password(cmd.current_password))
    if outcome is AuthOutcome.OK and deps.attempts is not None:
        await deps.attempts.clear(key)
    if outcome is not AuthOutcome.OK:
        async with deps.new_uow() as uow:
            await audit(
                uow,
                "profile.reauth",
                employee,
                now=deps.clock.now(),
                actor=cmd.principal.login,
                details={"field": ProfileField.BANK_ACCOUNT.value},
                outcome=Outcome.FAILURE,
                client=cmd.client,
            )
            await uow.commit()
        raise ProfileRejected({"current_password": Problem.REAUTH_WRONG})


async def _tell_after_change(
    employee: Employee, result: ChangeResult, hr_notices: list[ProfileField], deps: ProfileDeps
) -> None:
    own = Link(ProfilePage.OWN)
    if result.applied:
        params = {"employee": employee.display_name, "fields": field_list(result.applied)}
        await deps.notifier.notify(Notice("profile_changed", (employee.work_email,), params, own))
    for request in result.requested:
        if request.status is RequestStatus.PENDING:
            params = {"employee": employee.display_name, "fields": request.field.value}
            await deps.notifier.notify(Notice("profile_request_submitted", (employee.work_email,), params, own))
    awaiting = [r.field for r in result.requested if r.status is RequestStatus.PENDING]
    if hr_notices or awaiting:
        recipients = await hr_recipients(deps)
        if recipients:
            params = {
                "employee": employee.display_name,
                "personnel_number": employee.personnel_number,
                "changed": field_list(hr_notices),
                "awaiting": field_list(awaiting),
            }
            await deps.notifier.notify(Notice("profile_hr_notice", recipients, params, Link(ProfilePage.HR_QUEUE)))
