"""Outbox use cases: queue a directory change with the HR change, deliver due changes, retry, and the worker loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Final

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.errors import Conflict, DomainError, InvalidInput, NotFound, ServiceUnavailable
from ess.domain.outbox.model import DirectoryChange, OutboxStatus, RetryPolicy, changed_fields, decide
from ess.domain.ports import Clock, Directory, Notice, Notifier, UnitOfWork
from ess.domain.types import EmployeeId

logger = logging.getLogger("ess.outbox")

SYSTEM_ACTOR: Final = "system:outbox"
# Enough for every failed entry an operator would retry at once; listing is capped so a CLI call stays bounded.
_RETRY_ALL_LIMIT: Final = 10_000


async def record_directory_change(
    uow: UnitOfWork,
    *,
    employee_id: EmployeeId,
    login: str,
    old: Mapping[str, str],
    new: Mapping[str, str],
    now: datetime,
    actor: str,
) -> DirectoryChange | None:
    """Queue the fields of `new` that differ from `old` for the directory, inside the caller's open unit of work
    (committed with the HR change, or not at all). Returns None when nothing changed. Call `DirectorySync.kick()`
    after the commit so the change is applied at once."""
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
    await uow.audit.add(_event(change, now, actor, "directory_change_queued", Outcome.SUCCESS))
    return change


async def pending_fields(uow: UnitOfWork, employee_id: EmployeeId) -> set[str]:
    """The HR fields of an employee not yet in the directory ("pending synchronisation"), in an open unit of work."""
    return {name for change in await uow.outbox.for_employee(employee_id, open_only=True) for name in change.values}


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


class DirectorySync:
    """Applies outbox entries to the directory: right after a commit (kick), on a poll interval, and with backoff
    while the directory is unreachable. Several workers (app processes, the CLI) may run at once: each entry is
    claimed before it is applied, so it is applied once."""

    def __init__(
        self,
        *,
        new_uow: Callable[[], UnitOfWork],
        directory: Directory,
        clock: Clock,
        policy: RetryPolicy,
        notifier: Notifier | None = None,
        hr_recipients: Sequence[str] = (),
    ) -> None:
        self._new_uow = new_uow
        self._directory = directory
        self._clock = clock
        self.policy = policy
        self._notifier = notifier
        self._hr_recipients = tuple(hr_recipients)
        self._wake = asyncio.Event()

    def kick(self) -> None:
        """Wake the background worker (call after committing a unit of work that queued a change)."""
        self._wake.set()

    async def deliver_due(self) -> DeliveryReport:
        """Claim the due entries and apply each one; see `decide` for what is written."""
        now = self._clock.now()
        claimed: list[DirectoryChange] = []
        async with self._new_uow() as uow:
            for change in await uow.outbox.due(now, self.policy.batch_size):
                assert change.id is not None
                until = now + timedelta(seconds=self.policy.claim_seconds)
                if await uow.outbox.claim(change.id, now=now, until=until):
                    claimed.append(change)
            await uow.commit()
        report = DeliveryReport()
        unreachable: DirectoryChange | None = None
        for change in claimed:
            if unreachable is not None:
                # The directory did not answer a moment ago: the others wait with it, without counting an attempt.
                await self._store(replace(change, next_attempt_at=unreachable.next_attempt_at))
                report.deferred.append(_id(change))
                continue
            done = await self._deliver(change)
            {
                OutboxStatus.APPLIED: report.applied,
                OutboxStatus.CONFLICT: report.conflicts,
                OutboxStatus.FAILED: report.failed,
                OutboxStatus.PENDING: report.deferred,
            }[done.status].append(_id(done))
            if done.status is OutboxStatus.PENDING:
                unreachable = done
        return report

    async def _deliver(self, change: DirectoryChange) -> DirectoryChange:
        now = self._clock.now()
        attempted = replace(change, attempts=change.attempts + 1, last_attempt_at=now)
        try:
            current = await self._directory.read_attributes(change.login, change.fields)
            decision = decide(change, current)
            if decision.is_conflict:
                return await self._conflict(replace(attempted, conflicts=decision.conflicts), now)
            if decision.to_write:
                await self._directory.write_attributes(change.login, decision.to_write)
        except ServiceUnavailable as exc:
            return await self._unreachable(attempted, now, exc.message)
        except NotFound:
            return await self._failed(attempted, now, "The account does not exist in the directory.")
        except DomainError as exc:
            return await self._failed(attempted, now, exc.message)
        except Exception:  # a bug or an adapter surprise: keep the entry and try again later, like an outage
            logger.exception("Unexpected error applying directory change %s", change.id)
            return await self._unreachable(attempted, now, "Unexpected error (see the server log).")
        applied = replace(
            attempted, status=OutboxStatus.APPLIED, applied_at=now, next_attempt_at=None, last_error="", conflicts={}
        )
        await self._store(
            applied,
            _event(
                applied,
                now,
                SYSTEM_ACTOR,
                "directory_change_applied",
                Outcome.SUCCESS,
                written=",".join(sorted(decision.to_write)),
                forced_by=change.forced_by or None,
            ),
        )
        return applied

    async def _conflict(self, change: DirectoryChange, now: datetime) -> DirectoryChange:
        conflict = replace(
            change,
            status=OutboxStatus.CONFLICT,
            next_attempt_at=None,
            last_error="The directory holds other values than expected; nothing was written.",
        )
        names = ",".join(sorted(conflict.conflicts))
        await self._store(
            conflict,
            _event(conflict, now, SYSTEM_ACTOR, "directory_change_conflict", Outcome.FAILURE, conflicts=names),
        )
        logger.warning(
            "Directory change %s for %s not applied: the directory holds unexpected values in %s. "
            "Correct the directory and run `ess outbox retry %s`, or overwrite with `--force`.",
            conflict.id,
            conflict.login,
            names,
            conflict.id,
        )
        if self._notifier is not None and self._hr_recipients:
            await self._notifier.notify(
                Notice(
                    kind="directory_conflict",
                    to=self._hr_recipients,
                    params={"change_id": str(conflict.id), "login": conflict.login, "fields": names.replace(",", ", ")},
                )
            )
        return conflict

    async def _unreachable(self, change: DirectoryChange, now: datetime, reason: str) -> DirectoryChange:
        if self.policy.gives_up_after(change.attempts):
            return await self._failed(change, now, f"Gave up after {change.attempts} attempts: {reason}")
        deferred = replace(change, next_attempt_at=now + self.policy.backoff(change.attempts), last_error=reason)
        # Audited once per outage, not per attempt: the log has every attempt, the audit log the state changes.
        event = None
        if change.attempts == 1:
            event = _event(deferred, now, SYSTEM_ACTOR, "directory_change_deferred", Outcome.FAILURE)
        await self._store(deferred, event)
        logger.info("Directory change %s deferred (attempt %s): %s", change.id, change.attempts, reason)
        return deferred

    async def _failed(self, change: DirectoryChange, now: datetime, reason: str) -> DirectoryChange:
        failed = replace(change, status=OutboxStatus.FAILED, next_attempt_at=None, last_error=reason)
        await self._store(failed, _event(failed, now, SYSTEM_ACTOR, "directory_change_failed", Outcome.FAILURE))
        logger.warning("Directory change %s for %s failed: %s", failed.id, failed.login, reason)
        return failed

    async def _store(self, change: DirectoryChange, event: AuditEvent | None = None) -> None:
        async with self._new_uow() as uow:
            await uow.outbox.update(change)
            if event is not None:
                await uow.audit.add(event)
            await uow.commit()

    async def retry(self, change_id: int | None, *, force: bool = False, actor: str = SYSTEM_ACTOR) -> int:
        """Make an entry (or, with None, every failed entry) due now; returns how many. `force` (one entry only)
        overwrites whatever the directory holds: for a conflict a person has looked at. Raises NotFound, or
        Conflict for an entry that is already applied."""
        now = self._clock.now()
        async with self._new_uow() as uow:
            if change_id is None:
                if force:
                    raise InvalidInput("Overwriting needs one entry: a person decides each conflict.")
                targets = await uow.outbox.listing([OutboxStatus.FAILED], _RETRY_ALL_LIMIT)
            else:
                change = await uow.outbox.get(change_id)
                if change is None:
                    raise NotFound(f"No outbox entry {change_id}.")
                if change.status is OutboxStatus.APPLIED:
                    raise Conflict(f"Outbox entry {change_id} is already applied.")
                if force and (later := await _later_change_of_the_same_fields(uow, change)) is not None:
                    # Overwriting with this entry's values would undo the newer change in the directory.
                    raise Conflict(f"Outbox entry {later.id} changes the same fields later; decide that one instead.")
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
                await uow.audit.add(_event(again, now, actor, action, Outcome.SUCCESS, **details))
            await uow.commit()
        self.kick()
        return len(targets)

    async def run_forever(self, stop: asyncio.Event) -> None:
        """The background worker: deliver, then sleep until kicked, stopped or the poll interval has passed."""
        while not stop.is_set():
            self._wake.clear()
            try:
                report = await self.deliver_due()
            except Exception:  # the database may be away too: log, and try again at the next poll
                logger.exception("The directory outbox could not be processed")
                report = DeliveryReport()
            if report.handled >= self.policy.batch_size or report.applied:
                continue  # more may be waiting, e.g. the next change of a login whose earlier one just landed
            await self._sleep(stop)

    async def _sleep(self, stop: asyncio.Event) -> None:
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waiters, timeout=self.policy.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            for waiter in waiters:
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter


async def _later_change_of_the_same_fields(uow: UnitOfWork, change: DirectoryChange) -> DirectoryChange | None:
    later = [
        other
        for other in await uow.outbox.for_employee(change.employee_id, open_only=False)
        if other.login == change.login and _id(other) > _id(change) and set(other.values) & set(change.values)
    ]
    return later[0] if later else None


def _id(change: DirectoryChange) -> int:
    assert change.id is not None
    return change.id


def _event(
    change: DirectoryChange, now: datetime, actor: str, action: str, outcome: Outcome, **extra: str | int | None
) -> AuditEvent:
    # Field names only: the values are personal data and are audited by the use case that changed them.
    details: dict[str, str | int | bool | None] = {
        "change": change.id,
        "fields": ",".join(change.fields),
        "attempts": change.attempts,
    }
    details.update({key: value for key, value in extra.items() if value is not None})
    return AuditEvent(
        occurred_at=now, actor=actor, action=action, outcome=outcome, target=change.login, details=details
    )
