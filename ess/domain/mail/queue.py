"""Queueing a notice as a mail, inside the caller's transaction or in its own, and the Notifier that does so."""

from __future__ import annotations

import logging
from datetime import datetime

from ess.domain.audit import Outcome
from ess.domain.errors import ServiceUnavailable
from ess.domain.mail.delivery import give_up, send_now
from ess.domain.mail.model import MailStatus, QueuedMail, audit_event, queued
from ess.domain.mail.ports import MailDeps, MailUnitOfWork, Postman
from ess.domain.shared import Notice

logger = logging.getLogger("ess.mail")


async def queue_notice(
    uow: MailUnitOfWork, notice: Notice, *, postman: Postman, now: datetime, actor: str
) -> QueuedMail:
    """Queue the mail of a notice inside the caller's open unit of work: it is sent if and only if the caller
    commits. Wake the worker (the mail deps' `wake`) after the commit."""
    mail = await uow.mail.add(queued(postman.compose(notice), now))
    await uow.audit.add(audit_event(mail, now, actor, "mail_queued", Outcome.SUCCESS))
    return mail


class QueuedNotifier:
    """Implements the Notifier port with the mail queue: every notice is committed to the queue before anything is
    sent, then sent at once by this process; whatever does not go out is retried by the workers of every process."""

    def __init__(self, deps: MailDeps, *, actor: str = "system:notifier") -> None:
        self._deps = deps
        self._actor = actor

    async def _queue(self, notice: Notice) -> QueuedMail:
        deps = self._deps
        async with deps.new_uow() as uow:
            mail = await queue_notice(uow, notice, postman=deps.postman, now=deps.clock.now(), actor=self._actor)
            await uow.commit()
        return mail

    async def notify(self, notice: Notice) -> None:
        """Queue and try at once; a mail server outage leaves the mail queued (the change is saved already)."""
        try:
            mail = await self._queue(notice)
        except Exception:  # the change is saved; a queue that cannot be written must not undo it, but is logged
            logger.exception("The %s notification could not be queued", notice.kind)
            return
        await self.send_queued(mail)

    async def notify_first(self, notice: Notice) -> None:
        """Queue durably and send before the caller changes anything; raise ServiceUnavailable when it does not go
        out now (then the mail is given up too: the change it announces will not be made)."""
        try:
            mail = await self._queue(notice)
        except ServiceUnavailable:
            raise
        except Exception as exc:
            logger.exception("The %s notification could not be queued", notice.kind)
            raise ServiceUnavailable("The notice cannot be sent right now.") from exc
        done = await send_now(_id(mail), deps=self._deps)
        if done is None or done.status is not MailStatus.SENT:
            await give_up(
                done or mail, "Not sent before the change it announces; the change was not made.", deps=self._deps
            )
            raise ServiceUnavailable("The mail server cannot take the mail right now.")

    async def send_queued(self, mail: QueuedMail) -> None:
        await send_queued(mail, deps=self._deps)


async def send_queued(mail: QueuedMail, *, deps: MailDeps) -> None:
    """Send a mail that the caller's transaction queued (`queue_notice`) and committed, at once; on trouble leave it
    to the worker (woken, or at its next poll)."""
    try:
        done = await send_now(_id(mail), deps=deps)
    except Exception:  # the mail stays queued: the worker sends it
        logger.exception("Mail %s could not be sent at once; it stays queued", mail.id)
        done = None
    if done is None or done.status is not MailStatus.SENT:
        deps.wake.set()


def _id(mail: QueuedMail) -> int:
    assert mail.id is not None
    return mail.id
