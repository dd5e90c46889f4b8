"""Use cases of recovery: forgotten password, unlock, enrolment of recovery channels, and the helpdesk.

Anonymous requests are counted before any directory, database or mail work, keyed by what was typed, so known and
unknown accounts are throttled alike; the lookup and the mail then run as a background job, so the answer and its
timing are the same for both. No secret (password, token, code, TOTP seed) ever reaches an audit detail or a log.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.auth.model import Principal, is_plausible_login
from ess.domain.auth.service import MAX_LOGIN_LENGTH, MAX_PASSWORD_LENGTH, normalize_login, revoke_access
from ess.domain.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    Throttled,
)
from ess.domain.hr.model import Role
from ess.domain.passwords.model import PasswordPolicy, normalise_password
from ess.domain.passwords.service import PasswordRejected, WrongCurrentPassword, check_new_password
from ess.domain.ports import (
    AccountStatus,
    AttemptCounter,
    AuthOutcome,
    BreachedPasswords,
    Clock,
    Directory,
    Notice,
    Notifier,
    SessionStore,
    UnitOfWork,
)
from ess.domain.profile.validation import email as checked_email
from ess.domain.profile.validation import phone_e164
from ess.domain.recovery.model import (
    Purpose,
    RecoveryContact,
    RecoveryPolicy,
    RecoveryProfile,
    RecoveryToken,
    hash_code,
    hash_token,
    mask_email,
    new_sms_code,
    new_token,
    same_hash,
)
from ess.domain.recovery.ports import Authenticator, Jobs, SecretBox, SmsGateway

logger = logging.getLogger("ess.recovery")

ANONYMOUS: Final = "(anonymous)"
LINK_PATHS: Final = {
    Purpose.RESET: "/password/reset/",
    Purpose.UNLOCK: "/password/unlock/",
    Purpose.VERIFY_EMAIL: "/security/confirm-email/",
}
HELPDESK_ROLES: Final = frozenset({Role.HELPDESK, Role.ADMIN})


class InvalidLink(InvalidInput):
    """Unknown, used, expired or burnt: the same answer for each, so a guess learns nothing."""

    code = "recovery_link_invalid"


class SecondFactorFailed(AuthenticationFailed):
    code = "second_factor_failed"


class NoRecoveryAddress(Conflict):
    code = "no_recovery_address"


@dataclass(frozen=True, slots=True)
class RecoveryKit:
    """Everything the recovery use cases need, wired once by the composition root."""

    directory: Directory
    new_uow: Callable[[], UnitOfWork]
    sessions: SessionStore
    attempts: AttemptCounter
    clock: Clock
    notifier: Notifier
    jobs: Jobs
    sms: SmsGateway
    authenticator: Authenticator
    box: SecretBox
    policy: RecoveryPolicy
    password_policy: PasswordPolicy
    # Key for the HMAC of short SMS codes (from the application secret).
    code_key: str
    # Have I Been Pwned when [passwords] hibp_enabled: a reset checks what a change checks.
    breached: BreachedPasswords | None = None


# --- Counting -----------------------------------------------------------------------------------------------------


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


async def _over(kit: RecoveryKit, key: str, limit: int, window_seconds: int) -> bool:
    return await kit.attempts.hit(key, window_seconds) > limit


async def _count_failure(kit: RecoveryKit, client: str, login: str = "", *, password: bool = False) -> None:
    """Counted before the work, for every attempt; a success takes its place back. Password checks have their
    own, lower limit per account: it must stay below the directory's lockout threshold."""
    policy = kit.policy
    window = int(policy.failure_window.total_seconds())
    over = await _over(kit, "recovery-fail-client:" + client, policy.failures_per_client, window)
    if login:
        key, limit = (
            ("recovery-pw-account:", policy.failures_per_account)
            if password
            else ("recovery-fail-account:", policy.code_failures_per_account)
        )
        over = await _over(kit, key + _digest(login), limit, window) or over
    if over:
        await _audit(kit, login or ANONYMOUS, "recovery.throttled", Outcome.DENIED, login, client)
        raise Throttled("Too many attempts. Please wait a few minutes.", retry_after_seconds=window)


async def _refund(kit: RecoveryKit, client: str, login: str = "", *, password: bool = False) -> None:
    await kit.attempts.release("recovery-fail-client:" + client)
    if login:
        prefix = "recovery-pw-account:" if password else "recovery-fail-account:"
        await kit.attempts.release(prefix + _digest(login))


# --- Audit and notices --------------------------------------------------------------------------------------------


async def _audit(  # noqa: PLR0917 - an audit line reads best as one positional sentence
    kit: RecoveryKit,
    actor: str,
    action: str,
    outcome: Outcome,
    target: str,
    client: str,
    **details: str | int | bool | None,
) -> None:
    async with kit.new_uow() as uow:
        await uow.audit.add(
            AuditEvent(
                occurred_at=kit.clock.now(),
                actor=actor or ANONYMOUS,
                action=action,
                outcome=outcome,
                target=target,
                client_address=client,
                details=details,
            )
        )
        await uow.commit()


async def _contact(kit: RecoveryKit, login: str) -> RecoveryContact | None:
    async with kit.new_uow() as uow:
        return await uow.recovery.contact(login)


def _addresses(contact: RecoveryContact | None, *extra: str) -> tuple[str, ...]:
    """Work and verified private e-mail (plus `extra`), each once."""
    found: list[str] = []
    candidates = [contact.work_email, contact.verified_private_email] if contact else []
    for address in [*candidates, *extra]:
        if address and address.lower() not in (a.lower() for a in found):
            found.append(address)
    return tuple(found)


async def _notify(kit: RecoveryKit, kind: str, to: tuple[str, ...], **params: str) -> None:
    if to:
        await kit.notifier.notify(Notice(kind=kind, to=to, params=params))


def _name(contact: RecoveryContact | None, login: str) -> str:
    return contact.display_name if contact and contact.display_name else login


# --- Forgotten password and unlock: asking for a link -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestLink:
    identifier: str
    purpose: Purpose
    client: str


async def request_link(cmd: RequestLink, *, kit: RecoveryKit) -> None:
    """Count, then leave the lookup and the mail to a background job. The caller always answers the same."""
    if cmd.purpose not in (Purpose.RESET, Purpose.UNLOCK):
        raise InvalidInput("Links can be requested for a reset or an unlock only.")
    identifier = normalize_login(cmd.identifier)
    policy = kit.policy
    window = int(policy.request_window.total_seconds())
    # Loud limits (per client, for everyone): the same for every identifier, so they reveal nothing.
    by_client = await _over(kit, "recovery-req-client:" + cmd.client, policy.requests_per_client, window)
    overall = await _over(kit, "recovery-req-global", policy.requests_global, window)
    # The silent limit per typed identifier: over it the answer stays the same but nothing is sent.
    mail_window = int(policy.mail_window.total_seconds())
    by_identifier = await _over(kit, "recovery-req-ident:" + _digest(identifier), policy.mails_per_account, mail_window)
    if by_client or overall:
        await _audit(kit, ANONYMOUS, "recovery.throttled", Outcome.DENIED, "", cmd.client, purpose=cmd.purpose.value)
        raise Throttled("Too many requests. Please wait and try again later.", retry_after_seconds=window)

    async def job() -> None:
        await _deliver_link(kit, identifier, cmd.purpose, cmd.client, silenced=by_identifier)

    kit.jobs.submit(job, name=f"recovery-{cmd.purpose.value}-link")


async def _deliver_link(kit: RecoveryKit, identifier: str, purpose: Purpose, client: str, *, silenced: bool) -> None:
    account = None
    if is_plausible_login(identifier) and len(identifier) <= MAX_LOGIN_LENGTH:
        account = await kit.directory.find_account(identifier)
    if account is None:
        # What was typed is not recorded: people type passwords into the login field by mistake.
        await _audit(
            kit,
            ANONYMOUS,
            "recovery.requested",
            Outcome.FAILURE,
            "",
            client,
            purpose=purpose.value,
            reason="unknown_account",
        )
        return
    login = account.login
    await _audit(kit, ANONYMOUS, "recovery.requested", Outcome.SUCCESS, login, client, purpose=purpose.value)
    policy = kit.policy
    # Per account as well as per typed identifier: login and work e-mail must not add up to twice the mails.
    if silenced or await _over(
        kit, "recovery-mail:" + _digest(login), policy.mails_per_account, int(policy.mail_window.total_seconds())
    ):
        await _audit(
            kit,
            ANONYMOUS,
            "recovery.throttled",
            Outcome.DENIED,
            login,
            client,
            purpose=purpose.value,
            reason="mails_per_account",
        )
        return
    contact = await _contact(kit, login)
    address = contact.verified_private_email if contact else ""
    if not address:
        await _audit(
            kit,
            ANONYMOUS,
            "recovery.link_sent",
            Outcome.FAILURE,
            login,
            client,
            purpose=purpose.value,
            reason="no_verified_private_email",
        )
        return
    await _issue_link(kit, login, purpose, address, actor=ANONYMOUS, client=client, name=_name(contact, login))


async def _issue_link(
    kit: RecoveryKit,
    login: str,
    purpose: Purpose,
    address: str,
    *,
    actor: str,
    client: str,
    name: str,
    detail: str = "",
) -> None:
    """A new one-time link (the account's earlier links of this purpose stop working), mailed to `address`."""
    token = new_token()
    now = kit.clock.now()
    minutes = int(kit.policy.token_lifetime.total_seconds() // 60)
    async with kit.new_uow() as uow:
        await uow.recovery.add_token(
            RecoveryToken(
                token_hash=hash_token(token),
                login=login,
                purpose=purpose,
                created_at=now,
                expires_at=now + kit.policy.token_lifetime,
                detail=detail,
            )
        )
        await uow.audit.add(
            AuditEvent(
                occurred_at=now,
                actor=actor,
                action="recovery.link_sent",
                outcome=Outcome.SUCCESS,
                target=login,
                client_address=client,
                details={"purpose": purpose.value, "to": mask_email(address)},
            )
        )
        await uow.commit()
    await _notify(
        kit,
        f"recovery_link_{purpose.value}",
        (address,),
        name=name,
        path=LINK_PATHS[purpose] + token,
        minutes=str(minutes),
    )


# --- Using a link -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LinkInfo:
    """What the page behind a link must ask for."""

    login: str
    needs_totp: bool
    needs_sms: bool
    sms_sent: bool


async def _load_link(
    kit: RecoveryKit, token: str, purpose: Purpose, client: str
) -> tuple[RecoveryToken, RecoveryProfile]:
    await _count_failure(kit, client)
    if not token or len(token) > 128:
        stored = None
    else:
        async with kit.new_uow() as uow:
            stored = await uow.recovery.token(hash_token(token))
    if stored is None or stored.purpose is not purpose or not stored.is_usable_at(kit.clock.now()):
        await _audit(
            kit,
            ANONYMOUS,
            "recovery.link_used",
            Outcome.FAILURE,
            stored.login if stored else "",
            client,
            purpose=purpose.value,
            reason="invalid_link",
        )
        raise InvalidLink("This link is not valid (any more). Please ask for a new one.")
    async with kit.new_uow() as uow:
        profile = await uow.recovery.profile(stored.login)
    await _refund(kit, client)
    return stored, profile


def _needs_sms(kit: RecoveryKit, profile: RecoveryProfile) -> bool:
    # TOTP is the stronger factor: where it is enrolled, it is the one asked for.
    return kit.policy.sms_enabled and not profile.has_totp and bool(profile.mobile and profile.mobile_verified_at)


async def inspect_link(token: str, purpose: Purpose, *, client: str, kit: RecoveryKit) -> LinkInfo:
    """Whether a link can be used and which second factor it needs; changes nothing."""
    stored, profile = await _load_link(kit, token, purpose, client)
    return LinkInfo(
        login=stored.login,
        needs_totp=profile.has_totp,
        needs_sms=_needs_sms(kit, profile),
        sms_sent=stored.sms_sent_at is not None,
    )


async def send_link_sms(token: str, purpose: Purpose, *, client: str, kit: RecoveryKit) -> None:
    """Text a six-digit code to the verified recovery mobile, as the link's second factor."""
    stored, profile = await _load_link(kit, token, purpose, client)
    if not _needs_sms(kit, profile):
        raise InvalidInput("No text message is needed for this link.")
    policy = kit.policy
    if await _over(
        kit, "recovery-mail:" + _digest(stored.login), policy.mails_per_account, int(policy.mail_window.total_seconds())
    ):
        await _audit(kit, ANONYMOUS, "recovery.throttled", Outcome.DENIED, stored.login, client, reason="sms")
        raise Throttled(
            "Too many codes were sent. Please wait.", retry_after_seconds=int(policy.mail_window.total_seconds())
        )
    code = new_sms_code()
    now = kit.clock.now()
    async with kit.new_uow() as uow:
        await uow.recovery.update_token(replace(stored, sms_code_hash=hash_code(kit.code_key, code), sms_sent_at=now))
        await uow.audit.add(
            AuditEvent(
                occurred_at=now,
                actor=ANONYMOUS,
                action="recovery.sms_sent",
                outcome=Outcome.SUCCESS,
                target=stored.login,
                client_address=client,
                details={"purpose": purpose.value},
            )
        )
        await uow.commit()
    await kit.sms.send(profile.mobile, f"ESS: {code}")


async def _second_factor(
    kit: RecoveryKit, stored: RecoveryToken, profile: RecoveryProfile, *, totp_code: str, sms_code: str, client: str
) -> RecoveryProfile:
    """Check TOTP (or the SMS code); a wrong code counts against the link, which burns after a few."""
    now = kit.clock.now()
    ok = True
    if profile.has_totp:
        step = _totp_step(kit, profile.totp_secret, totp_code, now)
        ok = step is not None and step > profile.totp_last_step
        if ok and step is not None:
            profile = replace(profile, totp_last_step=step)
    elif _needs_sms(kit, profile):
        fresh = stored.sms_sent_at is not None and now - stored.sms_sent_at < kit.policy.sms_code_lifetime
        ok = fresh and same_hash(stored.sms_code_hash, hash_code(kit.code_key, sms_code.strip()))
    if ok:
        return profile
    failed = stored.failed_codes + 1
    burnt = failed >= kit.policy.code_attempts_per_token
    async with kit.new_uow() as uow:
        await uow.recovery.update_token(replace(stored, failed_codes=failed, used_at=now if burnt else None))
        await uow.commit()
    await _audit(
        kit,
        ANONYMOUS,
        "recovery.link_used",
        Outcome.FAILURE,
        stored.login,
        client,
        purpose=stored.purpose.value,
        reason="second_factor",
        burnt=burnt,
    )
    await _count_failure(kit, client, stored.login)
    raise SecondFactorFailed("The code is not correct.")


def _totp_step(kit: RecoveryKit, sealed: str, code: str, at: datetime) -> int | None:
    code = "".join(code.split())
    if not code.isdigit() or len(code) > 10:
        return None
    return kit.authenticator.matching_step(kit.box.open(sealed), code, at)


async def _claim(kit: RecoveryKit, stored: RecoveryToken, profile: RecoveryProfile) -> None:
    """Use the link up (exactly once, even under parallel submissions) and keep the TOTP step."""
    now = kit.clock.now()
    async with kit.new_uow() as uow:
        if not await uow.recovery.claim_token(stored.token_hash, now):
            raise InvalidLink("This link is not valid (any more). Please ask for a new one.")
        await uow.recovery.save_profile(profile)
        await uow.commit()


@dataclass(frozen=True, slots=True)
class ResetPassword:
    token: str
    new: str
    repeat: str
    client: str
    totp_code: str = ""
    sms_code: str = ""


async def reset_password(cmd: ResetPassword, *, kit: RecoveryKit) -> None:
    """New password through a link: second factor, policy, directory reset by the service account, unlock, then
    every session and API token of the account ends and both mailboxes hear of it. No automatic login."""
    stored, profile = await _load_link(kit, cmd.token, Purpose.RESET, cmd.client)
    login = stored.login
    profile = await _second_factor(
        kit, stored, profile, totp_code=cmd.totp_code, sms_code=cmd.sms_code, client=cmd.client
    )
    contact = await _contact(kit, login)
    context = [login]
    if contact is not None:
        context += [contact.display_name, contact.work_email, contact.private_email]
    # The same checks and the same normalisation (NFC) as every other way of setting a password.
    new = normalise_password(cmd.new)
    problems, _ = await check_new_password(
        new, policy=kit.password_policy, context=context, repeat=cmd.repeat, breached=kit.breached
    )
    if problems:
        await _audit(kit, ANONYMOUS, "recovery.password_reset", Outcome.FAILURE, login, cmd.client, reason="policy")
        raise PasswordRejected(problems)
    await _claim(kit, stored, profile)
    try:
        await kit.directory.reset_password(login, new)
    except Exception as exc:
        # The directory refused (its own policy) or is away: the link stays usable for another try.
        async with kit.new_uow() as uow:
            await uow.recovery.update_token(replace(stored, used_at=None))
            await uow.commit()
        await _audit(
            kit,
            ANONYMOUS,
            "recovery.password_reset",
            Outcome.FAILURE,
            login,
            cmd.client,
            reason=getattr(exc, "code", "directory_error"),
        )
        raise
    await _unlock_quietly(kit, login)
    now = kit.clock.now()
    async with kit.new_uow() as uow:
        await uow.recovery.revoke_tokens(login, now, (Purpose.RESET, Purpose.UNLOCK))
        await uow.audit.add(
            AuditEvent(
                occurred_at=now,
                actor=login,
                action="recovery.password_reset",
                outcome=Outcome.SUCCESS,
                target=login,
                client_address=cmd.client,
                details={"unlocked": True},
            )
        )
        await uow.commit()
    await revoke_access(login, sessions=kit.sessions, uow=kit.new_uow(), clock=kit.clock)
    await _notify(kit, "recovery_password_reset", _addresses(contact), name=_name(contact, login), path="/login")


async def _unlock_quietly(kit: RecoveryKit, login: str) -> None:
    try:
        await kit.directory.unlock(login)
    except (NotFound, ServiceUnavailable):
        logger.warning("Unlocking an account after its reset failed; the password itself is set")


@dataclass(frozen=True, slots=True)
class UnlockAccount:
    token: str
    client: str
    totp_code: str = ""
    sms_code: str = ""


async def unlock_account(cmd: UnlockAccount, *, kit: RecoveryKit) -> None:
    """Unlock without a new password, with the same verification as a reset."""
    stored, profile = await _load_link(kit, cmd.token, Purpose.UNLOCK, cmd.client)
    profile = await _second_factor(
        kit, stored, profile, totp_code=cmd.totp_code, sms_code=cmd.sms_code, client=cmd.client
    )
    await _claim(kit, stored, profile)
    login = stored.login
    await kit.directory.unlock(login)
    await _audit(kit, login, "recovery.unlocked", Outcome.SUCCESS, login, cmd.client)
    contact = await _contact(kit, login)
    await _notify(kit, "recovery_unlocked", _addresses(contact), name=_name(contact, login), path="/login")


# --- Enrolment: the owner manages the recovery channels ----------------------------------------------------------


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


async def overview(principal: Principal, *, kit: RecoveryKit) -> RecoveryOverview:
    async with kit.new_uow() as uow:
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
        sms_enabled=kit.policy.sms_enabled,
    )


async def _confirm_password(kit: RecoveryKit, principal: Principal, password: str, client: str, action: str) -> None:
    """The password again before any change of a recovery channel. Our own limit stays below the directory's
    lockout, so a guesser here never locks the account."""
    login = principal.login
    await _count_failure(kit, client, login, password=True)
    if not password or len(password) > MAX_PASSWORD_LENGTH:
        outcome = AuthOutcome.INVALID_CREDENTIALS
    else:
        outcome = await kit.directory.authenticate(login, password)
    if outcome is not AuthOutcome.OK:
        await _audit(kit, login, action, Outcome.FAILURE, login, client, reason="wrong_password")
        raise WrongCurrentPassword("The current password is not correct.")
    await _refund(kit, client, login, password=True)


async def change_recovery_email(
    principal: Principal, password: str, address: str, *, client: str, kit: RecoveryKit
) -> None:
    """Send a confirmation link to the new address; it counts only once confirmed. The old address hears of it."""
    new_address = checked_email(address, field="private_email")
    await _confirm_password(kit, principal, password, client, "recovery.email_change")
    login = principal.login
    contact = await _contact(kit, login)
    await _issue_link(
        kit,
        login,
        Purpose.VERIFY_EMAIL,
        new_address,
        actor=login,
        client=client,
        name=_name(contact, login),
        detail=new_address,
    )
    await _notify(
        kit,
        "recovery_email_requested",
        _addresses(contact),
        name=_name(contact, login),
        new=mask_email(new_address),
        path="/security",
    )


async def confirm_recovery_email(token: str, *, client: str, kit: RecoveryKit) -> None:
    """The new address proved it receives mail: it becomes the verified recovery address."""
    stored, profile = await _load_link(kit, token, Purpose.VERIFY_EMAIL, client)
    await _claim(kit, stored, profile)
    login = stored.login
    before = await _contact(kit, login)
    now = kit.clock.now()
    async with kit.new_uow() as uow:
        await uow.recovery.set_private_email(login, stored.detail, now)
        await uow.audit.add(
            AuditEvent(
                occurred_at=now,
                actor=login,
                action="recovery.email_changed",
                outcome=Outcome.SUCCESS,
                target=login,
                client_address=client,
                details={"to": mask_email(stored.detail)},
            )
        )
        await uow.commit()
    old = before.private_email if before else ""
    await _notify(
        kit,
        "recovery_email_changed",
        _addresses(before, old, stored.detail),
        name=_name(before, login),
        new=mask_email(stored.detail),
        path="/security",
    )


async def set_recovery_mobile(
    principal: Principal, password: str, number: str, *, client: str, kit: RecoveryKit
) -> None:
    """Register, change or (empty) remove the recovery mobile; with SMS on, a code must confirm it."""
    mobile = phone_e164(number, field="mobile") if number.strip() else ""
    await _confirm_password(kit, principal, password, client, "recovery.mobile_change")
    login = principal.login
    now = kit.clock.now()
    code = new_sms_code() if mobile and kit.policy.sms_enabled else ""
    async with kit.new_uow() as uow:
        profile = await uow.recovery.profile(login)
        await uow.recovery.save_profile(
            replace(
                profile,
                mobile=mobile,
                mobile_verified_at=None,
                mobile_code_hash=hash_code(kit.code_key, code) if code else "",
                mobile_code_sent_at=now if code else None,
            )
        )
        await uow.audit.add(
            AuditEvent(
                occurred_at=now,
                actor=login,
                action="recovery.mobile_changed",
                outcome=Outcome.SUCCESS,
                target=login,
                client_address=client,
                details={"removed": not mobile},
            )
        )
        await uow.commit()
    if code:
        await kit.sms.send(mobile, f"ESS: {code}")
    contact = await _contact(kit, login)
    await _notify(
        kit,
        "recovery_mobile_changed",
        _addresses(contact),
        name=_name(contact, login),
        mobile=("…" + mobile[-3:]) if mobile else "-",
        path="/security",
    )


async def confirm_recovery_mobile(principal: Principal, code: str, *, client: str, kit: RecoveryKit) -> None:
    login = principal.login
    await _count_failure(kit, client, login)
    now = kit.clock.now()
    async with kit.new_uow() as uow:
        profile = await uow.recovery.profile(login)
        fresh = (
            profile.mobile_code_sent_at is not None and now - profile.mobile_code_sent_at < kit.policy.sms_code_lifetime
        )
        if not (fresh and same_hash(profile.mobile_code_hash, hash_code(kit.code_key, code.strip()))):
            raise SecondFactorFailed("The code is not correct.")
        await uow.recovery.save_profile(
            replace(profile, mobile_verified_at=now, mobile_code_hash="", mobile_code_sent_at=None)
        )
        await uow.audit.add(
            AuditEvent(
                occurred_at=now,
                actor=login,
                action="recovery.mobile_verified",
                outcome=Outcome.SUCCESS,
                target=login,
                client_address=client,
            )
        )
        await uow.commit()
    await _refund(kit, client, login)


@dataclass(frozen=True, slots=True)
class TotpSetup:
    secret: str
    uri: str


async def start_totp(principal: Principal, password: str, *, client: str, kit: RecoveryKit) -> TotpSetup:
    """A new secret waiting for its first code; the active one (if any) stays until then."""
    await _confirm_password(kit, principal, password, client, "recovery.totp_start")
    secret = kit.authenticator.new_secret()
    login = principal.login
    async with kit.new_uow() as uow:
        profile = await uow.recovery.profile(login)
        await uow.recovery.save_profile(replace(profile, totp_pending=kit.box.seal(secret)))
        await uow.commit()
    return TotpSetup(
        secret=secret, uri=kit.authenticator.provisioning_uri(secret, account=login, issuer=kit.policy.totp_issuer)
    )


async def pending_totp(principal: Principal, *, kit: RecoveryKit) -> TotpSetup | None:
    async with kit.new_uow() as uow:
        profile = await uow.recovery.profile(principal.login)
    if not profile.totp_pending:
        return None
    secret = kit.box.open(profile.totp_pending)
    uri = kit.authenticator.provisioning_uri(secret, account=principal.login, issuer=kit.policy.totp_issuer)
    return TotpSetup(secret=secret, uri=uri)


async def confirm_totp(principal: Principal, code: str, *, client: str, kit: RecoveryKit) -> None:
    """The first code from the app proves it holds the secret: from now on resets need a code too."""
    login = principal.login
    await _count_failure(kit, client, login)
    now = kit.clock.now()
    async with kit.new_uow() as uow:
        profile = await uow.recovery.profile(login)
    step = _totp_step(kit, profile.totp_pending, code, now) if profile.totp_pending else None
    if step is None:
        await _audit(kit, login, "recovery.totp_enrolled", Outcome.FAILURE, login, client, reason="wrong_code")
        raise SecondFactorFailed("The code is not correct.")
    async with kit.new_uow() as uow:
        await uow.recovery.save_profile(
            replace(profile, totp_secret=profile.totp_pending, totp_pending="", totp_last_step=step)
        )
        await uow.audit.add(
            AuditEvent(
                occurred_at=now,
                actor=login,
                action="recovery.totp_enrolled",
                outcome=Outcome.SUCCESS,
                target=login,
                client_address=client,
            )
        )
        await uow.commit()
    await _refund(kit, client, login)
    contact = await _contact(kit, login)
    await _notify(
        kit, "recovery_totp_changed", _addresses(contact), name=_name(contact, login), enrolled="yes", path="/security"
    )


async def remove_totp(principal: Principal, password: str, *, client: str, kit: RecoveryKit) -> None:
    await _confirm_password(kit, principal, password, client, "recovery.totp_remove")
    login = principal.login
    async with kit.new_uow() as uow:
        profile = await uow.recovery.profile(login)
        await uow.recovery.save_profile(replace(profile, totp_secret="", totp_pending="", totp_last_step=0))
        await uow.audit.add(
            AuditEvent(
                occurred_at=kit.clock.now(),
                actor=login,
                action="recovery.totp_removed",
                outcome=Outcome.SUCCESS,
                target=login,
                client_address=client,
            )
        )
        await uow.commit()
    contact = await _contact(kit, login)
    await _notify(
        kit, "recovery_totp_changed", _addresses(contact), name=_name(contact, login), enrolled="no", path="/security"
    )


# --- Helpdesk: sees and unlocks, starts a reset, never sees or sets a password ------------------------------------


@dataclass(frozen=True, slots=True)
class HelpdeskView:
    status: AccountStatus
    display_name: str
    has_verified_email: bool
    has_totp: bool


async def _operator(kit: RecoveryKit, principal: Principal, action: str, login: str, client: str) -> str:
    if not any(principal.has(role) for role in HELPDESK_ROLES):
        await _audit(kit, principal.login, action, Outcome.DENIED, login, client, reason="role")
        raise PermissionDenied("Only the IT helpdesk may do this.")
    target = normalize_login(login)
    if not is_plausible_login(target):
        raise NotFound("No such account.")
    return target


async def helpdesk_lookup(principal: Principal, login: str, *, client: str, kit: RecoveryKit) -> HelpdeskView:
    target = await _operator(kit, principal, "helpdesk.lookup", login, client)
    try:
        status = await kit.directory.account_status(target)
    except NotFound:
        await _audit(kit, principal.login, "helpdesk.lookup", Outcome.FAILURE, target, client, reason="not_found")
        raise
    async with kit.new_uow() as uow:
        contact = await uow.recovery.contact(status.login)
        profile = await uow.recovery.profile(status.login)
    await _audit(kit, principal.login, "helpdesk.lookup", Outcome.SUCCESS, status.login, client)
    return HelpdeskView(
        status=status,
        display_name=_name(contact, status.login),
        has_verified_email=bool(contact and contact.verified_private_email),
        has_totp=profile.has_totp,
    )


async def helpdesk_unlock(principal: Principal, login: str, *, client: str, kit: RecoveryKit) -> None:
    target = await _operator(kit, principal, "helpdesk.unlock", login, client)
    try:
        await kit.directory.unlock(target)
    except NotFound:
        await _audit(kit, principal.login, "helpdesk.unlock", Outcome.FAILURE, target, client, reason="not_found")
        raise
    await _audit(kit, principal.login, "helpdesk.unlock", Outcome.SUCCESS, target, client)
    contact = await _contact(kit, target)
    await _notify(kit, "recovery_unlocked", _addresses(contact), name=_name(contact, target), path="/login")


async def helpdesk_send_reset_link(principal: Principal, login: str, *, client: str, kit: RecoveryKit) -> None:
    """The owner gets a reset link at the verified private e-mail; the operator learns no secret."""
    target = await _operator(kit, principal, "helpdesk.reset_link", login, client)
    account = await kit.directory.find_account(target)
    if account is None:
        await _audit(kit, principal.login, "helpdesk.reset_link", Outcome.FAILURE, target, client, reason="not_found")
        raise NotFound("No such account.")
    contact = await _contact(kit, account.login)
    address = contact.verified_private_email if contact else ""
    if not address:
        await _audit(
            kit,
            principal.login,
            "helpdesk.reset_link",
            Outcome.FAILURE,
            account.login,
            client,
            reason="no_verified_private_email",
        )
        raise NoRecoveryAddress("The account has no verified recovery e-mail address.")
    await _issue_link(
        kit,
        account.login,
        Purpose.RESET,
        address,
        actor=principal.login,
        client=client,
        name=_name(contact, account.login),
    )
    await _audit(kit, principal.login, "helpdesk.reset_link", Outcome.SUCCESS, account.login, client)
