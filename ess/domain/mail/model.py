"""Queued mails, their states and the audit events of what happened to one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from ess.domain.audit import AuditEvent, Outcome


class MailStatus(StrEnum):
    PENDING = "pending"  # waiting to be sent (also while the mail server is unreachable)
    SENT = "sent"  # the mail server took it
    FAILED = "failed"  # gave up: too many attempts, or a notice that had to go out first and could not


OPEN_STATUSES: Final = frozenset({MailStatus.PENDING, MailStatus.FAILED})


@dataclass(frozen=True, slots=True)
class ComposedMail:
    """A notice rendered for sending. `body` is opaque to the domain: the adapter that composed it seals it (it may
    carry a one-time link) and opens it again to send."""

    kind: str
    to: tuple[str, ...]
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class QueuedMail:
    """One mail in the queue."""

    id: int | None
    kind: str  # the notice's kind (its template): what the mail is about, never its text
    to: tuple[str, ...]
    subject: str
    body: str  # sealed; emptied once sent, so the database keeps no link longer than needed
    status: MailStatus
    created_at: datetime
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_error: str = ""  # a plain reason, never a secret
    sent_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


def queued(mail: ComposedMail, now: datetime) -> QueuedMail:
    """A new queue entry, due at once."""
    return QueuedMail(
        id=None,
        kind=mail.kind,
        to=mail.to,
        subject=mail.subject,
        body=mail.body,
        status=MailStatus.PENDING,
        created_at=now,
        next_attempt_at=now,
    )


def audit_event(
    mail: QueuedMail, now: datetime, actor: str, action: str, outcome: Outcome, **extra: str | int | None
) -> AuditEvent:
    """What happened to a mail: its id, kind, number of recipients and attempts; never its text or addresses
    (they are personal data; the use case that caused the mail audits the person)."""
    details: dict[str, str | int | bool | None] = {
        "mail": mail.id,
        "recipients": len(mail.to),
        "attempts": mail.attempts,
    }
    details.update({key: value for key, value in extra.items() if value is not None})
    return AuditEvent(occurred_at=now, actor=actor, action=action, outcome=outcome, target=mail.kind, details=details)
