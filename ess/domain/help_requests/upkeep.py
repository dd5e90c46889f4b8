"""Daily jobs and data protection: remind teams of requests waiting too long, delete closed requests after the
retention, and everything stored about one employee (for the data export)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ess.domain.help_requests.model import HelpRequest
from ess.domain.help_requests.ports import HelpRequestsDeps
from ess.domain.help_requests.records import audit_event, tell_team
from ess.domain.types import EmployeeId


async def remind_waiting(*, deps: HelpRequestsDeps) -> int:
    """Tell the team once per waiting period about each request with no activity for longer than configured."""
    now = deps.clock.now()
    async with deps.new_uow() as uow:
        waiting = await uow.help_requests.waiting_since(now - deps.policy.remind_after)
        reminded = [replace(r, reminded_at=now) for r in waiting]
        for request in reminded:
            await uow.help_requests.save(request)
            await uow.audit.add(audit_event(deps, "system", "help_request.reminded", request))
        await uow.commit()
    for request in reminded:
        await tell_team(deps, request, kind="help_request_reminder")
    return len(reminded)


async def delete_expired(*, deps: HelpRequestsDeps) -> int:
    """Delete requests closed longer ago than the retention, with their messages and notes."""
    cutoff = deps.clock.now() - deps.policy.retention
    async with deps.new_uow() as uow:
        deleted = await uow.help_requests.delete_closed_before(cutoff)
        if deleted:
            await uow.audit.add(
                audit_event(
                    deps, "system", "help_request.retention_deleted", None, count=deleted, before=cutoff.isoformat()
                )
            )
        await uow.commit()
    return deleted


def _as_record(request: HelpRequest) -> dict[str, Any]:
    return {
        "reference": request.reference,
        "topic": request.topic,
        "team": request.team.value,
        "subject": request.subject,
        "status": request.status.value,
        "context": dict(request.context),
        "created_at": request.created_at.isoformat(),
        "closed_at": request.closed_at.isoformat() if request.closed_at else None,
        "solved": request.solved,
        # What the person wrote and the answers they were given; internal notes are the team's working notes about
        # the request and are part of the person's data too (GDPR Art. 15), so they are included.
        "messages": [
            {"kind": m.kind.value, "author": m.author, "body": m.body, "created_at": m.created_at.isoformat()}
            for m in request.messages
        ],
    }


async def export_for_employee(employee_id: EmployeeId, *, deps: HelpRequestsDeps) -> list[dict[str, Any]]:
    """Everything stored about one employee's help requests, as plain JSON-ready records (for the GDPR export)."""
    async with deps.new_uow().read_only() as uow:
        found = await uow.help_requests.of_employee(employee_id)
    return [_as_record(r) for r in found]
