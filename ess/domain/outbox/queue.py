"""Queueing a directory change with the HR change that causes it, and what is still waiting for an employee."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ess.domain.audit import Outcome
from ess.domain.outbox.model import DirectoryChange, OutboxStatus, audit_event, changed_fields
from ess.domain.outbox.ports import OutboxUnitOfWork
from ess.domain.types import EmployeeId


async def record_directory_change(
    uow: OutboxUnitOfWork,
    *,
    employee_id: EmployeeId,
    login: str,
    old: Mapping[str, str],
    new: Mapping[str, str],
    now: datetime,
    actor: str,
) -> DirectoryChange | None:
    """Queue the fields of `new` that differ from `old` for the directory, inside the caller's open unit of work
    (committed with the HR change, or not at all). Returns None when nothing changed. Wake the worker (the deps'
    `wake` event) after the commit so the change is applied at once."""
    values = changed_fields(old, new)
    if not values:
        return None
    change = await uow.outbox.add(
        DirectoryChange(
            id=None,
            employee_id=employee_id,
            login=login,
            values=values,
            expected={name: old.get(name, "") for name in values},
            status=OutboxStatus.PENDING,
            created_at=now,
            next_attempt_at=now,
        )
    )
    await uow.audit.add(audit_event(change, now, actor, "directory_change_queued", Outcome.SUCCESS))
    return change


async def pending_fields(uow: OutboxUnitOfWork, employee_id: EmployeeId) -> set[str]:
    """The HR fields of an employee not yet in the directory ("pending synchronisation"), in an open unit of work."""
    return {name for change in await uow.outbox.for_employee(employee_id, open_only=True) for name in change.values}
