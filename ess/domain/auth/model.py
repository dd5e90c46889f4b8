"""Who is calling: the principal, their browser session and their API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from ess.domain.hr.model import Role
from ess.domain.types import EmployeeId

TOKEN_PREFIX: Final = "ess_"  # noqa: S105 - a visible prefix, so leaked tokens are easy to scan for
# 32 bytes = 256 bits from the OS CSPRNG.
TOKEN_BYTES: Final = 32


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
