"""Ports: the small interfaces through which the domain reaches clocks, storage and the directory."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from ess.domain.audit import AuditEvent
from ess.domain.auth.model import ApiToken, SessionRecord
from ess.domain.errors import PolicyViolation
from ess.domain.hr.model import Employee, WorkLocation
from ess.domain.outbox.model import DirectoryChange, OutboxStatus
from ess.domain.profile.model import (
    ChangeRequest,
    EmergencyContact,
    FieldValue,
    HistoryEntry,
    ProfileField,
    StoredBankAccount,
)
from ess.domain.profile.model import RequestStatus as ChangeRequestStatus
from ess.domain.recovery.ports import RecoveryRepository
from ess.domain.types import EmployeeId
from ess.domain.vacation.calendar import DayOff
from ess.domain.vacation.model import Bucket, LeaveRequest, LedgerEntry, RequestStatus
from ess.domain.vacation.report import ReportRow
from ess.domain.vacation.rules import ExpiryWarning


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    def today(self) -> date:
        """Today's date where the company is (Europe/Berlin by default)."""
        ...


# --- Directory -------------------------------------------------------------------------------------------------


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


@runtime_checkable
class Directory(Protocol):
    """Where accounts and passwords live: the embedded store, OpenLDAP or Active Directory."""

    async def authenticate(self, login: str, password: str) -> AuthOutcome:
        """Check a password. Failures count towards the directory's own lockout."""
        ...

    async def find_account(self, login_or_email: str) -> DirectoryAccount | None:
        """The one account with this login or e-mail, or None (also when ambiguous)."""
        ...

    async def account_status(self, login: str) -> AccountStatus:
        """Locked, disabled, expired, must change. Raises NotFound."""
        ...

    async def change_password(self, login: str, current: str, new: str) -> None:
        """The user changes their own password. Raises AuthenticationFailed or PolicyViolation."""
        ...

    async def reset_password(self, login: str, new: str) -> None:
        """Set a password with service rights (forgotten password). Raises NotFound or PolicyViolation."""
        ...

    async def unlock(self, login: str) -> None:
        """Clear a lockout. Raises NotFound."""
        ...

    async def groups(self, login: str) -> frozenset[str]:
        """Names of the groups the account is a member of."""
        ...

    async def read_attributes(self, login: str, fields: Sequence[str]) -> dict[str, str]:
        """Values of HR fields kept in the directory ("" when unset; unmapped fields are left out). Raises NotFound."""
        ...

    async def write_attributes(self, login: str, values: Mapping[str, str]) -> None:
        """Write HR fields to their directory attributes ("" clears; unmapped fields are ignored). Raises NotFound."""
        ...

    async def ping(self) -> None:
        """Raise ServiceUnavailable when the directory cannot answer."""
        ...


class BreachedPasswords(Protocol):
    """A breach corpus asked without giving the password away (Have I Been Pwned's k-anonymity range API)."""

    async def times_seen(self, password: str) -> int:
        """How often the password appears in known breaches (0: never). Raises ServiceUnavailable when the service
        cannot answer in time; callers go on without the check then."""
        ...


# --- Storage ---------------------------------------------------------------------------------------------------


class EmployeeRepository(Protocol):
    async def get(self, employee_id: EmployeeId) -> Employee | None: ...

    async def by_login(self, login: str) -> Employee | None: ...

    async def by_personnel_numbers(self, numbers: Sequence[str]) -> dict[str, Employee]: ...

    async def logins_in_use(self, logins: Sequence[str]) -> dict[str, str]:
        """login -> personnel number, for the given logins that exist."""
        ...

    async def all_personnel_numbers(self) -> set[str]: ...

    async def manager_links(self) -> dict[str, str | None]:
        """Personnel number -> the manager's personnel number, for every employee."""
        ...

    async def save_all(self, employees: Sequence[Employee], *, progress: Callable[[int], None] | None = None) -> None:
        """Insert or update by personnel number, then link managers, org units and roles; `progress` gets the
        number of employees written so far."""
        ...

    async def has_reports(self, employee_id: EmployeeId) -> bool: ...


class AuditLog(Protocol):
    async def add(self, event: AuditEvent) -> None: ...

    async def recent(self, limit: int = 50, *, actor: str | None = None) -> list[AuditEvent]: ...


class ApiTokenRepository(Protocol):
    async def add(self, token: ApiToken) -> None: ...

    async def by_hash(self, token_hash: str) -> ApiToken | None: ...

    async def revoke(self, token_hash: str, at: datetime) -> None: ...

    async def revoke_all_for(self, login: str, at: datetime) -> int: ...


class VacationRepository(Protocol):
    async def lock_employee(self, employee_id: EmployeeId) -> None:
        """Serialise leave changes of one employee until the transaction ends."""
        ...

    async def buckets(self, employee_id: EmployeeId) -> list[Bucket]: ...

    async def add_bucket(self, bucket: Bucket) -> Bucket: ...

    async def entries(self, employee_id: EmployeeId) -> list[LedgerEntry]: ...

    async def add_entries(self, entries: Sequence[LedgerEntry]) -> None:
        """Append to the ledger; entries are never changed or deleted."""
        ...

    async def requests(self, employee_id: EmployeeId) -> list[LeaveRequest]: ...

    async def request(self, request_id: int) -> LeaveRequest | None: ...

    async def add_request(self, request: LeaveRequest) -> LeaveRequest:
        """Store a request and its days. Raises Conflict when one of the days is already booked."""
        ...

    async def update_request(self, request: LeaveRequest, *, expected: RequestStatus) -> None:
        """Store a new status and decision if the stored status is still `expected` (else Conflict); the days stop
        counting as booked once the request is inactive."""
        ...

    async def warnings(self, employee_id: EmployeeId, leave_year: int) -> list[ExpiryWarning]:
        """The expiry warnings recorded as sent for a leave year (evidence of the duty to warn)."""
        ...

    async def add_warning(
        self, employee_id: EmployeeId, leave_year: int, warning: ExpiryWarning, *, channel: str, recipient: str
    ) -> None: ...

    async def add_feed_token(self, employee_id: EmployeeId, token_hash: str, at: datetime) -> None:
        """A new private calendar feed; any earlier feed of the employee is revoked."""
        ...

    async def revoke_feed_tokens(self, employee_id: EmployeeId, at: datetime) -> None: ...

    async def feed_owner(self, token_hash: str) -> EmployeeId | None: ...

    async def pending_requests(self, *, manager_personnel_number: str | None) -> list[tuple[LeaveRequest, Employee]]:
        """Requests waiting for a decision (pending or cancellation requested) of a manager's direct reports
        (None: of everybody), oldest first."""
        ...


class ProfileRepository(Protocol):
    """Personal data beside the HR record, change requests and the change history."""

    async def lock(self, employee_id: EmployeeId) -> None:
        """Hold the employee's row until the transaction ends (concurrent changes queue)."""
        ...

    async def bank_account(self, employee_id: EmployeeId) -> StoredBankAccount | None: ...

    async def emergency_contacts(self, employee_id: EmployeeId) -> list[EmergencyContact]: ...

    async def apply(self, employee_id: EmployeeId, profile_field: ProfileField, value: FieldValue) -> None:
        """Store a field's new value in the HR record."""
        ...

    async def add_request(self, request: ChangeRequest) -> ChangeRequest: ...

    async def request(self, request_id: int) -> ChangeRequest | None: ...

    async def requests_for(self, employee_id: EmployeeId) -> list[ChangeRequest]:
        """Newest first."""
        ...

    async def open_requests(self, *, status: ChangeRequestStatus) -> list[ChangeRequest]:
        """Oldest first."""
        ...

    async def update_request(self, request: ChangeRequest, *, expected: ChangeRequestStatus) -> None:
        """Store a decision; raises Conflict when the stored status is no longer `expected`."""
        ...

    async def add_history(self, entry: HistoryEntry) -> None: ...

    async def history(self, employee_id: EmployeeId, limit: int = 200) -> list[HistoryEntry]:
        """Newest first."""
        ...

    async def latest_changes(
        self, employee_ids: Sequence[EmployeeId]
    ) -> dict[tuple[EmployeeId, ProfileField], HistoryEntry]:
        """The newest history entry per employee and field."""
        ...

    async def hr_emails(self) -> list[str]:
        """Work e-mail addresses of everyone with the HR role."""


class OutboxRepository(Protocol):
    """Directory changes waiting to be applied (the outbox), written in the same transaction as the HR change."""

    async def add(self, change: DirectoryChange) -> DirectoryChange:
        """Store a new entry; returns it with its id."""
        ...

    async def get(self, change_id: int) -> DirectoryChange | None: ...

    async def due(self, now: datetime, limit: int) -> list[DirectoryChange]:
        """Pending entries with next_attempt_at <= now that no live claim holds, oldest first; per login only the
        oldest pending entry (a later change must not overtake an earlier one)."""
        ...

    async def claim(self, change_id: int, *, now: datetime, until: datetime) -> bool:
        """Take a pending entry for delivery until `until`, unless another worker holds a live claim on it.
        Atomic: of two workers claiming at once, exactly one gets True."""
        ...

    async def for_employee(self, employee_id: EmployeeId, *, open_only: bool) -> list[DirectoryChange]:
        """An employee's entries, oldest first; open_only: those not applied yet."""
        ...

    async def listing(self, statuses: Sequence[OutboxStatus] | None, limit: int) -> list[DirectoryChange]:
        """Entries with one of the statuses (None: all), newest first."""
        ...

    async def update(self, change: DirectoryChange) -> None:
        """Store the entry's new state and release any claim on it."""
        ...


class PasswordReminderRepository(Protocol):
    async def sent_offsets(self, login: str, expires_at: datetime) -> set[int]:
        """The offsets (days before expiry) already reminded for this account's password expiring at `expires_at`."""
        ...

    async def add(
        self, login: str, expires_at: datetime, offset_days: int, *, recipient: str, sent_at: datetime
    ) -> None: ...


class UnitOfWork(Protocol):
    """One transaction. Leaving the block without commit() rolls everything back."""

    employees: EmployeeRepository
    audit: AuditLog
    tokens: ApiTokenRepository
    vacation: VacationRepository
    profiles: ProfileRepository
    outbox: OutboxRepository
    password_reminders: PasswordReminderRepository
    recovery: RecoveryRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    async def ping(self) -> None:
        """Raise ServiceUnavailable when the database cannot answer."""
        ...


# --- Sessions and throttling -----------------------------------------------------------------------------------


class SessionStore(Protocol):
    """Server-side browser sessions. The id handed to the browser is never stored as such."""

    async def create(self, record: SessionRecord, ttl_seconds: int) -> str: ...

    async def get(self, session_id: str) -> SessionRecord | None: ...

    async def touch(self, session_id: str, record: SessionRecord, ttl_seconds: int) -> None: ...

    async def delete(self, session_id: str) -> None: ...

    async def revoke_all(self, login: str, *, before: datetime) -> None:
        """Every session of this account created up to `before` is no longer valid."""
        ...

    async def revoked_before(self, login: str) -> datetime | None: ...


class AttemptCounter(Protocol):
    """Counts events per key in a fixed window that starts with the first event."""

    async def hit(self, key: str, window_seconds: int) -> int:
        """Atomically add one and return the new count."""
        ...

    async def release(self, key: str) -> None:
        """Take one back (an attempt that turned out not to count)."""
        ...

    async def clear(self, key: str) -> None: ...


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    to: tuple[str, ...]
    subject: str
    text: str
    # Never a secret in a mail: links carry single-use tokens at most, never passwords.


@runtime_checkable
class Mailer(Protocol):
    async def send(self, mail: OutgoingMail) -> None:
        """Deliver or raise ServiceUnavailable; the caller decides whether to retry."""
        ...


@dataclass(frozen=True, slots=True)
class Notice:
    """Something a person should hear about: the kind names the template, params fill it (no secrets)."""

    kind: str
    to: tuple[str, ...]
    params: Mapping[str, str]


class Notifier(Protocol):
    async def notify(self, notice: Notice) -> None:
        """Tell people about a change that is already saved; best effort, never undoes the change."""
        ...

    async def notify_first(self, notice: Notice) -> None:
        """A notice that must go out before a change is made: raises ServiceUnavailable when it cannot be sent."""
        ...


class HolidayCalendar(Protocol):
    """The days off at a place of work: public holidays plus company days off and configured half days."""

    def days_off(self, location: WorkLocation, year: int) -> Mapping[date, DayOff]:
        """Every day off in `year` at `location`, weekends included. Raises InvalidInput for an unknown location."""
        ...


class Regions(Protocol):
    def is_known(self, country: str, subdivision: str) -> bool:
        """Whether the subdivision code exists in that country (for public holidays)."""
        ...


# --- Reports ---------------------------------------------------------------------------------------------------


class LeaveReport(Protocol):
    """Leave figures of all employees at once, for HR (read-only: grants not yet booked show as zero)."""

    async def rows(self, as_of: date) -> list[ReportRow]:
        """Every employee employed in the leave year of `as_of`, with the balance on `as_of`, in no particular
        order; the same figures as `compute_balance` gives for each of them."""
        ...
