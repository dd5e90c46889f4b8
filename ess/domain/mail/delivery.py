"""Use cases: send due mails (the worker after every commit that queued one, on a poll interval and with backoff
while the mail server is away), and send one queued mail at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Final

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.errors import ServiceUnavailable
from ess.domain.mail.model import MailStatus, QueuedMail, audit_event
from ess.domain.mail.ports import MailDeps

logger = logging.getLogger("ess.mail")

SYSTEM_ACTOR: Final = "system:mail"


@dataclass(frozen=True, slots=True)
class SendReport:
    """What one round did, by mail id."""

    sent: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return len(self.sent) + len(self.deferred) + len(self.failed)


def mail_id(mail: QueuedMail) -> int:
    assert mail.id is not None
    return mail.id


async def send_due(*, deps: MailDeps) -> SendReport:
    """Claim the due mails and send each one. After the mail server refused one, the rest of the batch waits with
    it (without counting an attempt)."""
    now = deps.clock.now()
    claimed: list[QueuedMail] = []
    async with deps.new_uow() as uow:
        for mail in await uow.mail.due(now, deps.policy.batch_size):
            if await uow.mail.claim(mail_id(mail), now=now, until=now + timedelta(seconds=deps.policy.claim_seconds)):
                claimed.append(mail)
        await uow.commit()
    report = SendReport()
    unreachable: QueuedMail | None = None
    for mail in claimed:
        if unreachable is not None:
            await _store(deps, replace(mail, next_attempt_at=unreachable.next_attempt_at))
            report.deferred.append(mail_id(mail))
            continue
        done = await _send(mail, deps)
        {MailStatus.SENT: report.sent, MailStatus.FAILED: report.failed, MailStatus.PENDING: report.deferred}[
            done.status
        ].append(mail_id(done))
        if done.status is MailStatus.PENDING:
            unreachable = done
    return report


async def send_now(queued_id: int, *, deps: MailDeps) -> QueuedMail | None:
    """Send one queued mail at once, unless a worker holds it already; returns its new state (None when another
    worker has it)."""
    now = deps.clock.now()
    async with deps.new_uow() as uow:
        mail = await uow.mail.get(queued_id)
        claimed = mail is not None and await uow.mail.claim(
            queued_id, now=now, until=now + timedelta(seconds=deps.policy.claim_seconds)
        )
        await uow.commit()
    if mail is None or not claimed:
        return None
    return await _send(mail, deps)


async def give_up(mail: QueuedMail, reason: str, *, deps: MailDeps) -> None:
    """Mark a mail failed that must not go out any more (a notice that had to be sent before a change that was
    then not made)."""
    now = deps.clock.now()
    failed = replace(mail, status=MailStatus.FAILED, next_attempt_at=None, last_error=reason, body="")
    await _store(deps, failed, audit_event(failed, now, SYSTEM_ACTOR, "mail_failed", Outcome.FAILURE))


async def _send(mail: QueuedMail, deps: MailDeps) -> QueuedMail:
    now = deps.clock.now()
    attempted = replace(mail, attempts=mail.attempts + 1, last_attempt_at=now)
    try:
        await deps.postman.deliver(mail)
    except ServiceUnavailable as exc:
        return await _unreachable(attempted, exc.message, deps)
    except Exception:  # a bug or an adapter surprise: keep the mail and try again later, like an outage
        logger.exception("Unexpected error sending mail %s", mail.id)
        return await _unreachable(attempted, "Unexpected error (see the server log).", deps)
    # The body goes: once sent, the database keeps no one-time link.
    sent = replace(attempted, status=MailStatus.SENT, sent_at=now, next_attempt_at=None, last_error="", body="")
    await _store(deps, sent, audit_event(sent, now, SYSTEM_ACTOR, "mail_sent", Outcome.SUCCESS))
    return sent


async def _unreachable(mail: QueuedMail, reason: str, deps: MailDeps) -> QueuedMail:
    now = deps.clock.now()
    if deps.policy.gives_up_after(mail.attempts):
        failed = replace(mail, status=MailStatus.FAILED, next_attempt_at=None, last_error=f"Gave up: {reason}")
        await _store(deps, failed, audit_event(failed, now, SYSTEM_ACTOR, "mail_failed", Outcome.FAILURE))
        logger.warning("Mail %s (%s) given up after %s attempts: %s", mail.id, mail.kind, mail.attempts, reason)
        return failed
    deferred = replace(mail, next_attempt_at=now + deps.policy.backoff(mail.attempts), last_error=reason)
    # Audited once per outage, not per attempt: the log has every attempt, the audit log the state changes.
    event = audit_event(deferred, now, SYSTEM_ACTOR, "mail_deferred", Outcome.FAILURE) if mail.attempts == 1 else None
    await _store(deps, deferred, event)
    logger.info("Mail %s (%s) deferred (attempt %s): %s", mail.id, mail.kind, mail.attempts, reason)
    return deferred


async def _store(deps: MailDeps, mail: QueuedMail, event: AuditEvent | None = None) -> None:
    async with deps.new_uow() as uow:
        await uow.mail.update(mail)
        if event is not None:
            await uow.audit.add(event)
        await uow.commit()


async def run_worker(stop: asyncio.Event, *, deps: MailDeps) -> None:
    """The background worker: send, then sleep until woken (`deps.wake`), stopped or the poll interval has passed."""
    while not stop.is_set():
        deps.wake.clear()
        try:
            report = await send_due(deps=deps)
        except Exception:  # the database may be away too: log, and try again at the next poll
            logger.exception("The mail queue could not be processed")
            report = SendReport()
        if report.handled >= deps.policy.batch_size:
            continue
        await _sleep(stop, deps)


async def _sleep(stop: asyncio.Event, deps: MailDeps) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(deps.wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=deps.policy.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        for waiter in waiters:
            with contextlib.suppress(asyncio.CancelledError):
                await waiter
