"""Using a link: whether it is valid, which second factor it needs (TOTP, or an SMS code), checking that factor, and
using the link up exactly once."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from ess.domain.audit import Outcome
from ess.domain.auth.model import Purpose
from ess.domain.errors import InvalidInput, Throttled
from ess.domain.recovery.limits import count_failure, digest, is_over, refund
from ess.domain.recovery.model import (
    InvalidLink,
    RecoveryProfile,
    RecoveryToken,
    SecondFactorFailed,
    hash_code,
    hash_token,
    new_sms_code,
    same_hash,
)
from ess.domain.recovery.ports import RecoveryDeps
from ess.domain.recovery.records import ANONYMOUS, audit, event


@dataclass(frozen=True, slots=True)
class LinkInfo:
    """What the page behind a link must ask for."""

    login: str
    needs_totp: bool
    needs_sms: bool
    sms_sent: bool


async def load_link(
    deps: RecoveryDeps, token: str, purpose: Purpose, client: str
) -> tuple[RecoveryToken, RecoveryProfile]:
    await count_failure(deps, client)
    if not token or len(token) > 128:
        stored = None
    else:
        async with deps.new_uow() as uow:
            stored = await uow.recovery.token(hash_token(token))
    if stored is None or stored.purpose is not purpose or not stored.is_usable_at(deps.clock.now()):
        await audit(
            deps,
            ANONYMOUS,
            "recovery.link_used",
            Outcome.FAILURE,
            stored.login if stored else "",
            client,
            purpose=purpose.value,
            reason="invalid_link",
        )
        raise InvalidLink("This link is not valid (any more). Please ask for a new one.")
    async with deps.new_uow() as uow:
        profile = await uow.recovery.profile(stored.login)
    await refund(deps, client)
    return stored, profile


def needs_sms(deps: RecoveryDeps, profile: RecoveryProfile) -> bool:
    # TOTP is the stronger factor: where it is enrolled, it is the one asked for.
    return deps.policy.sms_enabled and not profile.has_totp and bool(profile.mobile and profile.mobile_verified_at)


async def inspect_link(token: str, purpose: Purpose, *, client: str, deps: RecoveryDeps) -> LinkInfo:
    """Whether a link can be used and which second factor it needs; changes nothing."""
    stored, profile = await load_link(deps, token, purpose, client)
    return LinkInfo(
        login=stored.login,
        needs_totp=profile.has_totp,
        needs_sms=needs_sms(deps, profile),
        sms_sent=stored.sms_sent_at is not None,
    )


async def send_link_sms(token: str, purpose: Purpose, *, client: str, deps: RecoveryDeps) -> None:
    """Text a six-digit code to the verified recovery mobile, as the link's second factor."""
    stored, profile = await load_link(deps, token, purpose, client)
    if not needs_sms(deps, profile):
        raise InvalidInput("No text message is needed for this link.")
    policy = deps.policy
    if await is_over(
        deps, "recovery-mail:" + digest(stored.login), policy.mails_per_account, int(policy.mail_window.total_seconds())
    ):
        await audit(deps, ANONYMOUS, "recovery.throttled", Outcome.DENIED, stored.login, client, reason="sms")
        raise Throttled(
            "Too many codes were sent. Please wait.", retry_after_seconds=int(policy.mail_window.total_seconds())
        )
    code = new_sms_code()
    now = deps.clock.now()
    async with deps.new_uow() as uow:
        await uow.recovery.update_token(replace(stored, sms_code_hash=hash_code(deps.code_key, code), sms_sent_at=now))
        await uow.audit.add(
            event(
                ANONYMOUS,
                "recovery.sms_sent",
                Outcome.SUCCESS,
                stored.login,
                client,
                at=now,
                details={"purpose": purpose.value},
            )
        )
        await uow.commit()
    await deps.sms.send(profile.mobile, f"ESS: {code}")


async def second_factor(
    deps: RecoveryDeps, stored: RecoveryToken, profile: RecoveryProfile, *, totp_code: str, sms_code: str, client: str
) -> RecoveryProfile:
    """Check TOTP (or the SMS code); a wrong code counts against the link, which burns after a few."""
    now = deps.clock.now()
    ok = True
    if profile.has_totp:
        step = totp_step(deps, profile.totp_secret, totp_code, now)
        ok = step is not None and step > profile.totp_last_step
        if ok and step is not None:
            profile = replace(profile, totp_last_step=step)
    elif needs_sms(deps, profile):
        fresh = stored.sms_sent_at is not None and now - stored.sms_sent_at < deps.policy.sms_code_lifetime
        ok = fresh and same_hash(stored.sms_code_hash, hash_code(deps.code_key, sms_code.strip()))
    if ok:
        return profile
    failed = stored.failed_codes + 1
    burnt = failed >= deps.policy.code_attempts_per_token
    async with deps.new_uow() as uow:
        await uow.recovery.update_token(replace(stored, failed_codes=failed, used_at=now if burnt else None))
        await uow.commit()
    await audit(
        deps,
        ANONYMOUS,
        "recovery.link_used",
        Outcome.FAILURE,
        stored.login,
        client,
        purpose=stored.purpose.value,
        reason="second_factor",
        burnt=burnt,
    )
    await count_failure(deps, client, stored.login)
    raise SecondFactorFailed("The code is not correct.")


def totp_step(deps: RecoveryDeps, sealed: str, code: str, at: datetime) -> int | None:
    code = "".join(code.split())
    if not code.isdigit() or len(code) > 10:
        return None
    return deps.authenticator.matching_step(deps.box.open(sealed), code, at)


async def claim(deps: RecoveryDeps, stored: RecoveryToken, profile: RecoveryProfile) -> None:
    """Use the link up (exactly once, even under parallel submissions) and keep the TOTP step."""
    now = deps.clock.now()
    async with deps.new_uow() as uow:
        if not await uow.recovery.claim_token(stored.token_hash, now):
            raise InvalidLink("This link is not valid (any more). Please ask for a new one.")
        await uow.recovery.save_profile(profile)
        await uow.commit()
