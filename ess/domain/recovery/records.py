"""What every recovery use case writes and tells: audit events (never a secret: no password, token, code or TOTP
seed ever reaches an audit detail or a log), the account's contact addresses, and notices."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.recovery.model import RecoveryContact
from ess.domain.recovery.ports import RecoveryDeps
from ess.domain.shared import Link, Notice

ANONYMOUS: Final = "(anonymous)"


async def audit(  # noqa: PLR0917 - an audit line reads best as one positional sentence
    deps: RecoveryDeps,
    actor: str,
    action: str,
    outcome: Outcome,
    target: str,
    client: str,
    **details: str | int | bool | None,
) -> None:
    async with deps.new_uow() as uow:
        await uow.audit.add(
            event(actor or ANONYMOUS, action, outcome, target, client, at=deps.clock.now(), details=details)
        )
        await uow.commit()


def event(
    actor: str,
    action: str,
    outcome: Outcome,
    target: str,
    client: str,
    *,
    at: datetime,
    details: Mapping[str, str | int | bool | None] | None = None,
) -> AuditEvent:
    """The audit event of a recovery step, for a caller that writes it in its own transaction."""
    return AuditEvent(
        occurred_at=at,
        actor=actor,
        action=action,
        outcome=outcome,
        target=target,
        client_address=client,
        details=details or {},
    )


async def load_contact(deps: RecoveryDeps, login: str) -> RecoveryContact | None:
    async with deps.new_uow() as uow:
        return await uow.recovery.contact(login)


def addresses(contact: RecoveryContact | None, *extra: str) -> tuple[str, ...]:
    """Work and verified private e-mail (plus `extra`), each once."""
    found: list[str] = []
    candidates = [contact.work_email, contact.verified_private_email] if contact else []
    for address in [*candidates, *extra]:
        if address and address.lower() not in (a.lower() for a in found):
            found.append(address)
    return tuple(found)


async def notify(deps: RecoveryDeps, kind: str, to: tuple[str, ...], link: Link, **params: str) -> None:
    if to:
        await deps.notifier.notify(Notice(kind=kind, to=to, params=params, link=link))


def name_of(contact: RecoveryContact | None, login: str) -> str:
    return contact.display_name if contact and contact.display_name else login
