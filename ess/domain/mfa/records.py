"""What every second-factor use case shares: the confirmed factors of an account, failure counting before any check,
audit events and the notice to the owner."""

from __future__ import annotations

import hashlib

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.errors import Throttled
from ess.domain.mfa.model import Factor, MfaPage
from ess.domain.mfa.ports import MfaDeps
from ess.domain.recovery.records import addresses, load_contact, name_of, notify
from ess.domain.shared import Link


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


async def confirmed_factors(login: str, *, deps: MfaDeps) -> list[Factor]:
    async with deps.new_uow() as uow:
        return [f for f in await uow.factors.factors(login) if f.confirmed]


async def count_failure(login: str, client: str, *, deps: MfaDeps) -> None:
    """Counted before the code or passkey is checked, so parallel guesses cannot slip past; a success takes its place
    back. Only someone who knew the password gets here, so the account's limit locks out no stranger's victim."""
    policy = deps.policy
    window = int(policy.failure_window.total_seconds())
    by_account = await deps.attempts.hit("mfa-account:" + _digest(login), window)
    by_client = await deps.attempts.hit("mfa-client:" + client, window)
    if by_account > policy.failures_per_account or by_client > policy.failures_per_client:
        await audit(deps, login, "mfa.throttled", Outcome.DENIED, login, client)
        raise Throttled("Too many wrong codes. Please wait a few minutes.", retry_after_seconds=window)


async def refund(login: str, client: str, *, deps: MfaDeps) -> None:
    await deps.attempts.release("mfa-account:" + _digest(login))
    await deps.attempts.release("mfa-client:" + client)


async def audit(  # noqa: PLR0917 - an audit line reads best as one positional sentence
    deps: MfaDeps, actor: str, action: str, outcome: Outcome, target: str, client: str, **details: str | int | bool
) -> None:
    async with deps.new_uow() as uow:
        await uow.audit.add(event(deps, actor, action, outcome, target, client, **details))
        await uow.commit()


def event(  # noqa: PLR0917
    deps: MfaDeps, actor: str, action: str, outcome: Outcome, target: str, client: str, **details: str | int | bool
) -> AuditEvent:
    return AuditEvent(
        occurred_at=deps.clock.now(),
        actor=actor,
        action=action,
        outcome=outcome,
        target=target,
        client_address=client,
        details=details,
    )


async def tell_owner(deps: MfaDeps, login: str, change: str, **params: str) -> None:
    """Work and verified private address hear of every change of the login's second factors (`change`: enrolled,
    removed, codes, reset)."""
    contact = await load_contact(deps.recovery, login)
    await notify(
        deps.recovery,
        "mfa_changed",
        addresses(contact),
        name=name_of(contact, login),
        change=change,
        link=Link(MfaPage.SETTINGS),
        **params,
    )
