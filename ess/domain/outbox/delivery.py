"""Use cases: apply due outbox entries to the directory, and the worker that does so after every commit, on a poll
interval, and with backoff while the directory is unreachable."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Final

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.errors import DomainError, NotFound, ServiceUnavailable
from ess.domain.outbox.model import DirectoryChange, OutboxStatus, audit_event, decide
from ess.domain.outbox.ports import OutboxDeps
from ess.domain.shared import Notice

logger = logging.getLogger("ess.outbox")

SYSTEM_ACTOR: Final = "system:outbox"


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one delivery round did, by entry id."""

    applied: list[int] = field(default_factory=list)
    conflicts: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return len(self.applied) + len(self.conflicts) + len(self.deferred) + len(self.failed)


def entry_id(change: DirectoryChange) -> int:
    assert change.id is not None
    return change.id


async def deliver_due(*, deps: OutboxDeps) -> DeliveryReport:
    """Claim the due entries and apply each one; see `decide` for what is written."""
    now = deps.clock.now()
    claimed: list[DirectoryChange] = []
    async with deps.new_uow() as uow:
        for change in await uow.outbox.due(now, deps.policy.batch_size):
            until = now + timedelta(seconds=deps.policy.claim_seconds)
            if await uow.outbox.claim(entry_id(change), now=now, until=until):
                claimed.append(change)
        await uow.commit()
    report = DeliveryReport()
    unreachable: DirectoryChange | None = None
    for change in claimed:
        if unreachable is not None:
            # The directory did not answer a moment ago: the others wait with it, without counting an attempt.
            await _store(deps, replace(change, next_attempt_at=unreachable.next_attempt_at))
            report.deferred.append(entry_id(change))
            continue
        done = await _deliver(change, deps)
        {
            OutboxStatus.APPLIED: report.applied,
            OutboxStatus.CONFLICT: report.conflicts,
            OutboxStatus.FAILED: report.failed,
            OutboxStatus.PENDING: report.deferred,
        }[done.status].append(entry_id(done))
        if done.status is OutboxStatus.PENDING:
            unreachable = done
    return report


async def _deliver(change: DirectoryChange, deps: OutboxDeps) -> DirectoryChange:
    now = deps.clock.now()
    attempted = replace(change, attempts=change.attempts + 1, last_attempt_at=now)
    try:
        current = await deps.directory.read_attributes(change.login, change.fields)
        decision = decide(change, current)
        if decision.is_conflict:
            return await _conflict(replace(attempted, conflicts=decision.conflicts), now, deps)
        if decision.to_write:
            await deps.directory.write_attributes(change.login, decision.to_write)
    except ServiceUnavailable as exc:
        return await _unreachable(attempted, now, exc.message, deps)
    except NotFound:
        return await _failed(attempted, now, "The account does not exist in the directory.", deps)
    except DomainError as exc:
        return await _failed(attempted, now, exc.message, deps)
    except Exception:  # a bug or an adapter surprise: keep the entry and try again later, like an outage
        logger.exception("Unexpected error applying directory change %s", change.id)
        return await _unreachable(attempted, now, "Unexpected error (see the server log).", deps)
    applied = replace(
        attempted, status=OutboxStatus.APPLIED, applied_at=now, next_attempt_at=None, last_error="", conflicts={}
    )
    written = ",".join(sorted(decision.to_write))
    event = audit_event(
        applied,
        now,
        SYSTEM_ACTOR,
        "directory_change_applied",
        Outcome.SUCCESS,
        written=written,
        forced_by=change.forced_by or None,
    )
    await _store(deps, applied, event)
    return applied


async def _conflict(change: DirectoryChange, now: datetime, deps: OutboxDeps) -> DirectoryChange:
    conflict = replace(
        change,
        status=OutboxStatus.CONFLICT,
        next_attempt_at=None,
        last_error="The directory holds other values than expected; nothing was written.",
    )
    names = ",".join(sorted(conflict.conflicts))
    event = audit_event(conflict, now, SYSTEM_ACTOR, "directory_change_conflict", Outcome.FAILURE, conflicts=names)
    await _store(deps, conflict, event)
    logger.warning(
        "Directory change %s for %s not applied: the directory holds unexpected values in %s. "
        "Correct the directory and run `ess outbox retry %s`, or overwrite with `--force`.",
        conflict.id,
        conflict.login,
        names,
        conflict.id,
    )
    if deps.notifier is not None and deps.hr_recipients:
        await deps.notifier.notify(
            Notice(
                kind="directory_conflict",
                to=deps.hr_recipients,
                params={"change_id": str(conflict.id), "login": conflict.login, "fields": names.replace(",", ", ")},
            )
        )
    return conflict


async def _unreachable(change: DirectoryChange, now: datetime, reason: str, deps: OutboxDeps) -> DirectoryChange:
    if deps.policy.gives_up_after(change.attempts):
        return await _failed(change, now, f"Gave up after {change.attempts} attempts: {reason}", deps)
    deferred = replace(change, next_attempt_at=now + deps.policy.backoff(change.attempts), last_error=reason)
    # Audited once per outage, not per attempt: the log has every attempt, the audit log the state changes.
    event = None
    if change.attempts == 1:
        event = audit_event(deferred, now, SYSTEM_ACTOR, "directory_change_deferred", Outcome.FAILURE)
    await _store(deps, deferred, event)
    logger.info("Directory change %s deferred (attempt %s): %s", change.id, change.attempts, reason)
    return deferred


async def _failed(change: DirectoryChange, now: datetime, reason: str, deps: OutboxDeps) -> DirectoryChange:
    failed = replace(change, status=OutboxStatus.FAILED, next_attempt_at=None, last_error=reason)
    await _store(deps, failed, audit_event(failed, now, SYSTEM_ACTOR, "directory_change_failed", Outcome.FAILURE))
    logger.warning("Directory change %s for %s failed: %s", failed.id, failed.login, reason)
    return failed


async def _store(deps: OutboxDeps, change: DirectoryChange, event: AuditEvent | None = None) -> None:
    async with deps.new_uow() as uow:
        await uow.outbox.update(change)
        if event is not None:
            await uow.audit.add(event)
        await uow.commit()


async def run_worker(stop: asyncio.Event, *, deps: OutboxDeps) -> None:
    """The background worker: deliver, then sleep until woken (`deps.wake`), stopped or the poll interval has
    passed."""
    while not stop.is_set():
        deps.wake.clear()
        try:
            report = await deliver_due(deps=deps)
        except Exception:  # the database may be away too: log, and try again at the next poll
            logger.exception("The directory outbox could not be processed")
            report = DeliveryReport()
        if report.handled >= deps.policy.batch_size or report.applied:
            continue  # more may be waiting, e.g. the next change of a login whose earlier one just landed
        await _sleep(stop, deps)


async def _sleep(stop: asyncio.Event, deps: OutboxDeps) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(deps.wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=deps.policy.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        for waiter in waiters:
            with contextlib.suppress(asyncio.CancelledError):
                await waiter
