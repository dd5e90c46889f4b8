"""Use case: a new password through a reset link, after the second factor and the same checks as every password."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from ess.domain.audit import Outcome
from ess.domain.auth.model import Purpose
from ess.domain.auth.sessions import revoke_access
from ess.domain.directory.model import normalise_password
from ess.domain.errors import NotFound, ServiceUnavailable
from ess.domain.passwords.checks import PasswordRejected, check_new_password
from ess.domain.recovery.model import RecoveryPage
from ess.domain.recovery.ports import RecoveryDeps
from ess.domain.recovery.records import ANONYMOUS, addresses, audit, event, load_contact, name_of, notify
from ess.domain.recovery.verification import claim, load_link, second_factor
from ess.domain.shared import Link

logger = logging.getLogger("ess.recovery")


@dataclass(frozen=True, slots=True)
class ResetPassword:
    token: str
    new: str
    repeat: str
    client: str
    totp_code: str = ""
    sms_code: str = ""


async def reset_password(cmd: ResetPassword, *, deps: RecoveryDeps) -> None:
    """New password through a link: second factor, policy, directory reset by the service account, unlock, then
    every session and API token of the account ends and both mailboxes hear of it. No automatic login."""
    stored, profile = await load_link(deps, cmd.token, Purpose.RESET, cmd.client)
    login = stored.login
    profile = await second_factor(
        deps, stored, profile, totp_code=cmd.totp_code, sms_code=cmd.sms_code, client=cmd.client
    )
    contact = await load_contact(deps, login)
    context = [login]
    if contact is not None:
        context += [contact.display_name, contact.work_email, contact.private_email]
    # The same checks and the same normalisation (NFC) as every other way of setting a password.
    new = normalise_password(cmd.new)
    problems, _ = await check_new_password(
        new, policy=deps.password_policy, context=context, repeat=cmd.repeat, breached=deps.breached
    )
    if problems:
        await audit(deps, ANONYMOUS, "recovery.password_reset", Outcome.FAILURE, login, cmd.client, reason="policy")
        raise PasswordRejected(problems)
    await claim(deps, stored, profile)
    try:
        await deps.directory.reset_password(login, new)
    except Exception as exc:
        # The directory refused (its own policy) or is away: the link stays usable for another try.
        async with deps.new_uow() as uow:
            await uow.recovery.update_token(replace(stored, used_at=None))
            await uow.commit()
        await audit(
            deps,
            ANONYMOUS,
            "recovery.password_reset",
            Outcome.FAILURE,
            login,
            cmd.client,
            reason=getattr(exc, "code", "directory_error"),
        )
        raise
    await _unlock_quietly(deps, login)
    now = deps.clock.now()
    async with deps.new_uow() as uow:
        await uow.recovery.revoke_tokens(login, now, (Purpose.RESET, Purpose.UNLOCK))
        await uow.audit.add(
            event(
                login, "recovery.password_reset", Outcome.SUCCESS, login, cmd.client, at=now, details={"unlocked": True}
            )
        )
        await uow.commit()
    async with deps.new_uow() as uow:
        await revoke_access(login, uow, sessions=deps.sessions, now=deps.clock.now())
        await uow.commit()
    await notify(
        deps, "recovery_password_reset", addresses(contact), name=name_of(contact, login), link=Link(RecoveryPage.LOGIN)
    )


async def _unlock_quietly(deps: RecoveryDeps, login: str) -> None:
    try:
        await deps.directory.unlock(login)
    except (NotFound, ServiceUnavailable):
        logger.warning("Unlocking an account after its reset failed; the password itself is set")
