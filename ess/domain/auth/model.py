"""Who is calling: the principal, their browser session and their API tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from ess.domain.errors import AuthenticationFailed
from ess.domain.hr.model import Role
from ess.domain.types import EmployeeId

TOKEN_PREFIX: Final = "ess_"  # noqa: S105 - a visible prefix, so leaked tokens are easy to scan for
# 32 bytes = 256 bits from the OS CSPRNG.
TOKEN_BYTES: Final = 32


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    """Sessions, tokens and login throttling (see `auth.throttle` for how the failure limits fit together)."""

    # The most wrong passwords of one login the directory sees per window: keep it below the directory's lockout.
    failures_per_account: int = 5
    failures_per_client: int = 30
    window: timedelta = timedelta(minutes=15)
    # Tries per login from one client address per window, refused ones included.
    failures_per_login_and_client: int = 10
    # Of `failures_per_account`, what the owner's known devices may use whatever strangers do.
    known_device_failures: int = 2
    known_device_lifetime: timedelta = timedelta(days=90)
    # Signs known-device cookies; empty: no device is known.
    device_key: bytes = field(default=b"", repr=False)
    session_idle: timedelta = timedelta(minutes=30)
    session_absolute: timedelta = timedelta(hours=10)
    token_lifetime: timedelta = timedelta(hours=12)
    # How long a session or token's principal (roles, disabled or not) is trusted before it is read again from HR
    # data and the directory. Logout, password changes and revoked tokens end it at once regardless.
    principal_cache: timedelta = timedelta(seconds=60)
    group_roles: Mapping[str, Role] | None = None
    # Once single sign-on is configured, accounts with one of these roles may no longer use the password form.
    sso_only_roles: frozenset[Role] = frozenset()


class SsoReason(StrEnum):
    """Why a single sign-on was refused; the login page says it in plain words."""

    EXPIRED = "expired"
    FORGED = "forged"
    STATE = "state"
    PROVIDER = "provider"
    UNKNOWN_ACCOUNT = "unknown_account"
    DISABLED = "disabled"
    NO_ACCESS = "no_access"
    UNAVAILABLE = "unavailable"
    CLOCK_SKEW = "clock_skew"
    TICKET_KEY = "ticket_key"
    NOT_CONFIGURED = "not_configured"


class SsoRefused(AuthenticationFailed):
    """A token or ticket was refused, or its account may not sign in; `reason` says why."""

    code = "sso_refused"

    def __init__(self, message: str, *, reason: SsoReason) -> None:
        super().__init__(message)
        self.reason = reason


class PasswordLoginRefused(AuthenticationFailed):
    """The password was right, but the account's role must sign in with single sign-on."""

    code = "sso_required"


@dataclass(frozen=True, slots=True)
class FederatedIdentity:
    """Someone an identity provider or the Kerberos KDC vouches for: the login it names, and its groups where the
    provider sends them (a configured claim)."""

    method: str
    login: str
    subject: str = ""
    groups: tuple[str, ...] = ()


class Purpose(StrEnum):
    """What a one-time link (see the recovery area) allows. Reset and unlock links are a way into an account, so
    they end with every other way in when the password changes."""

    RESET = "reset"
    UNLOCK = "unlock"
    VERIFY_EMAIL = "verify_email"


@dataclass(frozen=True, slots=True)
class Principal:
    login: str
    display_name: str
    roles: frozenset[Role]
    employee_id: EmployeeId | None = None

    def has(self, role: Role) -> bool:
        return role in self.roles

    def has_role(self, name: str) -> bool:
        """For templates, which speak in role names."""
        return any(role.value == name for role in self.roles)


@dataclass(frozen=True, slots=True)
class SessionRecord:
    principal: Principal
    created_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class ApiToken:
    token_hash: str
    login: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def is_valid_at(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


def is_plausible_login(login: str) -> bool:
    """Not empty and no control characters (NUL breaks databases and directories alike)."""
    return bool(login) and not any(ord(c) < 32 or ord(c) == 127 for c in login)


def new_secret_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """Tokens are stored as SHA-256: they are long random values, so a fast hash is enough (no salt needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
