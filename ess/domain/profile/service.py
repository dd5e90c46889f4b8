"""Use cases: an employee views and changes their personal data; HR decides change requests; due changes apply.

Every change to a field goes the same way: checked in full before anything is written, stored with its history entry,
its audit event and (for fields a directory keeps) an outbox entry in one transaction, then the people concerned hear
of it. Authorization is decided here, for every object, not in the routes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Final

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.auth.model import Principal
from ess.domain.errors import Conflict, NotFound, PermissionDenied, Throttled
from ess.domain.hr.model import Employee, Role
from ess.domain.hr.service import load_own_employee
from ess.domain.outbox.service import pending_fields, record_directory_change
from ess.domain.passwords.model import normalise_password
from ess.domain.ports import AttemptCounter, AuthOutcome, Clock, Directory, Notice, Notifier, UnitOfWork
from ess.domain.profile.model import (
    DIRECTORY_FIELDS,
    ChangeRequest,
    ChangeVia,
    FieldPolicy,
    FieldValue,
    HistoryEntry,
    Profile,
    ProfileField,
    ProfilePolicies,
    RequestStatus,
    directory_values,
    mask,
)
from ess.domain.profile.submission import ProfileRejected, normalise, submitted_fields
from ess.domain.profile.validation import Problem

# How far ahead an effective date may lie.
MAX_EFFECTIVE_AHEAD: Final = timedelta(days=366)
# Fields whose change needs the current password again and a notice to the private address first.
REAUTH_FIELDS: Final = frozenset({ProfileField.BANK_ACCOUNT})
REAUTH_FAILURES: Final = 5
REAUTH_WINDOW_SECONDS: Final = 15 * 60
# The comment on a scheduled change that was not applied because the data changed before its date.
STALE: Final = "The data changed before the effective date; please submit the change again."


@dataclass(frozen=True, slots=True)
class ProfileDeps:
    """What the profile use cases need besides the caller's input."""

    new_uow: Callable[[], UnitOfWork]
    clock: Clock
    directory: Directory
    notifier: Notifier
    policies: ProfilePolicies
    # Wakes the directory write-back after a commit that queued an outbox entry.
    directory_changed: Callable[[], None] = lambda: None
    # Where notify-HR notices and new requests go; empty: everyone with the HR role.
    hr_recipients: tuple[str, ...] = ()
    # Limits password confirmations (bank account) per account, before the directory is asked: a hijacked session
    # can neither guess the password nor lock the account through the directory's own lockout.
    attempts: AttemptCounter | None = None


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


async def _load_profile(uow: UnitOfWork, employee: Employee) -> Profile:
    assert employee.id is not None
    bank = await uow.profiles.bank_account(employee.id)
    contacts = await uow.profiles.emergency_contacts(employee.id)
    return Profile(employee=employee, bank_account=bank, emergency_contacts=tuple(contacts))


async def my_profile(principal: Principal, deps: ProfileDeps) -> ProfileView:
    """The caller's own personal data with policies, open requests and pending directory synchronisation."""
    async with deps.new_uow() as uow:
        employee = await load_own_employee(principal, uow.employees)
        return await _view(uow, employee, deps)


async def _view(uow: UnitOfWork, employee: Employee, deps: ProfileDeps) -> ProfileView:
    assert employee.id is not None
    profile = await _load_profile(uow, employee)
    manager = None
    if employee.manager_personnel_number:
        manager = (await uow.employees.by_personnel_numbers([employee.manager_personnel_number])).get(
            employee.manager_personnel_number
        )
    requests = await uow.profiles.requests_for(employee.id)
    pending = await pending_fields(uow, employee.id)
    return ProfileView(profile, manager, deps.policies, requests, frozenset(pending))


async def employee_profile(principal: Principal, personnel_number: str, deps: ProfileDeps) -> ProfileView | WorkContact:
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
            await _audit(uow, "profile.read", target, now=deps.clock.now(), actor=principal.login, details={})
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


async def change_profile(cmd: ChangeProfile, deps: ProfileDeps) -> ChangeResult:
    """Apply, notify HR about, or request approval for each submitted field, by its policy.

    All inputs are checked first; one wrong input means nothing is written. A value equal to the stored one is not a
    change. A bank account change needs the current password and first tells the private address (if that mail
    cannot be sent, nothing changes)."""
    now, today = deps.clock.now(), deps.clock.today()
    fields = _fields_and_date(cmd, today)
    async with deps.new_uow() as uow:
        employee = await load_own_employee(cmd.principal, uow.employees)
        profile = await _load_profile(uow, employee)
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

    hr_notices: list[ProfileField] = []
    batch = _DirectoryBatch()
    async with deps.new_uow() as uow:
        await uow.profiles.lock(employee.id)
        # Re-read under the lock: a change that landed meanwhile decides what "old" is.
        fresh = await uow.employees.get(employee.id)
        if fresh is None:
            raise NotFound("No HR record belongs to this account.")
        profile = await _load_profile(uow, fresh)
        for profile_field, value in sorted(changed.items()):
            old = profile.value(profile_field)
            if value == old:
                result.unchanged.append(profile_field)
                continue
            policy = deps.policies.of(profile_field)
            later = cmd.effective_from is not None and cmd.effective_from > today
            if policy is FieldPolicy.APPROVAL or later:
                request = await uow.profiles.add_request(
                    ChangeRequest(
                        employee_id=employee.id,
                        field=profile_field,
                        old=old,
                        new=value,
                        status=RequestStatus.PENDING if policy is FieldPolicy.APPROVAL else RequestStatus.APPROVED,
                        created_at=now,
                        created_by=cmd.principal.login,
                        effective_from=cmd.effective_from,
                    )
                )
                result.requested.append(request)
                await _audit(
                    uow,
                    "profile.request",
                    fresh,
                    now=now,
                    actor=cmd.principal.login,
                    details={"field": profile_field.value, "request": request.id, "status": request.status.value},
                    client=cmd.client,
                )
                if policy is FieldPolicy.NOTIFY_HR:
                    hr_notices.append(profile_field)
            else:
                via = ChangeVia.NOTIFY_HR if policy is FieldPolicy.NOTIFY_HR else ChangeVia.SELF_SERVICE
                profile = await _apply(
                    uow, profile, profile_field, value, actor=cmd.principal.login, via=via, now=now, batch=batch
                )
                result.applied.append(profile_field)
                if policy is FieldPolicy.NOTIFY_HR:
                    hr_notices.append(profile_field)
        await batch.record(uow, fresh, now=now, actor=cmd.principal.login)
        await uow.commit()

    deps.directory_changed()
    await _tell_after_change(fresh, result, hr_notices, deps)
    return result


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
            params={"employee": employee.display_name, "path": "/profile"},
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
            await _audit(
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


@dataclass(slots=True)
class _DirectoryBatch:
    """The directory fields one transaction changes: one outbox entry, so they land together and in order."""

    old: dict[str, str] = field(default_factory=dict)
    new: dict[str, str] = field(default_factory=dict)

    def add(self, old: Mapping[str, str], new: Mapping[str, str]) -> None:
        for name, value in old.items():
            self.old.setdefault(name, value)  # the value before the first change in this transaction
        self.new.update(new)

    async def record(self, uow: UnitOfWork, employee: Employee, *, now: datetime, actor: str) -> None:
        assert employee.id is not None
        if self.new:
            await record_directory_change(
                uow, employee_id=employee.id, login=employee.login, old=self.old, new=self.new, now=now, actor=actor
            )


async def _apply(
    uow: UnitOfWork,
    profile: Profile,
    profile_field: ProfileField,
    value: FieldValue,
    *,
    actor: str,
    via: ChangeVia,
    now: datetime,
    batch: _DirectoryBatch,
    request_id: int | None = None,
) -> Profile:
    """Store a field's new value with its history entry and audit event; its directory fields join `batch`, which
    the caller records in the outbox in the same transaction."""
    employee = profile.employee
    assert employee.id is not None
    old = profile.value(profile_field)
    await uow.profiles.apply(employee.id, profile_field, value)
    await uow.profiles.add_history(
        HistoryEntry(employee.id, profile_field, old, value, now, actor, via, request_id=request_id)
    )
    await _audit(
        uow,
        "profile.change",
        employee,
        now=now,
        actor=actor,
        details={
            "field": profile_field.value,
            "via": via.value,
            **{f"old.{k}": v for k, v in mask(old).items()},
            **{f"new.{k}": v for k, v in mask(value).items()},
        },
    )
    refreshed = await uow.employees.get(employee.id)
    assert refreshed is not None
    batch.add(directory_values(profile_field, old, employee), directory_values(profile_field, value, refreshed))
    return await _load_profile(uow, refreshed)


async def _audit(
    uow: UnitOfWork,
    action: str,
    employee: Employee,
    *,
    now: datetime,
    actor: str,
    details: dict[str, str | int | bool | None],
    outcome: Outcome = Outcome.SUCCESS,
    client: str = "",
) -> None:
    await uow.audit.add(
        AuditEvent(
            occurred_at=now,
            actor=actor,
            action=action,
            outcome=outcome,
            target=f"employee:{employee.personnel_number}",
            client_address=client,
            details=details,
        )
    )


async def _hr_recipients(deps: ProfileDeps) -> tuple[str, ...]:
    if deps.hr_recipients:
        return deps.hr_recipients
    async with deps.new_uow() as uow:
        return tuple(await uow.profiles.hr_emails())


def _field_list(fields: list[ProfileField]) -> str:
    return ",".join(f.value for f in fields)


async def _tell_after_change(
    employee: Employee, result: ChangeResult, hr_notices: list[ProfileField], deps: ProfileDeps
) -> None:
    if result.applied:
        await deps.notifier.notify(
            Notice(
                kind="profile_changed",
                to=(employee.work_email,),
                params={"employee": employee.display_name, "fields": _field_list(result.applied), "path": "/profile"},
            )
        )
    for request in result.requested:
        if request.status is RequestStatus.PENDING:
            await deps.notifier.notify(
                Notice(
                    kind="profile_request_submitted",
                    to=(employee.work_email,),
                    params={"employee": employee.display_name, "fields": request.field.value, "path": "/profile"},
                )
            )
    awaiting = [r.field for r in result.requested if r.status is RequestStatus.PENDING]
    if hr_notices or awaiting:
        recipients = await _hr_recipients(deps)
        if recipients:
            await deps.notifier.notify(
                Notice(
                    kind="profile_hr_notice",
                    to=recipients,
                    params={
                        "employee": employee.display_name,
                        "personnel_number": employee.personnel_number,
                        "changed": _field_list(hr_notices),
                        "awaiting": _field_list(awaiting),
                        "path": "/hr/change-requests",
                    },
                )
            )


async def withdraw_request(principal: Principal, request_id: int, deps: ProfileDeps, *, client: str = "") -> None:
    """The employee takes back their own open request."""
    async with deps.new_uow() as uow:
        employee = await load_own_employee(principal, uow.employees)
        request = await uow.profiles.request(request_id)
        if request is None or request.employee_id != employee.id:
            raise NotFound("No such change request.")
        if not request.status.is_open:
            raise Conflict("This request has already been decided.")
        now = deps.clock.now()
        updated = replace(request, status=RequestStatus.WITHDRAWN, decided_at=now, decided_by=principal.login)
        await uow.profiles.update_request(updated, expected=request.status)
        await _audit(
            uow,
            "profile.withdraw",
            employee,
            now=now,
            actor=principal.login,
            details={"request": request_id},
            client=client,
        )
        await uow.commit()


@dataclass(frozen=True, slots=True)
class QueueItem:
    request: ChangeRequest
    employee: Employee


async def change_request_queue(principal: Principal, deps: ProfileDeps) -> list[QueueItem]:
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
    comment = comment.strip()[:1000]
    now, today = deps.clock.now(), deps.clock.today()
    async with deps.new_uow() as uow:
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
        if not approve and not comment:
            raise ProfileRejected({"comment": Problem.REQUIRED})
        profile = await _load_profile(uow, employee)
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
        await _audit(
            uow,
            "profile.approve" if approve else "profile.reject",
            employee,
            now=now,
            actor=principal.login,
            details={"request": request_id, "field": request.field.value},
            client=client,
        )
        if status is RequestStatus.APPLIED:
            batch = _DirectoryBatch()
            await _apply(
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
    await deps.notifier.notify(
        Notice(
            kind="profile_request_decided",
            to=(employee.work_email,),
            params={
                "employee": employee.display_name,
                "fields": request.field.value,
                "approved": "yes" if approve else "no",
                "effective_from": decided.effective_from.strftime("%d.%m.%Y") if decided.effective_from else "",
                "comment": comment,
                "path": "/profile",
            },
        )
    )
    return decided


@dataclass(frozen=True, slots=True)
class ApplyDueResult:
    applied: int
    stale: int


async def apply_due(deps: ProfileDeps, *, actor: str = "system:profile-apply-due") -> ApplyDueResult:
    """Apply approved changes whose effective date has come (run daily by `ess profile apply-due`). A change whose
    old value no longer matches the record is not applied over it: it is rejected as stale and the employee told."""
    today, now = deps.clock.today(), deps.clock.now()
    applied = stale = 0
    async with deps.new_uow() as uow:
        due = [
            r
            for r in await uow.profiles.open_requests(status=RequestStatus.APPROVED)
            if r.effective_from is None or r.effective_from <= today
        ]
    for request in due:
        assert request.id is not None
        async with deps.new_uow() as uow:
            await uow.profiles.lock(request.employee_id)
            current = await uow.profiles.request(request.id)
            employee = await uow.employees.get(request.employee_id)
            if current is None or employee is None or current.status is not RequestStatus.APPROVED:
                continue
            profile = await _load_profile(uow, employee)
            is_stale = profile.value(current.field) != current.old
            if is_stale:
                await uow.profiles.update_request(
                    replace(current, status=RequestStatus.REJECTED, decided_at=now, decided_by=actor, comment=STALE),
                    expected=RequestStatus.APPROVED,
                )
                await _audit(
                    uow,
                    "profile.stale",
                    employee,
                    now=now,
                    actor=actor,
                    details={"request": current.id},
                    outcome=Outcome.FAILURE,
                )
                stale += 1
            else:
                await uow.profiles.update_request(
                    replace(current, status=RequestStatus.APPLIED, applied_at=now), expected=RequestStatus.APPROVED
                )
                via = ChangeVia.APPROVAL if current.decided_by else ChangeVia.SCHEDULED
                batch = _DirectoryBatch()
                await _apply(
                    uow,
                    profile,
                    current.field,
                    current.new,
                    actor=actor,
                    via=via,
                    now=now,
                    batch=batch,
                    request_id=current.id,
                )
                await batch.record(uow, employee, now=now, actor=actor)
                applied += 1
            await uow.commit()
        params = {"employee": employee.display_name, "fields": current.field.value, "path": "/profile"}
        if is_stale:
            params |= {"approved": "no", "effective_from": "", "comment": STALE}
        kind = "profile_request_decided" if is_stale else "profile_changed"
        await deps.notifier.notify(Notice(kind=kind, to=(employee.work_email,), params=params))
    if applied or stale:
        deps.directory_changed()
    return ApplyDueResult(applied=applied, stale=stale)


async def my_history(principal: Principal, deps: ProfileDeps) -> list[HistoryEntry]:
    """The caller's own changes, newest first, sensitive values masked."""
    async with deps.new_uow() as uow:
        employee = await load_own_employee(principal, uow.employees)
        assert employee.id is not None
        entries = await uow.profiles.history(employee.id)
    return [_masked(e) for e in entries]


def _masked(entry: HistoryEntry) -> HistoryEntry:
    return replace(entry, old=mask(entry.old), new=mask(entry.new))
