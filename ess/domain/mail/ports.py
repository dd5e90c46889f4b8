"""The ports of durable mail: the queue, the postman that renders and sends, and what the mail use cases run with."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ess.domain.mail.model import ComposedMail, MailStatus, QueuedMail
from ess.domain.outbox.model import RetryPolicy
from ess.domain.shared import Clock, Notice, UnitOfWork


class MailQueue(Protocol):
    """Mails waiting to be sent, written in the same transaction as the change that causes them where possible."""

    async def add(self, mail: QueuedMail) -> QueuedMail:
        """Store a new entry; returns it with its id."""
        ...

    async def get(self, mail_id: int) -> QueuedMail | None: ...

    async def due(self, now: datetime, limit: int) -> list[QueuedMail]:
        """Pending entries with next_attempt_at <= now that no live claim holds, oldest first."""
        ...

    async def claim(self, mail_id: int, *, now: datetime, until: datetime) -> bool:
        """Take a pending entry for sending until `until`, unless another worker holds a live claim on it.
        Atomic: of two workers claiming at once, exactly one gets True."""
        ...

    async def listing(self, statuses: Sequence[MailStatus] | None, limit: int) -> list[QueuedMail]:
        """Entries with one of the statuses (None: all), newest first."""
        ...

    async def update(self, mail: QueuedMail) -> None:
        """Store the entry's new state and release any claim on it."""
        ...


class MailUnitOfWork(UnitOfWork, Protocol):
    @property
    def mail(self) -> MailQueue: ...


class Postman(Protocol):
    """Renders notices into mails and delivers queued ones (SMTP, or files in the demo)."""

    def compose(self, notice: Notice) -> ComposedMail:
        """The mail for a notice: subject and sealed body, in the company's language."""
        ...

    async def deliver(self, mail: QueuedMail) -> None:
        """Send a queued mail; raise ServiceUnavailable when the mail server does not take it."""
        ...


@dataclass(frozen=True, slots=True)
class MailDeps:
    """What the mail use cases run with, wired once by the composition root. Several workers (app processes, the
    CLI) may send at once: each entry is claimed before it is sent, so it is sent once."""

    new_uow: Callable[[], MailUnitOfWork]
    postman: Postman
    clock: Clock
    policy: RetryPolicy
    # Set after a commit that queued a mail: the worker of this process wakes and sends at once.
    wake: asyncio.Event
