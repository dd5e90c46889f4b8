"""Use case: unlock an account through an unlock link, with the same verification as a reset (no new password)."""

from __future__ import annotations

from dataclasses import dataclass

from ess.domain.audit import Outcome
from ess.domain.auth.model import Purpose
from ess.domain.recovery.model import RecoveryPage
from ess.domain.recovery.ports import RecoveryDeps
from ess.domain.recovery.records import addresses, audit, load_contact, name_of, notify
from ess.domain.recovery.verification import claim, load_link, second_factor
from ess.domain.shared import Link


@dataclass(frozen=True, slots=True)
class UnlockAccount:
    token: str
    client: str
    totp_code: str = ""
    sms_code: str = ""


async def unlock_account(cmd: UnlockAccount, *, deps: RecoveryDeps) -> None:
    """Unlock without a new password, with the same verification as a reset."""
    stored, profile = await load_link(deps, cmd.token, Purpose.UNLOCK, cmd.client)
    profile = await second_factor(
        deps, stored, profile, totp_code=cmd.totp_code, sms_code=cmd.sms_code, client=cmd.client
    )
    await claim(deps, stored, profile)
    login = stored.login
    await deps.directory.unlock(login)
    await audit(deps, login, "recovery.unlocked", Outcome.SUCCESS, login, cmd.client)
    contact = await load_contact(deps, login)
    await notify(
        deps, "recovery_unlocked", addresses(contact), name=name_of(contact, login), link=Link(RecoveryPage.LOGIN)
    )
