"""Who may read which audit events, the filters of the viewer, a person's data export and the retention periods."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from ess.domain.errors import InvalidInput, PermissionDenied
from ess.domain.hr.model import Role

# JSON values of an exported record.
Value = str | int | float | bool | None | list["Value"] | dict[str, "Value"]
Record = dict[str, Value]

# The action prefixes each role may read in the audit trail; None: every event.
SECURITY_EVENTS: Final = ("auth.", "recovery.", "helpdesk.", "mfa.", "password.")
HR_EVENTS: Final = ("hr.", "profile.", "leave.")
AUDIT_SCOPES: Final[Mapping[Role, tuple[str, ...] | None]] = {
    Role.AUDITOR: None,
    Role.HELPDESK: SECURITY_EVENTS,
    Role.ADMIN: SECURITY_EVENTS,
    Role.HR: HR_EVENTS,
}
MAX_PAGE: Final = 1000


def audit_scope(roles: frozenset[Role]) -> tuple[str, ...] | None:
    """The action prefixes the roles may read together (None: all); PermissionDenied without any."""
    if Role.AUDITOR in roles:
        return None
    prefixes = sorted({p for role in roles if role in AUDIT_SCOPES for p in AUDIT_SCOPES[role] or ()})
    if not prefixes:
        raise PermissionDenied("Your roles do not allow reading the audit trail.")
    return tuple(prefixes)


def may_read_audit(roles: frozenset[Role]) -> bool:
    return any(role in AUDIT_SCOPES for role in roles)


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """The viewer's filters: time range (inclusive from, exclusive until), action (a type such as `auth.login` or a
    prefix ending in a dot such as `leave.`), actor, subject (the event's target), newest first, paged by id."""

    since: datetime | None = None
    until: datetime | None = None
    action: str = ""
    actor: str = ""
    subject: str = ""
    before_id: int | None = None
    limit: int = 100

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}.")
        if self.since and self.until and self.since >= self.until:
            raise InvalidInput("The start of the range must lie before its end.")
        for name in ("action", "actor", "subject"):
            if len(getattr(self, name)) > 256:
                raise InvalidInput(f"{name} is too long.")


@dataclass(frozen=True, slots=True)
class Subject:
    """The person an export or a search is about."""

    login: str
    employee_id: int | None = None
    personnel_number: str = ""

    @property
    def audit_targets(self) -> tuple[str, ...]:
        """How audit events name this person as their target."""
        targets = [self.login]
        if self.personnel_number:
            targets.append(f"employee:{self.personnel_number}")
        return tuple(targets)


@dataclass(frozen=True, slots=True)
class ExportSection:
    """One kind of record (`kind`: hr_record, profile_history, leave_requests, ...) and every record of it."""

    kind: str
    records: Sequence[Record]


@dataclass(frozen=True, slots=True)
class PersonalData:
    subject: Subject
    produced_at: datetime
    sections: Sequence[ExportSection] = field(default_factory=tuple)

    def as_json(self) -> Record:
        return {
            "login": self.subject.login,
            "personnel_number": self.subject.personnel_number,
            "produced_at": self.produced_at.isoformat(),
            "sections": {section.kind: list(section.records) for section in self.sections},
        }


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Retention period per configuration key (`audit_events_days` ...); a key absent or 0 keeps that data."""

    periods: Mapping[str, timedelta]

    @classmethod
    def from_settings(cls, values: Mapping[str, int]) -> RetentionPolicy:
        periods = {}
        for key, value in values.items():
            if value < 0:
                raise InvalidInput(f"retention.{key} must not be negative.")
            if value:
                periods[key] = timedelta(days=value * 365 if key.endswith("_years") else value)
        return cls(periods)

    def cutoffs(self, now: datetime) -> dict[str, datetime]:
        """Data of each key older than its cutoff is due."""
        return {key: now - period for key, period in self.periods.items()}


@dataclass(frozen=True, slots=True)
class JobRun:
    job: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    summary: str
