"""Use cases: enrol an authenticator app (TOTP) as the second factor of recovery, confirm it with a first code, or
remove it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ess.domain.audit import Outcome
from ess.domain.auth.model import Principal
from ess.domain.recovery.enrolment import confirm_password
from ess.domain.recovery.limits import count_failure, refund
from ess.domain.recovery.model import RecoveryPage, SecondFactorFailed
from ess.domain.recovery.ports import RecoveryDeps
from ess.domain.recovery.records import addresses, audit, event, load_contact, name_of, notify
from ess.domain.recovery.verification import totp_step
from ess.domain.shared import Link


@dataclass(frozen=True, slots=True)
class TotpSetup:
    secret: str
    uri: str


async def start_totp(principal: Principal, password: str, *, client: str, deps: RecoveryDeps) -> TotpSetup:
    """A new secret waiting for its first code; the active one (if any) stays until then."""
    await confirm_password(deps, principal, password, client, "recovery.totp_start")
    secret = deps.authenticator.new_secret()
    login = principal.login
    async with deps.new_uow() as uow:
        profile = await uow.recovery.profile(login)
        await uow.recovery.save_profile(replace(profile, totp_pending=deps.box.seal(secret)))
        await uow.commit()
    return TotpSetup(
        secret=secret, uri=deps.authenticator.provisioning_uri(secret, account=login, issuer=deps.policy.totp_issuer)
    )


async def pending_totp(principal: Principal, *, deps: RecoveryDeps) -> TotpSetup | None:
    async with deps.new_uow() as uow:
        profile = await uow.recovery.profile(principal.login)
    if not profile.totp_pending:
        return None
    secret = deps.box.open(profile.totp_pending)
    uri = deps.authenticator.provisioning_uri(secret, account=principal.login, issuer=deps.policy.totp_issuer)
    return TotpSetup(secret=secret, uri=uri)


async def confirm_totp(principal: Principal, code: str, *, client: str, deps: RecoveryDeps) -> None:
    """The first code from the app proves it holds the secret: from now on resets need a code too."""
    login = principal.login
    await count_failure(deps, client, login)
    now = deps.clock.now()
    async with deps.new_uow() as uow:
        profile = await uow.recovery.profile(login)
    step = totp_step(deps, profile.totp_pending, code, now) if profile.totp_pending else None
    if step is None:
        await audit(deps, login, "recovery.totp_enrolled", Outcome.FAILURE, login, client, reason="wrong_code")
        raise SecondFactorFailed("The code is not correct.")
    async with deps.new_uow() as uow:
        await uow.recovery.save_profile(
            replace(profile, totp_secret=profile.totp_pending, totp_pending="", totp_last_step=step)
        )
        await uow.audit.add(event(login, "recovery.totp_enrolled", Outcome.SUCCESS, login, client, at=now))
        await uow.commit()
    await refund(deps, client, login)
    await _tell_owner(deps, login, enrolled=True)


async def remove_totp(principal: Principal, password: str, *, client: str, deps: RecoveryDeps) -> None:
    await confirm_password(deps, principal, password, client, "recovery.totp_remove")
    login = principal.login
    async with deps.new_uow() as uow:
        profile = await uow.recovery.profile(login)
        await uow.recovery.save_profile(replace(profile, totp_secret="", totp_pending="", totp_last_step=0))
        await uow.audit.add(event(login, "recovery.totp_removed", Outcome.SUCCESS, login, client, at=deps.clock.now()))
        await uow.commit()
    await _tell_owner(deps, login, enrolled=False)


async def _tell_owner(deps: RecoveryDeps, login: str, *, enrolled: bool) -> None:
    """Both mailboxes hear that the second factor of recovery changed (a hijacker's change does not go unnoticed)."""
    contact = await load_contact(deps, login)
    await notify(
        deps,
        "recovery_totp_changed",
        addresses(contact),
        name=name_of(contact, login),
        enrolled="yes" if enrolled else "no",
        link=Link(RecoveryPage.SECURITY),
    )
