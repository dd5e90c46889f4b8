"""What the directory answers, in domain words, and the one form in which passwords reach it."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from ess.domain.errors import PolicyViolation

# The one normalisation rule: Unicode NFC. "é" typed as one code point and as "e" + combining accent are the same
# password; nothing else changes (no case folding, no space collapsing, no compatibility mapping as NFKC would do,
# which would make "①" and "1" the same and let ESS set a password other directory clients never send).
NORMALISATION: Final = "NFC"


def normalise_password(password: str) -> str:
    """The form in which a password is checked, sent to the directory and compared, in every flow (login, change,
    reset, operator set): Unicode NFC, nothing else. Call it once at the edge of each use case."""
    return unicodedata.normalize(NORMALISATION, password)


class AuthOutcome(StrEnum):
    """Why a bind succeeded or failed, as precisely as the directory says (audited; users see less)."""

    OK = "ok"
    INVALID_CREDENTIALS = "invalid_credentials"
    LOCKED = "locked"
    DISABLED = "disabled"
    ACCOUNT_EXPIRED = "account_expired"
    LOGON_NOT_PERMITTED = "logon_not_permitted"  # AD: outside logon hours or from a workstation not allowed
    PASSWORD_EXPIRED = "password_expired"  # noqa: S105 - an outcome name, not a password
    MUST_CHANGE = "must_change"


class DirectoryRejection(StrEnum):
    """Why the directory's own password policy refused a new password."""

    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    IN_HISTORY = "in_history"
    TOO_YOUNG = "too_young"
    INSUFFICIENT_QUALITY = "insufficient_quality"
    NOT_ALLOWED = "not_allowed"
    POLICY = "policy"  # the directory does not say which rule (Active Directory)


class DirectoryPasswordRejected(PolicyViolation):
    code = "directory_password_rejected"

    def __init__(self, reason: DirectoryRejection) -> None:
        super().__init__(f"The directory's password policy refused the password ({reason.value}).")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class DirectoryAccount:
    login: str
    email: str = ""
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class AccountStatus:
    login: str
    locked: bool
    disabled: bool
    password_expired: bool
    must_change: bool
    locked_until: datetime | None = None
    password_expires_at: datetime | None = None
    password_changed_at: datetime | None = None
