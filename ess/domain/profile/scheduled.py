"""Use case: apply approved personal-data changes whose effective date has come (the daily job)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

from ess.domain.audit import Outcome
from ess.domain.profile.model import ChangeRequest, ChangeVia, ProfilePage, RequestStatus
from ess.domain.profile.ports import ProfileDeps
from ess.domain.profile.recording import DirectoryBatch, apply_change, audit, load_profile
from ess.domain.shared import Link, Notice

# The comment on a scheduled change that was not applied because the data changed before its date.
STALE: Final = "The data changed before the effective date; please submit the change again."


@dataclass(frozen=True, slots=True)
class ApplyDueResult:
    applied: int
    stale: int


async def apply_due(*, deps: ProfileDeps, actor: str = "system:profile-apply-due") -> ApplyDueResult:
    """Apply approved changes whose effective date has come (run daily by `ess profile apply-due`). A change whose
    old value no longer matches the record is not applied over it: it is rejected as stale and the employee told."""
    today, now = deps.clock.today(), deps.clock.now()
    async with deps.new_uow() as uow:
        due = [
            r
            for r in await uow.profiles.open_requests(status=RequestStatus.APPROVED)
            if r.effective_from is None or r.effective_from <= today
        ]
    applied = stale = 0
    for request in due:
        outcome = await _apply_one(request, deps, actor=actor, now=now)
        applied += outcome == "applied"
        stale += outcome == "stale"
    if applied or stale:
        deps.directory_changed()
    return ApplyDueResult(applied=applied, stale=stale)


async def _apply_one(request: ChangeRequest, deps: ProfileDeps, *, actor: str, now: datetime) -> str:
    """Apply one due request in its own transaction; "applied", "stale", or "" when it changed meanwhile."""
    assert request.id is not None
    async with deps.new_uow() as uow:
        await uow.profiles.lock(request.employee_id)
        current = await uow.profiles.request(request.id)
        employee = await uow.employees.get(request.employee_id)
        if current is None or employee is None or current.status is not RequestStatus.APPROVED:
            return ""
        profile = await load_profile(uow, employee)
        is_stale = profile.value(current.field) != current.old
        if is_stale:
            await uow.profiles.update_request(
                replace(current, status=RequestStatus.REJECTED, decided_at=now, decided_by=actor, comment=STALE),
                expected=RequestStatus.APPROVED,
            )
            details: dict[str, str | int | bool | None] = {"request": current.id}
            await audit(uow, "profile.stale", employee, now=now, actor=actor, details=details, outcome=Outcome.FAILURE)
        else:
            await uow.profiles.update_request(
                replace(current, status=RequestStatus.APPLIED, applied_at=now), expected=RequestStatus.APPROVED
            )
            via = ChangeVia.APPROVAL if current.decided_by else ChangeVia.SCHEDULED
            batch = DirectoryBatch()
            await apply_change(
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
        await uow.commit()
    params = {"employee": employee.display_name, "fields": current.field.value}
    if is_stale:
        params |= {"approved": "no", "effective_from": "", "comment": STALE}
    kind = "profile_request_decided" if is_stale else "profile_changed"
    await deps.notifier.notify(Notice(kind=kind, to=(employee.work_email,), params=params, link=Link(ProfilePage.OWN)))
    return "stale" if is_stale else "applied"
