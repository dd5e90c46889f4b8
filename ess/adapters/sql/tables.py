"""SQLAlchemy tables: the HR records, the audit log, API tokens and the embedded directory's accounts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect, processors
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import DateTime, TypeDecorator

# Stable constraint names so Alembic migrations read the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class AwareDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, also on SQLite (which stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to an AwareDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return _in_utc(value)

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], datetime | None]:
        # The same steps as process_result_value after the driver type's own parsing, in one call per value instead
        # of TypeDecorator's three: a balance read processes about a hundred of these.
        parse = self.impl_instance.result_processor(dialect, coltype)
        if parse is processors.str_to_datetime:  # SQLite's text, parsed by fromisoformat

            def utc_text(value: Any) -> datetime | None:
                # Text without an offset (as SQLAlchemy writes it) parsed as UTC in one step: replace(tzinfo=...)
                # costs more than the parse. Anything else (an offset of its own, a date alone) parses as before.
                if value is None:
                    return None
                try:
                    moment = datetime.fromisoformat(value + "+00:00")
                except ValueError:
                    pass
                else:
                    if moment.tzinfo is UTC:
                        return moment
                return _in_utc(parse(value))

            return utc_text

        def aware(value: Any) -> datetime | None:
            return _in_utc(value if parse is None or value is None else parse(value))

        return aware


def _in_utc(moment: datetime | None) -> datetime | None:
    """What AwareDateTime.process_result_value gives for the driver's value."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class OrgUnitRow(Base):
    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class EmployeeRow(Base):
    __tablename__ = "employees"
    __table_args__ = (
        CheckConstraint("annual_leave_days >= 0", name="leave_days_not_negative"),
        CheckConstraint("exit_date IS NULL OR exit_date >= hire_date", name="exit_after_hire"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    personnel_number: Mapped[str] = mapped_column(String(32), unique=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    first_name: Mapped[str] = mapped_column(String(200))
    last_name: Mapped[str] = mapped_column(String(200))
    preferred_name: Mapped[str] = mapped_column(String(200), default="")
    birth_date: Mapped[date | None] = mapped_column(Date)
    work_email: Mapped[str] = mapped_column(String(254))
    private_email: Mapped[str] = mapped_column(String(254), default="")
    # Only a verified private e-mail receives recovery links (HR imports count as verified).
    private_email_verified_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    work_phone: Mapped[str] = mapped_column(String(32), default="")
    mobile_phone: Mapped[str] = mapped_column(String(32), default="")
    private_phone: Mapped[str] = mapped_column(String(32), default="")
    street: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(16), default="")
    city: Mapped[str] = mapped_column(String(200), default="")
    address_country: Mapped[str] = mapped_column(String(2), default="")
    hire_date: Mapped[date] = mapped_column(Date)
    exit_date: Mapped[date | None] = mapped_column(Date)
    country: Mapped[str] = mapped_column(String(2))
    subdivision: Mapped[str] = mapped_column(String(8))
    # Monday..Sunday, each 0, 0.5 or 1, as "1|1|1|1|1|0|0".
    work_pattern: Mapped[str] = mapped_column(String(32))
    annual_leave_days: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"), index=True)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id", ondelete="SET NULL"), index=True)
    cost_center: Mapped[str] = mapped_column(String(32), default="")
    updated_at: Mapped[datetime] = mapped_column(AwareDateTime())


class RoleAssignmentRow(Base):
    __tablename__ = "role_assignments"
    __table_args__ = (UniqueConstraint("employee_id", "role", name="uq_role_assignments_employee_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))


class AuditEventRow(Base):
    """Append-only: the migration adds triggers that refuse UPDATE and DELETE."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_actor_occurred_at", "actor", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(AwareDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(256))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(256), default="")
    client_address: Mapped[str] = mapped_column(String(64), default="")
    outcome: Mapped[str] = mapped_column(String(16))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The hash chain (ess.domain.audit.chain_hash): the hash of the event before this one, and this event's hash.
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class RetentionPermitRow(Base):
    """While the retention job's transaction holds a row here (inserted and removed again before it commits), the
    append-only triggers of that table let it delete; no other transaction ever sees the row."""

    __tablename__ = "retention_permits"

    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)


class JobRunRow(Base):
    """The last run of each daily job, for the operator console."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(AwareDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    outcome: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    login: Mapped[str] = mapped_column(String(256), index=True)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    expires_at: Mapped[datetime] = mapped_column(AwareDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(AwareDateTime())


class LocalAccountRow(Base):
    """Accounts of the embedded directory (used when no LDAP directory is configured)."""

    __tablename__ = "local_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254), default="", index=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(Text)
    groups: Mapped[str] = mapped_column(Text, default="")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    must_change: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(AwareDateTime())
    password_changed_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    password_expires_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    # HR fields mirrored into the directory (phones, display name, ...), as an LDAP directory would keep them.
    attributes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class LeaveBucketRow(Base):
    __tablename__ = "leave_buckets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    leave_year: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)


class LeaveLedgerRow(Base):
    """Append-only (the migration adds triggers): a cancellation is a reversing entry, never a deletion."""

    __tablename__ = "leave_ledger"
    __table_args__ = (
        Index("ix_leave_ledger_employee_id_effective_date", "employee_id", "effective_date"),
        # The report's totals read the entries of a few days of everyone (migration 0020).
        Index("ix_leave_ledger_effective_date", "effective_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket_id: Mapped[int] = mapped_column(ForeignKey("leave_buckets.id", ondelete="RESTRICT"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="RESTRICT"))
    effective_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    entry_type: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("leave_requests.id", ondelete="RESTRICT"), index=True)
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    reason: Mapped[str] = mapped_column(Text, default="")


# Slots of `leave_year_sums`' bookings and expiries: 0 dated before the leave year, 1-12 its months, 13 after it.
YEAR_SLOTS = range(14)

# Per employee and leave year, the ledger summed by what each entry means (as `reports.py` reads it); kept by the
# database's triggers in the transaction of every ledger and bucket write (migration 0020), never written by ESS.
LEAVE_YEAR_SUMS = Table(
    "leave_year_sums",
    Base.metadata,
    Column("employee_id", ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True),
    Column("leave_year", Integer, primary_key=True),
    Column("granted", Boolean, nullable=False, server_default=false()),  # a statutory or contractual bucket exists
    Column("entitlement", Numeric(14, 2), nullable=False, server_default="0"),
    Column("carried_over", Numeric(14, 2), nullable=False, server_default="0"),
    *(Column(f"bookings_{slot:02d}", Numeric(14, 2), nullable=False, server_default="0") for slot in YEAR_SLOTS),
    *(Column(f"expiries_{slot:02d}", Numeric(14, 2), nullable=False, server_default="0") for slot in YEAR_SLOTS),
    sqlite_with_rowid=False,  # the rows are read by their key: stored in its order, no separate index
)


class LeaveRequestRow(Base):
    __tablename__ = "leave_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    start_half: Mapped[bool] = mapped_column(Boolean, default=False)
    end_half: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(32), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    substitute: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    decided_by: Mapped[str] = mapped_column(String(256), default="")
    decided_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    decision_comment: Mapped[str] = mapped_column(Text, default="")


class LeaveRequestDayRow(Base):
    """One row per requested day. While its request is active, the unique index forbids booking the day twice,
    whatever the application does."""

    __tablename__ = "leave_request_days"
    __table_args__ = (
        Index(
            "uq_leave_request_days_active_day",
            "employee_id",
            "day",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("leave_requests.id", ondelete="CASCADE"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    fraction: Mapped[Decimal] = mapped_column(Numeric(3, 1))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class LeaveYearClosureRow(Base):
    """A leave year close-year has closed for one employee."""

    __tablename__ = "leave_year_closures"

    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True)
    leave_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    closed_at: Mapped[datetime] = mapped_column(AwareDateTime())
    closed_by: Mapped[str] = mapped_column(String(256))


class LeaveDeputyRow(Base):
    """A manager's deputy for a period: from `first_day` to `last_day` the deputy decides the manager's waiting
    requests."""

    __tablename__ = "leave_deputies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    created_by: Mapped[str] = mapped_column(String(256))


class LeaveReminderRow(Base):
    """What `ess vacation remind` sent for a waiting request, once per stage (remind, hand over, escalate)."""

    __tablename__ = "leave_request_reminders"

    request_id: Mapped[int] = mapped_column(ForeignKey("leave_requests.id", ondelete="CASCADE"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(16), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(AwareDateTime())


class ExpiryWarningRow(Base):
    """Evidence of the employer's duty to warn (EuGH C-684/16): what was said, to whom, when."""

    __tablename__ = "expiry_warnings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="RESTRICT"), index=True)
    leave_year: Mapped[int] = mapped_column(Integer)
    sent_on: Mapped[date] = mapped_column(Date)
    days_stated: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    deadline_stated: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())


class CalendarTokenRow(Base):
    """A private iCal feed URL: only the token's hash is stored; revoking ends the feed."""

    __tablename__ = "calendar_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(AwareDateTime())


class WorkPatternRow(Base):
    """The history of an employee's weekly pattern: leave is earned and counted by the pattern of each period."""

    __tablename__ = "work_patterns"
    __table_args__ = (UniqueConstraint("employee_id", "valid_from", name="uq_work_patterns_employee_valid_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    pattern: Mapped[str] = mapped_column(String(32))


class BankAccountRow(Base):
    """The salary account, kept apart from the HR record (the HR import never touches it)."""

    __tablename__ = "bank_accounts"

    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True)
    iban: Mapped[str] = mapped_column(String(34))
    bic: Mapped[str] = mapped_column(String(11), default="")
    holder: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(AwareDateTime())


class EmergencyContactRow(Base):
    __tablename__ = "emergency_contacts"
    __table_args__ = (UniqueConstraint("employee_id", "position", name="uq_emergency_contacts_employee_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    relation: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32))


class ProfileChangeRequestRow(Base):
    __tablename__ = "profile_change_requests"
    __table_args__ = (Index("ix_profile_change_requests_status_created_at", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[dict[str, Any]] = mapped_column(JSON)
    new_value: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    effective_from: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    created_by: Mapped[str] = mapped_column(String(256))
    decided_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    decided_by: Mapped[str] = mapped_column(String(256), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    applied_at: Mapped[datetime | None] = mapped_column(AwareDateTime())


class ProfileHistoryRow(Base):
    """Append-only: the migration adds triggers that refuse UPDATE and DELETE."""

    __tablename__ = "profile_history"
    __table_args__ = (Index("ix_profile_history_employee_id_changed_at", "employee_id", "changed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[dict[str, Any]] = mapped_column(JSON)
    new_value: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_at: Mapped[datetime] = mapped_column(AwareDateTime())
    changed_by: Mapped[str] = mapped_column(String(256))
    via: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("profile_change_requests.id"))


class DirectoryOutboxRow(Base):
    """Directory changes committed with the HR change and applied afterwards (the transactional outbox)."""

    __tablename__ = "directory_outbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'applied', 'conflict', 'failed')", name="known_status"),
        Index("ix_directory_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_directory_outbox_login_id", "login", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="RESTRICT"), index=True)
    login: Mapped[str] = mapped_column(String(64))
    values: Mapped[dict[str, str]] = mapped_column(JSON)
    expected: Mapped[dict[str, str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    applied_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    conflicts: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    forced_by: Mapped[str] = mapped_column(String(200), default="")
    # A worker owns the entry until then (set by claim, cleared by update); a crashed worker's claim just runs out.
    claimed_until: Mapped[datetime | None] = mapped_column(AwareDateTime())


class MailQueueRow(Base):
    """Mails committed to the queue and sent afterwards by a worker (durable mail); the body is sealed and emptied
    once sent."""

    __tablename__ = "mail_queue"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="known_status"),
        Index("ix_mail_queue_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    recipients: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    # A worker owns the mail until then (set by claim, cleared by update); a crashed worker's claim just runs out.
    claimed_until: Mapped[datetime | None] = mapped_column(AwareDateTime())


class PasswordReminderRow(Base):
    """A password-expiry reminder that went out: one per account, password (its expiry instant) and offset."""

    __tablename__ = "password_reminders"
    __table_args__ = (
        UniqueConstraint("login", "expires_at", "offset_days", name="uq_password_reminders_login_expires_offset"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(256), index=True)
    expires_at: Mapped[datetime] = mapped_column(AwareDateTime())
    offset_days: Mapped[int] = mapped_column(Integer)
    recipient: Mapped[str] = mapped_column(String(254))
    sent_at: Mapped[datetime] = mapped_column(AwareDateTime())


class RecoveryTokenRow(Base):
    """One-time links (reset, unlock, e-mail confirmation): only the SHA-256 of the token is stored."""

    __tablename__ = "recovery_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    login: Mapped[str] = mapped_column(String(256), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    expires_at: Mapped[datetime] = mapped_column(AwareDateTime())
    used_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    detail: Mapped[str] = mapped_column(String(254), default="")
    failed_codes: Mapped[int] = mapped_column(Integer, default=0)
    sms_code_hash: Mapped[str] = mapped_column(String(64), default="")
    sms_sent_at: Mapped[datetime | None] = mapped_column(AwareDateTime())


class RecoveryProfileRow(Base):
    """Recovery channels of an account: mobile number and TOTP (seeds sealed with the application's key)."""

    __tablename__ = "recovery_profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(256), unique=True)
    mobile: Mapped[str] = mapped_column(String(32), default="")
    mobile_verified_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    mobile_code_hash: Mapped[str] = mapped_column(String(64), default="")
    mobile_code_sent_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    totp_secret: Mapped[str] = mapped_column(Text, default="")
    totp_pending: Mapped[str] = mapped_column(Text, default="")
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)


class LoginFactorRow(Base):
    """Second factors of a login: TOTP (seed sealed with the application's key) or a passkey (public key only)."""

    __tablename__ = "login_factors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(256), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(60), default="")
    secret: Mapped[str] = mapped_column(Text)
    credential_id: Mapped[str | None] = mapped_column(String(1400), unique=True)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    last_step: Mapped[int] = mapped_column(Integer, default=0)
    confirmed_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(AwareDateTime())


class LoginRecoveryCodeRow(Base):
    """One-time recovery codes of a login, stored as HMAC-SHA256 under a key derived from the application secret."""

    __tablename__ = "login_recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(256), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    used_at: Mapped[datetime | None] = mapped_column(AwareDateTime())


class HelpArticleRow(Base):
    """A help article; its texts are versions. The full-text index (`help_search`) is made per dialect by the
    migration (SQLite FTS5, PostgreSQL tsvector) and is not part of these models."""

    __tablename__ = "help_articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    category: Mapped[str] = mapped_column(String(16))
    review_due: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(AwareDateTime())


class HelpArticleVersionRow(Base):
    __tablename__ = "help_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "lang", "version", name="uq_help_article_versions_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("help_articles.id", ondelete="CASCADE"), index=True)
    lang: Mapped[str] = mapped_column(String(2))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    keywords: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    published_at: Mapped[datetime | None] = mapped_column(AwareDateTime())


class HelpFeedbackRow(Base):
    """One "was this helpful?" vote, deliberately without anybody's id."""

    __tablename__ = "help_feedback"
    __table_args__ = (Index("ix_help_feedback_kind_key", "kind", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(80))
    helpful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())


class HelpMissedQueryRow(Base):
    """Searches that found nothing, counted per folded text and language; never who searched."""

    __tablename__ = "help_missed_queries"
    __table_args__ = (UniqueConstraint("query", "lang", name="uq_help_missed_queries_query_lang"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    query: Mapped[str] = mapped_column(String(200))
    lang: Mapped[str] = mapped_column(String(2))
    count: Mapped[int] = mapped_column(Integer)
    last_seen: Mapped[datetime] = mapped_column(AwareDateTime())


class HelpIndexStateRow(Base):
    """One row: a number bumped with every change of the search index, so processes know to reload its words."""

    __tablename__ = "help_index_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer)


class JourneyEventRow(Base):
    """One step of one self-service journey: a random journey id, never an employee id or login (BetrVG §87)."""

    __tablename__ = "analytics_events"
    __table_args__ = (
        Index("ix_analytics_events_day_flow_step", "day", "flow", "step"),
        Index("ix_analytics_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flow: Mapped[str] = mapped_column(String(32))
    journey: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str] = mapped_column(String(40), default="")
    detail: Mapped[str] = mapped_column(String(80), default="")
    at: Mapped[datetime] = mapped_column(AwareDateTime())
    day: Mapped[date] = mapped_column(Date)


class JourneyRow(Base):
    """One journey's summary, folded from its events as they come: what the dashboard aggregates."""

    __tablename__ = "analytics_journeys"
    __table_args__ = (
        UniqueConstraint("flow", "journey", name="uq_analytics_journeys_flow_journey"),
        Index("ix_analytics_journeys_day_flow", "started_day", "flow"),
        Index("ix_analytics_journeys_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flow: Mapped[str] = mapped_column(String(32))
    journey: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(AwareDateTime())
    started_day: Mapped[date] = mapped_column(Date)
    last_at: Mapped[datetime] = mapped_column(AwareDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    solved: Mapped[str | None] = mapped_column(String(8), nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")


class JourneyDailyRow(Base):
    """Journeys per day (the day each started) and flow, counted as events arrive: what the dashboard sums."""

    __tablename__ = "analytics_daily"
    __table_args__ = (UniqueConstraint("day", "flow", name="uq_analytics_daily_day_flow"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    flow: Mapped[str] = mapped_column(String(32))
    started: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    escalated: Mapped[int] = mapped_column(Integer, default=0)
    solved_yes: Mapped[int] = mapped_column(Integer, default=0)
    solved_partly: Mapped[int] = mapped_column(Integer, default=0)
    solved_no: Mapped[int] = mapped_column(Integer, default=0)


class JourneyDailyDetailRow(Base):
    """Counts per day, flow and label: error codes, search words, searches without results, completion times (in
    seconds, ten steps a decade)."""

    __tablename__ = "analytics_daily_details"
    __table_args__ = (
        UniqueConstraint("day", "flow", "kind", "label", name="uq_analytics_daily_details_key"),
        Index("ix_analytics_daily_details_kind_day", "kind", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    flow: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(80))
    count: Mapped[int] = mapped_column(Integer, default=0)


class AnnotationRow(Base):
    """A note on the analytics timeline ("new article published"), to compare before and after."""

    __tablename__ = "analytics_annotations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())


class HelpRequestRow(Base):
    """A request to HR or IT. `employee_id` is empty for a person who could not log in (name and callback instead).
    Never holds a secret: the domain refuses passwords and codes in the text and keeps only known context keys."""

    __tablename__ = "help_requests"
    __table_args__ = (Index("ix_help_requests_team_status", "team", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    login: Mapped[str] = mapped_column(String(256), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    callback: Mapped[str] = mapped_column(String(200), default="")
    claimed_login: Mapped[str] = mapped_column(String(200), default="")
    topic: Mapped[str] = mapped_column(String(40))
    team: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    assignee: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    updated_at: Mapped[datetime] = mapped_column(AwareDateTime())
    first_response_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), index=True)
    reminded_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    solved: Mapped[bool | None] = mapped_column(Boolean)


class HelpRequestMessageRow(Base):
    """A message of a help request: the person's text, an answer, or an internal note (kind "note")."""

    __tablename__ = "help_request_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("help_requests.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    author: Mapped[str] = mapped_column(String(256), default="")
    body: Mapped[str] = mapped_column(Text)
    article: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
