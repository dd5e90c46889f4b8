"""Recovery tokens, recovery channels and the limits that guard them."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from ess.domain.auth.model import Purpose
from ess.domain.errors import AuthenticationFailed, Conflict, InvalidInput

# 32 bytes = 256 bits from the OS CSPRNG (ASVS 11.5.1 asks for at least 128).
TOKEN_BYTES: Final = 32
SMS_CODE_DIGITS: Final = 6


class RecoveryPage(StrEnum):
    """The pages recovery notices link to (the edge turns them into URLs; link pages carry the token)."""

    RESET_LINK = "recovery.reset_link"
    UNLOCK_LINK = "recovery.unlock_link"
    CONFIRM_EMAIL_LINK = "recovery.confirm_email_link"
    LOGIN = "recovery.login"
    SECURITY = "recovery.security"


# The page behind a one-time link of each purpose.
LINK_PAGES: Final = {
    Purpose.RESET: RecoveryPage.RESET_LINK,
    Purpose.UNLOCK: RecoveryPage.UNLOCK_LINK,
    Purpose.VERIFY_EMAIL: RecoveryPage.CONFIRM_EMAIL_LINK,
}


class InvalidLink(InvalidInput):
    """Unknown, used, expired or burnt: the same answer for each, so a guess learns nothing."""

    code = "recovery_link_invalid"


class SecondFactorFailed(AuthenticationFailed):
    code = "second_factor_failed"


class NoRecoveryAddress(Conflict):
    code = "no_recovery_address"


@dataclass(frozen=True, slots=True)
class RecoveryPolicy:
    token_lifetime: timedelta = timedelta(minutes=15)
    # Silent caps: beyond them a request gets the same answer but sends nothing (no mail or SMS bombing).
    mails_per_account: int = 3
    mail_window: timedelta = timedelta(hours=1)
    # Loud caps, counted before any lookup and keyed by what was typed, so unknown accounts behave the same.
    requests_per_client: int = 30
    requests_global: int = 1000
    request_window: timedelta = timedelta(hours=1)
    # Wrong tokens, TOTP or SMS codes, and wrong passwords on the enrolment page.
    failures_per_client: int = 20
    # Wrong passwords on the enrolment page: below every directory's lockout (slapd's is 5), so never a lockout.
    failures_per_account: int = 3
    # Wrong TOTP or SMS codes per account, over all its links.
    code_failures_per_account: int = 10
    failure_window: timedelta = timedelta(minutes=15)
    # A link is burnt after this many wrong second-factor codes.
    code_attempts_per_token: int = 5
    sms_enabled: bool = False
    sms_code_lifetime: timedelta = timedelta(minutes=10)
    totp_issuer: str = "ESS"


@dataclass(frozen=True, slots=True)
class RecoveryToken:
    """A one-time link as stored: only the SHA-256 of the token, bound to one account and one purpose."""

    token_hash: str
    login: str
    purpose: Purpose
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    # VERIFY_EMAIL: the address to be confirmed. Never a secret.
    detail: str = ""
    failed_codes: int = 0
    sms_code_hash: str = ""
    sms_sent_at: datetime | None = None

    def is_usable_at(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at


@dataclass(frozen=True, slots=True)
class RecoveryProfile:
    """The recovery channels of one account besides the private e-mail (which lives with the HR record)."""

    login: str
    mobile: str = ""
    mobile_verified_at: datetime | None = None
    # Sealed (encrypted) TOTP secrets: the active one and one waiting for its first code.
    totp_secret: str = ""
    totp_pending: str = ""
    # The last accepted TOTP time step: a code is never accepted twice (ASVS 6.5.1).
    totp_last_step: int = 0
    mobile_code_hash: str = ""
    mobile_code_sent_at: datetime | None = None

    @property
    def has_totp(self) -> bool:
        return bool(self.totp_secret)


@dataclass(frozen=True, slots=True)
class RecoveryContact:
    """Where the owner of an account can be told things: work and private e-mail from the HR record."""

    login: str
    display_name: str
    work_email: str
    private_email: str
    private_email_verified_at: datetime | None

    @property
    def verified_private_email(self) -> str:
        return self.private_email if self.private_email and self.private_email_verified_at else ""


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """Long random tokens need no salt or slow hash (ASVS 6.5.2): SHA-256 is enough."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_sms_code() -> str:
    return f"{secrets.randbelow(10**SMS_CODE_DIGITS):0{SMS_CODE_DIGITS}d}"


def hash_code(key: str, code: str) -> str:
    """Short codes are stored as a keyed HMAC: a plain hash of six digits is reversed in a millisecond."""
    return hmac.new(key.encode("utf-8"), code.encode("utf-8"), hashlib.sha256).hexdigest()


def same_hash(a: str, b: str) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a, b)


def mask_email(address: str) -> str:
    """a***@example.org: enough for the owner to recognise, too little to harvest."""
    local, at, domain = address.partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"
