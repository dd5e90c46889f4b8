"""Audit events: who did what to whom, from where, and how it ended. Never a secret."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final

# Keys that must never reach the audit log, whatever a caller passes by mistake.
_SECRET_KEY_PARTS: Final = ("password", "secret", "token", "otp", "totp", "code", "hash")


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    occurred_at: datetime
    actor: str
    action: str
    outcome: Outcome
    target: str = ""
    client_address: str = ""
    details: Mapping[str, str | int | bool | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "details", scrub(self.details))


def scrub(details: Mapping[str, str | int | bool | None]) -> dict[str, str | int | bool | None]:
    """Replace the value of any key that looks like it could hold a secret."""
    return {
        key: ("[redacted]" if any(part in key.lower() for part in _SECRET_KEY_PARTS) else value)
        for key, value in details.items()
    }
