"""Outbox entries and the rules that decide what to do with one: write, already there, conflict, or wait and retry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.types import EmployeeId

# Fields whose directory value may be written with other separators than ESS uses (E.164 vs "+49 89 1234-56").
PHONE_FIELDS: Final = frozenset({"work_phone", "mobile_phone", "private_phone"})
_PHONE_SEPARATORS: Final = str.maketrans("", "", " -/().\u00a0")


class OutboxStatus(StrEnum):
    PENDING = "pending"  # waiting to be applied (also while the directory is unreachable)
    APPLIED = "applied"  # the directory holds the new values
    CONFLICT = "conflict"  # the directory held a value nobody expected; nothing was written, HR decides
    FAILED = "failed"  # gave up: no such account, or too many attempts


OPEN_STATUSES: Final = frozenset({OutboxStatus.PENDING, OutboxStatus.CONFLICT, OutboxStatus.FAILED})


@dataclass(frozen=True, slots=True)
class DirectoryChange:
    """One queued write of HR fields to one directory account."""

    id: int | None
    employee_id: EmployeeId
    login: str
    values: dict[str, str]  # HR field -> new value ("" clears)
    expected: dict[str, str]  # HR field -> the value the directory should hold now (the old HR value)
    status: OutboxStatus
    created_at: datetime
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str = ""  # a plain reason, never a secret
    applied_at: datetime | None = None
    conflicts: dict[str, str] = field(default_factory=dict)  # field -> the unexpected value found in the directory
    last_attempt_at: datetime | None = None
    # Set when a person decided to overwrite a conflict (`ess outbox retry ID --force`): who it was.
    forced_by: str = ""

    @property
    def fields(self) -> list[str]:
        return sorted(self.values)

    @property
    def is_open(self) -> bool:
        """Not in the directory yet (the employee sees "pending synchronisation")."""
        return self.status in OPEN_STATUSES


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often the outbox is polled and how long it waits after the directory did not answer."""

    poll_seconds: float = 30.0
    backoff_base_seconds: float = 10.0
    backoff_max_seconds: float = 900.0
    # Attempts while the directory is unreachable before an entry is given up (failed); 0 = never give up.
    max_attempts: int = 0
    batch_size: int = 50
    # How long a worker owns the entries it took; another worker takes them over after this (a crashed process).
    claim_seconds: float = 300.0

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed attempt: base, 2 x base, 4 x base ... capped at the maximum."""
        exponent = max(attempts - 1, 0)
        # min() before the power would overflow: 2**60 seconds is far beyond any cap.
        seconds = min(self.backoff_base_seconds * (2 ** min(exponent, 60)), self.backoff_max_seconds)
        return timedelta(seconds=seconds)

    def gives_up_after(self, attempts: int) -> bool:
        return self.max_attempts > 0 and attempts >= self.max_attempts


def same_value(field_name: str, left: str, right: str) -> bool:
    """Equal for the directory: surrounding and repeated blanks do not count, nor separators in phone numbers."""
    if field_name in PHONE_FIELDS:
        return left.translate(_PHONE_SEPARATORS) == right.translate(_PHONE_SEPARATORS)
    return " ".join(left.split()) == " ".join(right.split())


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with an entry given what the directory holds now."""

    to_write: dict[str, str]  # fields whose directory value is the expected (old) one
    already_there: list[str]  # fields the directory holds the new value of already
    conflicts: dict[str, str]  # fields with a third value in the directory -> that value

    @property
    def is_conflict(self) -> bool:
        return bool(self.conflicts)


def decide(change: DirectoryChange, current: Mapping[str, str]) -> Decision:
    """Compare the directory's values with the entry. Fields the directory does not keep (unmapped) are skipped.

    A field empty in the directory is written (a new account, or one never synchronised): that loses nothing.
    A forced entry writes every kept field: a person looked at the conflict and decided.
    """
    to_write: dict[str, str] = {}
    already: list[str] = []
    conflicts: dict[str, str] = {}
    for name, new in sorted(change.values.items()):
        if name not in current:
            continue
        found = current[name]
        if same_value(name, found, new):
            already.append(name)
        elif change.forced_by or not found.strip() or same_value(name, found, change.expected.get(name, "")):
            # An empty directory value is written over: nothing anybody set would be lost.
            to_write[name] = new
        else:
            conflicts[name] = found
    return Decision(to_write=to_write, already_there=already, conflicts=conflicts)


def changed_fields(old: Mapping[str, str], new: Mapping[str, str]) -> dict[str, str]:
    """The fields of `new` whose value differs from `old` (a missing old value counts as "")."""
    return {name: value for name, value in new.items() if value != old.get(name, "")}


def audit_event(
    change: DirectoryChange, now: datetime, actor: str, action: str, outcome: Outcome, **extra: str | int | None
) -> AuditEvent:
    """The audit event of something that happened to an entry. Field names only: the values are personal data and
    are audited by the use case that changed them."""
    details: dict[str, str | int | bool | None] = {
        "change": change.id,
        "fields": ",".join(change.fields),
        "attempts": change.attempts,
    }
    details.update({key: value for key, value in extra.items() if value is not None})
    return AuditEvent(
        occurred_at=now, actor=actor, action=action, outcome=outcome, target=change.login, details=details
    )
