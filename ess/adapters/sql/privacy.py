"""The privacy area's SQL side: the audit trail's reader, the job log, and the personal data of each area (export
everything about a person; delete what is older than its retention)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import String, and_, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Select

from ess.adapters.sql.analytics import SqlJourneyRepository
from ess.adapters.sql.help_requests import SqlHelpRequestRepository
from ess.adapters.sql.repositories import event_of
from ess.adapters.sql.tables import (
    ApiTokenRow,
    AuditEventRow,
    BankAccountRow,
    Base,
    CalendarTokenRow,
    DirectoryOutboxRow,
    EmergencyContactRow,
    EmployeeRow,
    ExpiryWarningRow,
    HelpRequestMessageRow,
    HelpRequestRow,
    JobRunRow,
    JourneyEventRow,
    LeaveBucketRow,
    LeaveDeputyRow,
    LeaveLedgerRow,
    LeaveRequestRow,
    LoginFactorRow,
    LoginRecoveryCodeRow,
    MailQueueRow,
    PasswordReminderRow,
    ProfileChangeRequestRow,
    ProfileHistoryRow,
    RecoveryProfileRow,
    RecoveryTokenRow,
    RetentionPermitRow,
    RoleAssignmentRow,
    WorkPatternRow,
)
from ess.domain.audit import AuditRecord
from ess.domain.privacy.model import AuditQuery, JobRun, Record, Subject, Value
from ess.domain.privacy.ports import DataArea, PrivacyUnitOfWork


class SqlAuditTrail:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def search(self, query: AuditQuery, prefixes: tuple[str, ...] | None) -> list[AuditRecord]:
        stmt = select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(query.limit)
        if prefixes is not None:
            stmt = stmt.where(or_(*(AuditEventRow.action.startswith(p, autoescape=True) for p in prefixes)))
        if query.since is not None:
            stmt = stmt.where(AuditEventRow.occurred_at >= query.since)
        if query.until is not None:
            stmt = stmt.where(AuditEventRow.occurred_at < query.until)
        if query.action:
            action = query.action
            stmt = stmt.where(
                AuditEventRow.action.startswith(action, autoescape=True)
                if action.endswith(".")
                else AuditEventRow.action == action
            )
        if query.actor:
            stmt = stmt.where(AuditEventRow.actor == query.actor)
        if query.subject:
            stmt = stmt.where(AuditEventRow.target == query.subject)
        if query.before_id is not None:
            stmt = stmt.where(AuditEventRow.id < query.before_id)
        return [_record(row) for row in await self._session.scalars(stmt)]

    async def chain(self, *, after_id: int, limit: int) -> list[AuditRecord]:
        stmt = select(AuditEventRow).where(AuditEventRow.id > after_id).order_by(AuditEventRow.id).limit(limit)
        return [_record(row) for row in await self._session.scalars(stmt)]


def _record(row: AuditEventRow) -> AuditRecord:
    return AuditRecord(id=row.id, event=event_of(row), prev_hash=row.prev_hash, hash=row.hash)


class SqlJobLog:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def started(self, job: str, at: datetime) -> None:
        row = await self._session.get(JobRunRow, job)
        if row is None:
            self._session.add(JobRunRow(job=job, started_at=at, finished_at=None, outcome="running", summary=""))
        else:
            row.started_at, row.finished_at, row.outcome, row.summary = at, None, "running", ""
        await self._session.flush()

    async def finished(self, job: str, at: datetime, outcome: str, summary: str) -> None:
        await self._session.execute(
            update(JobRunRow).where(JobRunRow.job == job).values(finished_at=at, outcome=outcome, summary=summary)
        )

    async def last_runs(self) -> list[JobRun]:
        rows = await self._session.scalars(select(JobRunRow).order_by(JobRunRow.job))
        return [JobRun(r.job, r.started_at, r.finished_at, r.outcome, r.summary) for r in rows]


# ---- personal data, by area ---------------------------------------------------------------------------------------


def _session(uow: PrivacyUnitOfWork) -> AsyncSession:
    session = getattr(uow, "session", None)
    if not isinstance(session, AsyncSession):
        raise TypeError("the SQL data areas need the SQL unit of work")
    return session


def _json(value: Any) -> Value:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    return str(value)


async def _rows(
    session: AsyncSession, table: type[Base], where: ColumnElement[bool], *, leave_out: Sequence[str] = ()
) -> list[Record]:
    """Every column of the matching rows but those left out (secrets, hashes), as JSON values, oldest id first."""
    columns = [c for c in table.__table__.columns if c.name not in leave_out]
    order = list(table.__mapper__.primary_key)
    result = await session.execute(select(*columns).where(where).order_by(*order))
    return [{c.name: _json(value) for c, value in zip(columns, row, strict=True)} for row in result]


def _mask(value: str, keep: int = 4) -> str:
    return "" if not value else "•" * max(len(value) - keep, 0) + value[-keep:]


async def _count_or_delete(
    session: AsyncSession, table: type[Base], where: ColumnElement[bool], *, dry_run: bool
) -> int:
    count = await session.scalar(select(func.count()).select_from(table).where(where)) or 0
    if count and not dry_run:
        await session.execute(delete(table).where(where))
    return int(count)


async def _with_permit(session: AsyncSession, table: str) -> None:
    """Let this transaction delete from an append-only table (see migration 0016); removed again by _end_permit."""
    session.add(RetentionPermitRow(table_name=table))
    await session.flush()


async def _end_permit(session: AsyncSession, table: str) -> None:
    await session.execute(delete(RetentionPermitRow).where(RetentionPermitRow.table_name == table))


class HrArea:
    """The HR record: master data, roles, work patterns, bank account (IBAN masked), emergency contacts. Leavers
    whose exit lies more than `leavers_years` back go with everything ESS keeps about their employment (leave,
    profile history, change requests, directory changes); their audit events follow their own retention."""

    name = "hr"
    retention_keys: Final = ("leavers_years",)

    async def export(self, uow: PrivacyUnitOfWork, subject: Subject) -> Mapping[str, Sequence[Record]]:
        if subject.employee_id is None:
            return {"hr_record": []}
        session, eid = _session(uow), subject.employee_id
        banks = await _rows(session, BankAccountRow, BankAccountRow.employee_id == eid)
        for bank in banks:
            bank["iban"] = _mask(str(bank["iban"]))
        return {
            "hr_record": await _rows(session, EmployeeRow, EmployeeRow.id == eid),
            "roles": await _rows(session, RoleAssignmentRow, RoleAssignmentRow.employee_id == eid),
            "work_patterns": await _rows(session, WorkPatternRow, WorkPatternRow.employee_id == eid),
            "bank_account": banks,
            "emergency_contacts": await _rows(session, EmergencyContactRow, EmergencyContactRow.employee_id == eid),
        }

    async def expire(
        self, uow: PrivacyUnitOfWork, cutoffs: Mapping[str, datetime], *, dry_run: bool
    ) -> Mapping[str, int]:
        session = _session(uow)
        leavers = list(
            await session.scalars(select(EmployeeRow.id).where(EmployeeRow.exit_date < cutoffs["leavers_years"].date()))
        )
        if dry_run or not leavers:
            return {"leavers_years": len(leavers)}
        for start in range(0, len(leavers), 500):  # IN lists within every database's parameter limit
            await _delete_employees(session, leavers[start : start + 500])
        return {"leavers_years": len(leavers)}


async def _delete_employees(session: AsyncSession, ids: list[int]) -> None:
    """The rows that do not cascade first (append-only ones under a permit), then the employees: the rest cascades."""
    await _with_permit(session, "leave_ledger")
    await session.execute(delete(LeaveLedgerRow).where(LeaveLedgerRow.employee_id.in_(ids)))
    await _end_permit(session, "leave_ledger")
    await _with_permit(session, "profile_history")
    await session.execute(delete(ProfileHistoryRow).where(ProfileHistoryRow.employee_id.in_(ids)))
    await _end_permit(session, "profile_history")
    await session.execute(delete(ExpiryWarningRow).where(ExpiryWarningRow.employee_id.in_(ids)))
    await session.execute(delete(DirectoryOutboxRow).where(DirectoryOutboxRow.employee_id.in_(ids)))
    await session.execute(delete(EmployeeRow).where(EmployeeRow.id.in_(ids)))


class ProfileArea:
    """Profile history, change requests and the directory changes they queued."""

    name = "profile"
    retention_keys: Final = ("profile_history_days",)

    async def export(self, uow: PrivacyUnitOfWork, subject: Subject) -> Mapping[str, Sequence[Record]]:
        if subject.employee_id is None:
            return {"profile_history": [], "change_requests": []}
        session, eid = _session(uow), subject.employee_id
        return {
            "profile_history": await _rows(session, ProfileHistoryRow, ProfileHistoryRow.employee_id == eid),
            "change_requests": await _rows(
                session, ProfileChangeRequestRow, ProfileChangeRequestRow.employee_id == eid
            ),
            "directory_changes": await _rows(
                session, DirectoryOutboxRow, DirectoryOutboxRow.employee_id == eid, leave_out=("claimed_until",)
            ),
        }

    async def expire(
        self, uow: PrivacyUnitOfWork, cutoffs: Mapping[str, datetime], *, dry_run: bool
    ) -> Mapping[str, int]:
        cutoff = cutoffs["profile_history_days"]
        session = _session(uow)
        await _with_permit(session, "profile_history")
        history = await _count_or_delete(
            session, ProfileHistoryRow, ProfileHistoryRow.changed_at < cutoff, dry_run=dry_run
        )
        await _end_permit(session, "profile_history")
        # A decided request older than the cutoff that no remaining history row points to.
        referenced = select(ProfileHistoryRow.request_id).where(ProfileHistoryRow.request_id.is_not(None))
        decided = and_(
            ProfileChangeRequestRow.status.in_(("applied", "rejected", "withdrawn")),
            func.coalesce(ProfileChangeRequestRow.decided_at, ProfileChangeRequestRow.created_at) < cutoff,
            ProfileChangeRequestRow.id.not_in(referenced),
        )
        requests = await _count_or_delete(session, ProfileChangeRequestRow, decided, dry_run=dry_run)
        return {"profile_history_days": history + requests}


class LeaveArea:
    """Leave requests, the leave ledger and its buckets, calendar feeds (metadata). Kept while employed: the
    ledger is a payroll record (docs/privacy.md). Deputy entries go `deputies_days` after their last day."""

    name = "leave"
    retention_keys: Final = ("deputies_days",)

    async def export(self, uow: PrivacyUnitOfWork, subject: Subject) -> Mapping[str, Sequence[Record]]:
        if subject.employee_id is None:
            return {"leave_requests": [], "leave_ledger": []}
        session, eid = _session(uow), subject.employee_id
        return {
            "leave_requests": await _rows(session, LeaveRequestRow, LeaveRequestRow.employee_id == eid),
            "leave_ledger": await _rows(session, LeaveLedgerRow, LeaveLedgerRow.employee_id == eid),
            "leave_buckets": await _rows(session, LeaveBucketRow, LeaveBucketRow.employee_id == eid),
            "calendar_feeds": await _rows(
                session, CalendarTokenRow, CalendarTokenRow.employee_id == eid, leave_out=("token_hash",)
            ),
            # Deputy entries the person named (as manager) or is named in (as deputy).
            "leave_deputies": await _rows(
                session, LeaveDeputyRow, or_(LeaveDeputyRow.manager_id == eid, LeaveDeputyRow.deputy_id == eid)
            ),
        }

    async def expire(
        self, uow: PrivacyUnitOfWork, cutoffs: Mapping[str, datetime], *, dry_run: bool
    ) -> Mapping[str, int]:
        if "deputies_days" not in cutoffs:
            return {}
        ended = LeaveDeputyRow.last_day < cutoffs["deputies_days"].date()
        return {"deputies_days": await _count_or_delete(_session(uow), LeaveDeputyRow, ended, dry_run=dry_run)}


class AccountArea:
    """Recovery channels (masked), second factors and recovery codes (metadata), API tokens and one-time links
    (metadata only: never a token or its hash), password reminders."""

    name = "account"
    retention_keys: Final = ("expired_links_days",)

    async def export(self, uow: PrivacyUnitOfWork, subject: Subject) -> Mapping[str, Sequence[Record]]:
        session, login = _session(uow), subject.login
        channels = await _rows(
            session,
            RecoveryProfileRow,
            RecoveryProfileRow.login == login,
            leave_out=("mobile_code_hash", "totp_pending", "totp_last_step"),
        )
        for channel in channels:
            channel["mobile"] = _mask(str(channel["mobile"] or ""), keep=3)
            channel["totp_secret"] = "[set up]" if channel["totp_secret"] else ""
        codes = await _rows(
            session, LoginRecoveryCodeRow, LoginRecoveryCodeRow.login == login, leave_out=("code_hash",)
        )
        return {
            "recovery_channels": channels,
            "second_factors": await _rows(
                session,
                LoginFactorRow,
                LoginFactorRow.login == login,
                leave_out=("secret", "credential_id", "sign_count", "last_step"),
            ),
            "recovery_codes": codes,
            "api_tokens": await _rows(session, ApiTokenRow, ApiTokenRow.login == login, leave_out=("token_hash",)),
            "one_time_links": await _rows(
                session,
                RecoveryTokenRow,
                RecoveryTokenRow.login == login,
                leave_out=("token_hash", "sms_code_hash", "failed_codes"),
            ),
            "password_reminders": await _rows(session, PasswordReminderRow, PasswordReminderRow.login == login),
        }

    async def expire(
        self, uow: PrivacyUnitOfWork, cutoffs: Mapping[str, datetime], *, dry_run: bool
    ) -> Mapping[str, int]:
        cutoff, session = cutoffs["expired_links_days"], _session(uow)
        due: list[tuple[type[Base], ColumnElement[bool]]] = [
            (ApiTokenRow, or_(ApiTokenRow.expires_at < cutoff, ApiTokenRow.revoked_at < cutoff)),
            (RecoveryTokenRow, or_(RecoveryTokenRow.expires_at < cutoff, RecoveryTokenRow.used_at < cutoff)),
            (CalendarTokenRow, CalendarTokenRow.revoked_at < cutoff),
            (LoginRecoveryCodeRow, LoginRecoveryCodeRow.used_at < cutoff),
            (PasswordReminderRow, PasswordReminderRow.expires_at < cutoff),
        ]
        total = 0
        for table, where in due:
            total += await _count_or_delete(session, table, where, dry_run=dry_run)
        return {"expired_links_days": total}


class AuditArea:
    """Audit events by the person or about them."""

    name = "audit"
    retention_keys: Final = ("audit_events_days",)

    async def export(self, uow: PrivacyUnitOfWork, subject: Subject) -> Mapping[str, Sequence[Record]]:
        where = or_(AuditEventRow.actor == subject.login, AuditEventRow.target.in_(subject.audit_targets))
        return {
            "audit_events": await _rows(_session(uow), AuditEventRow, where, leave_out=("prev_hash", "hash")),
        }

    async def expire(
        self, uow: PrivacyUnitOfWork, cutoffs: Mapping[str, datetime], *, dry_run: bool
    ) -> Mapping[str, int]:
        """Only a prefix of the chain goes (everything before the first event that is not due), so what remains
        is still one unbroken chain whose first event keeps the removed event's hash as its start."""
        session = _session(uow)
        first_kept = (
            select(func.min(AuditEventRow.id)).where(AuditEventRow.occurred_at >= cutoffs["audit_events_days"])
        ).scalar_subquery()
        where = or_(AuditEventRow.id < first_kept, first_kept.is_(None))
        await _with_permit(session, "audit_events")
        count = await _count_or_delete(session, AuditEventRow, where, dry_run=dry_run)
        await _end_permit(session, "audit_events")
        return {"audit_events_days": count}


class MailArea:
    """Mails to the person's addresses (kind, subject, status; bodies are sealed and emptied once sent)."""

    name = "mail"
    retention_keys: Final = ("mail_days",)

    async def export(self, uow: PrivacyUnitOfWork, subject: Subject) -> Mapping[str, Sequence[Record]]:
        session = _session(uow)
        addresses = await _addresses(session, subject)
        if not addresses:
            return {"mails": []}
        text = cast(MailQueueRow.recipients, String)
        where = or_(*(text.contains(f'"{address}"', autoescape=True) for address in addresses))
        return {"mails": await _rows(session, MailQueueRow, where, leave_out=("body", "claimed_until"))}

    async def expire(
        self, uow: PrivacyUnitOfWork, cutoffs: Mapping[str, datetime], *, dry_run: bool
    ) -> Mapping[str, int]:
        where = and_(MailQueueRow.status.in_(("sent", "failed")), MailQueueRow.created_at < cutoffs["mail_days"])
        return {"mail_days": await _count_or_delete(_session(uow), MailQueueRow, where, dry_run=dry_run)}


async def _addresses(session: AsyncSession, subject: Subject) -> list[str]:
    found: Select[tuple[str, str]] = select(EmployeeRow.work_email, EmployeeRow.private_email).where(
        EmployeeRow.login == subject.login
    )
    row = (await session.execute(found)).first()
    return [address for address in (row or ()) if address]


class AnalyticsArea:
    """Self-service journeys: no record names a person (a random journey id, never a login), so the export has
    nothing to show; the retention deletes events, journeys, daily counters and annotations past the cutoff."""

    name = "analytics"
    retention_keys: Final = ("analytics_events_days",)

    async def export(self, uow: PrivacyUnitOfWork, subject: Subject) -> Mapping[str, Sequence[Record]]:
        return {}

    async def expire(
        self, uow: PrivacyUnitOfWork, cutoffs: Mapping[str, datetime], *, dry_run: bool
    ) -> Mapping[str, int]:
        cutoff, session = cutoffs["analytics_events_days"], _session(uow)
        counted = await _count_or_delete(session, JourneyEventRow, JourneyEventRow.at < cutoff, dry_run=True)
        if not dry_run:
            await SqlJourneyRepository(session).delete_before(cutoff)
        return {"analytics_events_days": counted}


class HelpRequestsArea:
    """Help requests to HR and IT with their messages, answers and internal notes (the area refuses secrets in
    them); also the requests made before login under the person's login. Closed ones go after
    `help_requests_days`."""

    name = "help_requests"
    retention_keys: Final = ("help_requests_days",)

    async def export(self, uow: PrivacyUnitOfWork, subject: Subject) -> Mapping[str, Sequence[Record]]:
        session = _session(uow)
        mine = or_(HelpRequestRow.login == subject.login, HelpRequestRow.claimed_login == subject.login)
        if subject.employee_id is not None:
            mine = or_(mine, HelpRequestRow.employee_id == subject.employee_id)
        requests = await _rows(session, HelpRequestRow, mine)
        ids = [int(str(r["id"])) for r in requests]
        where = HelpRequestMessageRow.request_id.in_(ids)
        return {"help_requests": requests, "help_request_messages": await _rows(session, HelpRequestMessageRow, where)}

    async def expire(
        self, uow: PrivacyUnitOfWork, cutoffs: Mapping[str, datetime], *, dry_run: bool
    ) -> Mapping[str, int]:
        cutoff, session = cutoffs["help_requests_days"], _session(uow)
        closed = and_(HelpRequestRow.status == "closed", HelpRequestRow.closed_at < cutoff)
        counted = await _count_or_delete(session, HelpRequestRow, closed, dry_run=True)
        if counted and not dry_run:
            await SqlHelpRequestRepository(session).delete_closed_before(cutoff)
        return {"help_requests_days": counted}


def sql_data_areas() -> tuple[DataArea, ...]:
    """The SQL areas, in the order the export shows them."""
    return (
        HrArea(),
        ProfileArea(),
        LeaveArea(),
        AccountArea(),
        AuditArea(),
        MailArea(),
        HelpRequestsArea(),
        AnalyticsArea(),
    )
