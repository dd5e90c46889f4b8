"""Audit events: who did what to whom, from where, and how it ended. Never a secret."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
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


# The `prev_hash` of the first event of the chain (and of the first one after the retention job removed older ones,
# which keeps the removed event's hash as that event's `prev_hash`).
GENESIS: Final = "0" * 64


def chain_hash(previous: str, event: AuditEvent) -> str:
    """The hash of an event chained to the one before it: SHA-256 over the previous hash and every stored field in
    a canonical JSON form (UTC instant with microseconds, details with sorted keys)."""
    payload = json.dumps(
        [
            previous,
            event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
            event.actor,
            event.action,
            event.target,
            event.client_address,
            event.outcome.value,
            dict(event.details),
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """A stored event with its place in the chain."""

    id: int
    event: AuditEvent
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first event whose hash does not follow from its content and the event before it."""

    id: int
    reason: str
