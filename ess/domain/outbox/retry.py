"""Use case: an operator makes failed or conflicting outbox entries due again, or overwrites a conflict."""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from ess.domain.audit import Outcome
from ess.domain.errors import Conflict, InvalidInput, NotFound
from ess.domain.outbox.delivery import SYSTEM_ACTOR, entry_id
from ess.domain.outbox.model import DirectoryChange, OutboxStatus, audit_event
from ess.domain.outbox.ports import OutboxDeps, OutboxUnitOfWork

# Enough for every failed entry an operator would retry at once; listing is capped so a CLI call stays bounded.
_RETRY_ALL_LIMIT: Final = 10_000


async def retry(change_id: int | None, *, deps: OutboxDeps, force: bool = False, actor: str = SYSTEM_ACTOR) -> int:
    """Make an entry (or, with None, every failed entry) due now; returns how many. `force` (one entry only)
    overwrites whatever the directory holds: for a conflict a person has looked at. Raises NotFound, or
    Conflict for an entry that is already applied."""
    now = deps.clock.now()
    async with deps.new_uow() as uow:
        if change_id is None:
            if force:
                raise InvalidInput("Overwriting needs one entry: a person decides each conflict.")
            targets = await uow.outbox.listing([OutboxStatus.FAILED], _RETRY_ALL_LIMIT)
        else:
            change = await uow.outbox.get(change_id)
            if change is None:
                raise NotFound("No outbox entry %(id)s.", params={"id": change_id})
            if change.status is OutboxStatus.APPLIED:
                raise Conflict("Outbox entry %(id)s is already applied.", params={"id": change_id})
            if force and (later := await _later_change_of_the_same_fields(uow, change)) is not None:
                # Overwriting with this entry's values would undo the newer change in the directory.
                raise Conflict(
                    "Outbox entry %(id)s changes the same fields later; decide that one instead.",
                    params={"id": later.id},
                )
            targets = [change]
        for target in targets:
            again = replace(
                target,
                status=OutboxStatus.PENDING,
                attempts=0,
                next_attempt_at=now,
                last_error="",
                conflicts={},
                forced_by=actor if force else "",
            )
            await uow.outbox.update(again)
            action = "directory_change_forced" if force else "directory_change_retried"
            details = {"previous_status": target.status.value, "conflicts": ",".join(sorted(target.conflicts))}
            await uow.audit.add(audit_event(again, now, actor, action, Outcome.SUCCESS, **details))
        await uow.commit()
    deps.wake.set()
    return len(targets)


async def _later_change_of_the_same_fields(uow: OutboxUnitOfWork, change: DirectoryChange) -> DirectoryChange | None:
    later = [
        other
        for other in await uow.outbox.for_employee(change.employee_id, open_only=False)
        if other.login == change.login and entry_id(other) > entry_id(change) and set(other.values) & set(change.values)
    ]
    return later[0] if later else None
