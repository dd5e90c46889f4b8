"""Use case: an operator makes failed mails (one, or all) due again."""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from ess.domain.audit import Outcome
from ess.domain.errors import Conflict, NotFound
from ess.domain.mail.delivery import SYSTEM_ACTOR
from ess.domain.mail.model import MailStatus, audit_event
from ess.domain.mail.ports import MailDeps

_RETRY_ALL_LIMIT: Final = 10_000


async def retry(queued_id: int | None, *, deps: MailDeps, actor: str = SYSTEM_ACTOR) -> int:
    """Make a mail (or, with None, every failed mail) due now; returns how many. Raises NotFound, or Conflict for
    a mail already sent or one whose text is gone (given up before a change that was not made)."""
    now = deps.clock.now()
    async with deps.new_uow() as uow:
        if queued_id is None:
            targets = [m for m in await uow.mail.listing([MailStatus.FAILED], _RETRY_ALL_LIMIT) if m.body]
        else:
            mail = await uow.mail.get(queued_id)
            if mail is None:
                raise NotFound("No queued mail %(id)s.", params={"id": queued_id})
            if mail.status is MailStatus.SENT:
                raise Conflict("Mail %(id)s is sent already.", params={"id": queued_id})
            if not mail.body:
                raise Conflict("Mail %(id)s was withdrawn and cannot be sent.", params={"id": queued_id})
            targets = [mail]
        for target in targets:
            again = replace(target, status=MailStatus.PENDING, attempts=0, next_attempt_at=now, last_error="")
            await uow.mail.update(again)
            await uow.audit.add(
                audit_event(again, now, actor, "mail_retried", Outcome.SUCCESS, previous_status=target.status.value)
            )
        await uow.commit()
    deps.wake.set()
    return len(targets)
