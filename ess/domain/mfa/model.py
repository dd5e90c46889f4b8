"""Second factors of an account, the policy that makes them mandatory, and the errors of the login step."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from ess.domain.errors import AuthenticationFailed, DomainError, PermissionDenied, PolicyViolation
from ess.domain.hr.model import Role

RECOVERY_CODE_COUNT: Final = 10
# Ten characters of a 32-letter alphabet: 50 bits each, shown as two groups of five.
RECOVERY_CODE_LENGTH: Final = 10
RECOVERY_ALPHABET: Final = "abcdefghjkmnpqrstuvwxyz23456789"
MAX_LABEL_LENGTH: Final = 60


class FactorKind(StrEnum):
    TOTP = "totp"
    PASSKEY = "passkey"


class MfaPage(StrEnum):
    """The pages second-factor notices link to."""

    SETTINGS = "mfa.settings"


class SecondFactorRequired(AuthenticationFailed):
    """The password was right, but this account also needs its second factor (API: the `totp` field)."""

    code = "second_factor_required"


class SecondFactorWrong(AuthenticationFailed):
    code = "second_factor_failed"


class EnrolmentRequired(PermissionDenied):
    """The account's role needs a second factor and none is set up: enrol in the browser first."""

    code = "second_factor_enrolment_required"


class LastFactorNeeded(PolicyViolation):
    code = "second_factor_needed"


class NoFactorYet(PolicyViolation):
    code = "no_second_factor"


class LoginStepExpired(DomainError):
    """The password step is too old or was never done in this browser: start again at the login page."""

    code = "login_step_expired"


@dataclass(frozen=True, slots=True)
class Factor:
    """A second factor as stored. `secret` is the sealed TOTP seed or, for a passkey, its COSE public key
    (base64url); `credential_id` (base64url) only for passkeys. An unconfirmed TOTP is waiting for its first code."""

    login: str
    kind: FactorKind
    label: str
    secret: str
    created_at: datetime
    confirmed: bool = True
    credential_id: str = ""
    sign_count: int = 0
    last_step: int = 0
    id: int | None = None
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MfaPolicy:
    # Roles whose accounts must use a second factor (empty: it is everybody's own choice).
    required_roles: frozenset[Role] = frozenset()
    # "Remember this device": how long a browser may skip the second factor (zero: never offered).
    remember_lifetime: timedelta = timedelta(days=30)
    # From the right password to the second factor.
    step_lifetime: timedelta = timedelta(minutes=5)
    # Wrong codes or passkeys per account and window, and per client address over all accounts.
    failures_per_account: int = 5
    failures_per_client: int = 30
    failure_window: timedelta = timedelta(minutes=15)
    issuer: str = "ESS"
    # Signs login-step, remembered-device and passkey-challenge values; empty in no deployment (bootstrap sets it).
    key: bytes = field(default=b"", repr=False)

    def required_for(self, roles: frozenset[Role]) -> bool:
        return bool(self.required_roles & roles)


def new_recovery_codes() -> list[str]:
    return [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        for _ in range(RECOVERY_CODE_COUNT)
    ]


def shown_code(code: str) -> str:
    """As printed for the owner: two groups of five."""
    return f"{code[:5]}-{code[5:]}"


def normalise_code(typed: str) -> str:
    """What the owner typed, without spaces, dashes or case; ambiguous letters are never issued."""
    return "".join(c for c in typed.lower() if c.isalnum())


def hash_code(key: str, code: str) -> str:
    """Recovery codes are stored as an HMAC under the application's key: a database copy alone cannot test guesses."""
    return hmac.new(key.encode("utf-8"), normalise_code(code).encode("utf-8"), hashlib.sha256).hexdigest()


def looks_like_totp(code: str) -> bool:
    digits = code.replace(" ", "")
    return len(digits) == 6 and digits.isascii() and digits.isdigit()


def clean_label(label: str, default: str) -> str:
    text = " ".join(label.split())[:MAX_LABEL_LENGTH]
    return text or default
