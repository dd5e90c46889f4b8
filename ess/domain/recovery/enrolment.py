"""Use cases: the owner manages the recovery channels: sees them, changes the recovery e-mail (confirmed by a link) and
the recovery mobile (confirmed by a code), always after entering the password again."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ess.domain.audit import Outcome
from ess.domain.auth.login import MAX_PASSWORD_LENGTH
from ess.domain.auth.model import Principal, Purpose
from ess.domain.directory.model import AuthOutcome
from ess.domain.passwords.checks import WrongCurrentPassword
from ess.domain.profile.validation import email as checked_email
from ess.domain.profile.validation import phone_e164
from ess.domain.recovery.limits import count_failure, refund
from ess.domain.recovery.links import issue_link
from ess.domain.recovery.model import RecoveryPage, SecondFactorFailed, hash_code, mask_email, new_sms_code, same_hash
from ess.domain.recovery.ports import RecoveryDeps
from ess.domain.recovery.records import addresses, audit, event, load_contact, name_of, notify
from ess.domain.recovery.verification import claim, load_link
from ess.domain.shared import Link


@dataclass(frozen=True, slots=True)
class RecoveryOverview:
    login: str
    private_email: str
    private_email_verified: bool
    mobile: str
    mobile_verified: bool
    mobile_code_pending: bool
    has_totp: bool
    totp_pending: bool
    sms_enabled: bool


async def overview(principal: Principal, *, deps: RecoveryDeps) -> RecoveryOverview:
    async with deps.new_uow() as uow:
        contact = await uow.recovery.contact(principal.login)
        profile = await uow.recovery.profile(principal.login)
    return RecoveryOverview(
        login=principal.login,
        private_email=contact.private_email if contact else "",
        private_email_verified=bool(contact and contact.verified_private_email),
        mobile=profile.mobile,
        mobile_verified=profile.mobile_verified_at is not None,
        mobile_code_pending=bool(profile.mobile_code_hash),
        has_totp=profile.has_totp,
        totp_pending=bool(profile.totp_pending),
        sms_enabled=deps.policy.sms_enabled,
    )


async def confirm_password(deps: RecoveryDeps, principal: Principal, password: str, client: str, action: str) -> None:
    """The password again before any change of a recovery channel. Our own limit stays below the directory's
    lockout, so a guesser here never locks the account."""
    login = principal.login
    await count_failure(deps, client, login, password=True)
    if not password or len(password) > MAX_PASSWORD_LENGTH:
        outcome = AuthOutcome.INVALID_CREDENTIALS
    else:
        outcome = await deps.directory.authenticate(login, password)
    if outcome is not AuthOutcome.OK:
        await audit(deps, login, action, Outcome.FAILURE, login, client, reason="wrong_password")
        raise WrongCurrentPassword("The current password is not correct.")
    await refund(deps, client, login, password=True)


async def change_recovery_email(
    principal: Principal, password: str, address: str, *, client: str, deps: RecoveryDeps
) -> None:
    """Send a confirmation link to the new address; it counts only once confirmed. The old address hears of it."""
    new_address = checked_email(address, field="private_email")
    await confirm_password(deps, principal, password, client, "recovery.email_change")
    login = principal.login
    contact = await load_contact(deps, login)
    await issue_link(
        deps,
        login,
        Purpose.VERIFY_EMAIL,
        new_address,
        actor=login,
        client=client,
        name=name_of(contact, login),
        detail=new_address,
    )
    await notify(
        deps,
        "recovery_email_requested",
        addresses(contact),
        name=name_of(contact, login),
        new=mask_email(new_address),
        link=Link(RecoveryPage.SECURITY),
    )


async def confirm_recovery_email(token: str, *, client: str, deps: RecoveryDeps) -> None:
    """The new address proved it receives mail: it becomes the verified recovery address."""
    stored, profile = await load_link(deps, token, Purpose.VERIFY_EMAIL, client)
    await claim(deps, stored, profile)
    login = stored.login
    before = await load_contact(deps, login)
    now = deps.clock.now()
    async with deps.new_uow() as uow:
        await uow.recovery.set_private_email(login, stored.detail, now)
        await uow.audit.add(
            event(
                login,
                "recovery.email_changed",
                Outcome.SUCCESS,
                login,
                client,
                at=now,
                details={"to": mask_email(stored.detail)},
            )
        )
        await uow.commit()
    old = before.private_email if before else ""
    await notify(
        deps,
        "recovery_email_changed",
        addresses(before, old, stored.detail),
        name=name_of(before, login),
        new=mask_email(stored.detail),
        link=Link(RecoveryPage.SECURITY),
    )


async def set_recovery_mobile(
    principal: Principal, password: str, number: str, *, client: str, deps: RecoveryDeps
) -> None:
    """Register, change or (empty) remove the recovery mobile; with SMS on, a code must confirm it."""
    mobile = phone_e164(number, field="mobile") if number.strip() else ""
    await confirm_password(deps, principal, password, client, "recovery.mobile_change")
    login = principal.login
    now = deps.clock.now()
    code = new_sms_code() if mobile and deps.policy.sms_enabled else ""
    async with deps.new_uow() as uow:
        profile = await uow.recovery.profile(login)
        await uow.recovery.save_profile(
            replace(
                profile,
                mobile=mobile,
                mobile_verified_at=None,
                mobile_code_hash=hash_code(deps.code_key, code) if code else "",
                mobile_code_sent_at=now if code else None,
            )
        )
        await uow.audit.add(
            event(
                login,
                "recovery.mobile_changed",
                Outcome.SUCCESS,
                login,
                client,
                at=now,
                details={"removed": not mobile},
            )
        )
        await uow.commit()
    if code:
        await deps.sms.send(mobile, f"ESS: {code}")
    contact = await load_contact(deps, login)
    await notify(
        deps,
        "recovery_mobile_changed",
        addresses(contact),
        name=name_of(contact, login),
        mobile=("…" + mobile[-3:]) if mobile else "-",
        link=Link(RecoveryPage.SECURITY),
    )


async def confirm_recovery_mobile(principal: Principal, code: str, *, client: str, deps: RecoveryDeps) -> None:
    login = principal.login
    await count_failure(deps, client, login)
    now = deps.clock.now()
    async with deps.new_uow() as uow:
        profile = await uow.recovery.profile(login)
        fresh = (
            profile.mobile_code_sent_at is not None
            and now - profile.mobile_code_sent_at < deps.policy.sms_code_lifetime
        )
        if not (fresh and same_hash(profile.mobile_code_hash, hash_code(deps.code_key, code.strip()))):
            raise SecondFactorFailed("The code is not correct.")
        await uow.recovery.save_profile(
            replace(profile, mobile_verified_at=now, mobile_code_hash="", mobile_code_sent_at=None)
        )
        await uow.audit.add(event(login, "recovery.mobile_verified", Outcome.SUCCESS, login, client, at=now))
        await uow.commit()
    await refund(deps, client, login)
