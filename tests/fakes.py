"""Fakes for the domain ports: in-memory, with the same observable behaviour as the real adapters."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any, Self

from ess.domain.analytics.model import (
    AnalyticsPolicy,
    Annotation,
    Flow,
    FlowFigures,
    JourneyEvent,
    JourneyId,
    JourneySummary,
    Owner,
    Solved,
    Step,
    figures_of,
)
from ess.domain.audit import AuditEvent
from ess.domain.auth.model import ApiToken, Purpose, SessionRecord
from ess.domain.directory.model import AccountStatus, AuthOutcome, DirectoryAccount
from ess.domain.errors import AuthenticationFailed, NotFound, ServiceUnavailable
from ess.domain.hr.model import Employee
from ess.domain.mail.model import MailStatus, QueuedMail
from ess.domain.mfa.model import Factor
from ess.domain.outbox.model import OPEN_STATUSES, DirectoryChange, OutboxStatus
from ess.domain.recovery.model import RecoveryContact, RecoveryProfile, RecoveryToken
from ess.domain.shared import Notice, WriteNeeded
from ess.domain.types import EmployeeId


class FixedClock:
    def __init__(self, now: datetime | None = None) -> None:
        self._now = now or datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def today(self) -> date:
        return self._now.date()

    def advance(self, delta: timedelta) -> None:
        self._now += delta


@dataclass
class FakeAccount:
    password: str
    email: str = ""
    groups: frozenset[str] = frozenset()
    outcome_override: AuthOutcome | None = None
    disabled: bool = False
    failed_attempts: int = 0


class FakeDirectory:
    def __init__(self) -> None:
        self.accounts: dict[str, FakeAccount] = {}
        self.available = True
        self.authenticate_calls: list[str] = []
        self.attributes: dict[str, dict[str, str]] = {}  # login -> HR field -> value
        self.kept_fields = frozenset({"work_phone", "mobile_phone", "display_name", "street", "postal_code", "city"})
        self.writes: list[tuple[str, dict[str, str]]] = []

    def add(self, login: str, password: str, *, email: str = "", groups: frozenset[str] = frozenset()) -> None:
        self.accounts[login] = FakeAccount(password=password, email=email, groups=groups)

    def _check(self) -> None:
        if not self.available:
            raise ServiceUnavailable("The directory is not reachable.")

    async def authenticate(self, login: str, password: str) -> AuthOutcome:
        self._check()
        self.authenticate_calls.append(login)
        account = self.accounts.get(login)
        if account is None:
            return AuthOutcome.INVALID_CREDENTIALS
        if account.password != password:
            account.failed_attempts += 1
            return AuthOutcome.INVALID_CREDENTIALS
        if account.disabled:
            return AuthOutcome.DISABLED
        return account.outcome_override or AuthOutcome.OK

    async def find_account(self, login_or_email: str) -> DirectoryAccount | None:
        self._check()
        matches = [
            DirectoryAccount(login=k, email=a.email) for k, a in self.accounts.items() if login_or_email in (k, a.email)
        ]
        return matches[0] if len(matches) == 1 else None

    async def account_status(self, login: str) -> AccountStatus:
        self._check()
        if login not in self.accounts:
            raise NotFound("No such account.")
        return AccountStatus(
            login=login,
            locked=False,
            disabled=self.accounts[login].disabled,
            password_expired=False,
            must_change=False,
        )

    async def change_password(self, login: str, current: str, new: str) -> None:
        self._check()
        account = self.accounts.get(login)
        if account is None or account.password != current:
            raise AuthenticationFailed("The current password is not correct.")
        account.password = new

    async def reset_password(self, login: str, new: str) -> None:
        self._check()
        if login not in self.accounts:
            raise NotFound("No such account.")
        self.accounts[login].password = new

    async def unlock(self, login: str) -> None:
        self._check()

    async def groups(self, login: str) -> frozenset[str]:
        self._check()
        account = self.accounts.get(login)
        return account.groups if account else frozenset()

    async def ping(self) -> None:
        self._check()

    async def read_attributes(self, login: str, fields: Sequence[str]) -> dict[str, str]:
        self._check()
        if login not in self.accounts:
            raise NotFound("No such account.")
        stored = self.attributes.get(login, {})
        return {name: stored.get(name, "") for name in fields if name in self.kept_fields}

    async def write_attributes(self, login: str, values: Mapping[str, str]) -> None:
        self._check()
        if login not in self.accounts:
            raise NotFound("No such account.")
        kept = {name: value for name, value in values.items() if name in self.kept_fields}
        self.writes.append((login, kept))
        self.attributes.setdefault(login, {}).update(kept)


@dataclass
class _Data:
    employees: dict[str, Employee] = field(default_factory=dict)  # by personnel number
    audit: list[AuditEvent] = field(default_factory=list)
    tokens: dict[str, ApiToken] = field(default_factory=dict)
    outbox: dict[int, DirectoryChange] = field(default_factory=dict)
    claims: dict[int, datetime] = field(default_factory=dict)
    mails: dict[int, QueuedMail] = field(default_factory=dict)
    mail_claims: dict[int, datetime] = field(default_factory=dict)
    factors: dict[int, Factor] = field(default_factory=dict)
    # (login, code hash) -> used at
    recovery_codes: dict[tuple[str, str], datetime | None] = field(default_factory=dict)


class FakeMailQueue:
    """The mail queue in memory, with the same claims as the SQL one."""

    def __init__(self, data: _Data) -> None:
        self._data = data

    async def add(self, mail: QueuedMail) -> QueuedMail:
        stored = replace(mail, id=max(self._data.mails, default=0) + 1)
        self._data.mails[stored.id or 0] = stored
        return stored

    async def get(self, mail_id: int) -> QueuedMail | None:
        return self._data.mails.get(mail_id)

    def _claimed(self, mail_id: int, now: datetime) -> bool:
        until = self._data.mail_claims.get(mail_id)
        return until is not None and until > now

    async def due(self, now: datetime, limit: int) -> list[QueuedMail]:
        found = [
            m
            for key, m in sorted(self._data.mails.items())
            if m.status is MailStatus.PENDING
            and m.next_attempt_at is not None
            and m.next_attempt_at <= now
            and not self._claimed(key, now)
        ]
        return found[:limit]

    async def claim(self, mail_id: int, *, now: datetime, until: datetime) -> bool:
        mail = self._data.mails.get(mail_id)
        if mail is None or mail.status is not MailStatus.PENDING or self._claimed(mail_id, now):
            return False
        self._data.mail_claims[mail_id] = until
        return True

    async def listing(self, statuses: Sequence[MailStatus] | None, limit: int) -> list[QueuedMail]:
        newest_first = [m for _, m in sorted(self._data.mails.items(), reverse=True)]
        return [m for m in newest_first if statuses is None or m.status in statuses][:limit]

    async def update(self, mail: QueuedMail) -> None:
        assert mail.id is not None
        self._data.mails[mail.id] = mail
        self._data.mail_claims.pop(mail.id, None)


class FakeOutbox:
    def __init__(self, data: _Data) -> None:
        self._data = data

    async def add(self, change: DirectoryChange) -> DirectoryChange:
        stored = replace(change, id=max(self._data.outbox, default=0) + 1)
        self._data.outbox[stored.id or 0] = stored
        return stored

    async def get(self, change_id: int) -> DirectoryChange | None:
        return self._data.outbox.get(change_id)

    def _claimed(self, change_id: int, now: datetime) -> bool:
        until = self._data.claims.get(change_id)
        return until is not None and until > now

    async def due(self, now: datetime, limit: int) -> list[DirectoryChange]:
        pending = sorted((c for c in self._data.outbox.values() if c.status is OutboxStatus.PENDING), key=_key)
        first_per_login: dict[str, DirectoryChange] = {}
        for change in pending:
            first_per_login.setdefault(change.login, change)
        found = [
            c
            for c in first_per_login.values()
            if c.next_attempt_at is not None and c.next_attempt_at <= now and not self._claimed(_key(c), now)
        ]
        return sorted(found, key=_key)[:limit]

    async def claim(self, change_id: int, *, now: datetime, until: datetime) -> bool:
        change = self._data.outbox.get(change_id)
        if change is None or change.status is not OutboxStatus.PENDING or self._claimed(change_id, now):
            return False
        self._data.claims[change_id] = until
        return True

    async def for_employee(self, employee_id: EmployeeId, *, open_only: bool) -> list[DirectoryChange]:
        found = [c for c in self._data.outbox.values() if c.employee_id == employee_id]
        return sorted((c for c in found if not open_only or c.status in OPEN_STATUSES), key=_key)

    async def listing(self, statuses: Sequence[OutboxStatus] | None, limit: int) -> list[DirectoryChange]:
        found = [c for c in self._data.outbox.values() if statuses is None or c.status in statuses]
        return sorted(found, key=_key, reverse=True)[:limit]

    async def update(self, change: DirectoryChange) -> None:
        self._data.outbox[_key(change)] = change
        self._data.claims.pop(_key(change), None)


def _key(change: DirectoryChange) -> int:
    assert change.id is not None
    return change.id


class FakeEmployees:
    def __init__(self, data: _Data) -> None:
        self._data = data

    async def get(self, employee_id: EmployeeId) -> Employee | None:
        return next((e for e in self._data.employees.values() if e.id == employee_id), None)

    async def by_login(self, login: str) -> Employee | None:
        return next((e for e in self._data.employees.values() if e.login == login), None)

    async def by_personnel_numbers(self, numbers: Sequence[str]) -> dict[str, Employee]:
        return {n: self._data.employees[n] for n in numbers if n in self._data.employees}

    async def logins_in_use(self, logins: Sequence[str]) -> dict[str, str]:
        return {e.login: e.personnel_number for e in self._data.employees.values() if e.login in logins}

    async def all_personnel_numbers(self) -> set[str]:
        return set(self._data.employees)

    async def manager_links(self) -> dict[str, str | None]:
        return {n: e.manager_personnel_number for n, e in self._data.employees.items()}

    async def save_all(self, employees: Sequence[Employee], *, progress: Callable[[int], None] | None = None) -> None:
        for done, employee in enumerate(employees, start=1):
            if progress is not None:
                progress(done)
            old = self._data.employees.get(employee.personnel_number)
            new_id = old.id if old else EmployeeId(len(self._data.employees) + 1)
            self._data.employees[employee.personnel_number] = replace(employee, id=new_id)

    async def has_reports(self, employee_id: EmployeeId) -> bool:
        me = await self.get(employee_id)
        return me is not None and any(
            e.manager_personnel_number == me.personnel_number for e in self._data.employees.values()
        )


class FakeAudit:
    def __init__(self, data: _Data) -> None:
        self._data = data

    async def add(self, event: AuditEvent) -> None:
        self._data.audit.append(event)

    async def recent(self, limit: int = 50, *, actor: str | None = None) -> list[AuditEvent]:
        events = [e for e in reversed(self._data.audit) if actor is None or e.actor == actor]
        return events[:limit]


class FakeTokens:
    def __init__(self, data: _Data) -> None:
        self._data = data

    async def add(self, token: ApiToken) -> None:
        self._data.tokens[token.token_hash] = token

    async def by_hash(self, token_hash: str) -> ApiToken | None:
        return self._data.tokens.get(token_hash)

    async def revoke(self, token_hash: str, at: datetime) -> None:
        token = self._data.tokens.get(token_hash)
        if token and token.revoked_at is None:
            self._data.tokens[token_hash] = replace(token, revoked_at=at)

    async def revoke_all_for(self, login: str, at: datetime) -> int:
        hits = [h for h, t in self._data.tokens.items() if t.login == login and t.revoked_at is None]
        for h in hits:
            await self.revoke(h, at)
        return len(hits)


class FakeRecovery:
    """Recovery links and profiles in memory (not transactional: the unit tests that use it only revoke)."""

    def __init__(self) -> None:
        self.tokens: dict[str, RecoveryToken] = {}
        self.profiles: dict[str, RecoveryProfile] = {}

    async def add_token(self, token: RecoveryToken) -> None:
        await self.revoke_tokens(token.login, token.created_at, (token.purpose,))
        self.tokens[token.token_hash] = token

    async def token(self, token_hash: str) -> RecoveryToken | None:
        return self.tokens.get(token_hash)

    async def claim_token(self, token_hash: str, at: datetime) -> bool:
        token = self.tokens.get(token_hash)
        if token is None or not token.is_usable_at(at):
            return False
        self.tokens[token_hash] = replace(token, used_at=at)
        return True

    async def update_token(self, token: RecoveryToken) -> None:
        self.tokens[token.token_hash] = token

    async def revoke_tokens(self, login: str, at: datetime, purposes: tuple[Purpose, ...]) -> int:
        hits = [t for t in self.tokens.values() if t.login == login and t.used_at is None and t.purpose in purposes]
        for t in hits:
            self.tokens[t.token_hash] = replace(t, used_at=at)
        return len(hits)

    async def profile(self, login: str) -> RecoveryProfile:
        return self.profiles.get(login, RecoveryProfile(login=login))

    async def save_profile(self, profile: RecoveryProfile) -> None:
        self.profiles[profile.login] = profile

    async def contact(self, login: str) -> RecoveryContact | None:
        return None

    async def set_private_email(self, login: str, address: str, verified_at: datetime | None) -> None:
        return None


class FakeFactors:
    """Login second factors in memory, shared by every unit of work of one FakeUnitOfWork (not transactional)."""

    def __init__(self, data: _Data) -> None:
        self._data = data

    async def factors(self, login: str) -> list[Factor]:
        return [f for _, f in sorted(self._data.factors.items()) if f.login == login]

    async def add(self, factor: Factor) -> int:
        new_id = max(self._data.factors, default=0) + 1
        self._data.factors[new_id] = replace(factor, id=new_id)
        return new_id

    async def confirm(self, factor_id: int, step: int, at: datetime) -> None:
        factor = self._data.factors[factor_id]
        for other_id, other in list(self._data.factors.items()):
            if other.login == factor.login and not other.confirmed and other_id != factor_id:
                del self._data.factors[other_id]
        self._data.factors[factor_id] = replace(factor, confirmed=True, created_at=at, last_step=step)

    async def rename(self, factor_id: int, label: str) -> None:
        self._data.factors[factor_id] = replace(self._data.factors[factor_id], label=label)

    async def advance_step(self, factor_id: int, step: int, at: datetime) -> bool:
        factor = self._data.factors[factor_id]
        if factor.last_step >= step:
            return False
        self._data.factors[factor_id] = replace(factor, last_step=step, last_used_at=at)
        return True

    async def record_passkey_use(self, factor_id: int, sign_count: int, at: datetime) -> None:
        self._data.factors[factor_id] = replace(self._data.factors[factor_id], sign_count=sign_count)

    async def remove(self, login: str, factor_id: int) -> bool:
        factor = self._data.factors.get(factor_id)
        if factor is None or factor.login != login:
            return False
        del self._data.factors[factor_id]
        return True

    async def remove_all(self, login: str) -> int:
        mine = [i for i, f in self._data.factors.items() if f.login == login]
        confirmed = sum(1 for i in mine if self._data.factors[i].confirmed)
        for i in mine:
            del self._data.factors[i]
        await self.replace_recovery_codes(login, [], datetime.now(UTC))
        return confirmed

    async def replace_recovery_codes(self, login: str, code_hashes: list[str], at: datetime) -> None:
        for key in [k for k in self._data.recovery_codes if k[0] == login]:
            del self._data.recovery_codes[key]
        for code_hash in code_hashes:
            self._data.recovery_codes[login, code_hash] = None

    async def use_recovery_code(self, login: str, code_hash: str, at: datetime) -> bool:
        if (login, code_hash) not in self._data.recovery_codes or self._data.recovery_codes[login, code_hash]:
            return False
        self._data.recovery_codes[login, code_hash] = at
        return True

    async def recovery_codes_left(self, login: str) -> int:
        return sum(1 for (owner, _), used in self._data.recovery_codes.items() if owner == login and used is None)


class FakeProfiles:
    """No personal-data history: what the HR import asks of profiles in unit tests."""

    async def latest_changes(self, employee_ids: Sequence[EmployeeId]) -> dict[tuple[EmployeeId, Any], Any]:
        return {}


class FakeJourneys:
    """Journey events in memory, folded into summaries the way the SQL repository folds them."""

    def __init__(self) -> None:
        self.events: list[JourneyEvent] = []
        self.journeys: dict[tuple[Flow, str], JourneySummary] = {}
        self.last: dict[tuple[Flow, str], datetime] = {}
        self.notes: list[tuple[Annotation, datetime]] = []

    async def add(self, event: JourneyEvent) -> None:
        self.events.append(event)
        key = (event.flow, event.journey)
        summary = self.journeys.get(key) or JourneySummary(flow=event.flow, started_at=event.at)
        if event.step is Step.COMPLETED and summary.completed_at is None:
            summary = replace(summary, completed_at=event.at)
        elif event.step is Step.FAILED:
            summary = replace(summary, failures=summary.failures + 1)
        elif event.step is Step.ESCALATED:
            summary = replace(summary, escalated=True)
        self.journeys[key] = summary
        self.last[key] = max(self.last.get(key, event.at), event.at)

    async def last_step_at(self, flow: Flow, journey: JourneyId) -> datetime | None:
        return self.last.get((flow, journey))

    async def answer(self, flow: Flow, journey: JourneyId, solved: Solved, comment: str) -> bool:
        key = (flow, journey)
        if key not in self.journeys:
            return False
        self.journeys[key] = replace(self.journeys[key], solved=solved)
        return True

    async def figures(
        self, flows: Sequence[Flow], start: date, end: date, *, now: datetime, policy: AnalyticsPolicy
    ) -> list[FlowFigures]:
        unsuppressed = replace(policy, k=1)
        return [
            figures_of(
                flow,
                [j for j in self.journeys.values() if j.flow is flow and start <= j.started_at.date() <= end],
                now,
                unsuppressed,
            )
            for flow in flows
        ]

    async def daily(self, flows: Sequence[Flow], start: date, end: date) -> list[tuple[date, int, int]]:
        return []

    async def top_searches(self, kind: str, start: date, end: date, limit: int) -> list[tuple[str, int]]:
        return []

    async def top_errors(self, flows: Sequence[Flow], start: date, end: date, limit: int) -> list[tuple[str, int]]:
        return []

    async def article_votes(self, start: date, end: date) -> list[tuple[str, int, int]]:
        return []

    async def delete_before(self, moment: datetime) -> int:
        before = len(self.events)
        self.events = [e for e in self.events if e.at >= moment]
        for key in [k for k, last in self.last.items() if last < moment]:
            del self.journeys[key], self.last[key]
        return before - len(self.events)

    async def add_annotation(self, annotation: Annotation, at: datetime) -> None:
        self.notes.append((annotation, at))

    async def annotations(self, owners: Sequence[Owner], start: date, end: date) -> list[Annotation]:
        return [n for n, _ in self.notes if n.owner in owners and start <= n.day <= end]


class FakeUnitOfWork:
    """Works on a copy of the shared state; commit() publishes the copy, leaving without commit drops it."""

    def __init__(self, committed: _Data | None = None) -> None:
        self.committed = committed or _Data()
        self.commits = 0
        self.recovery = FakeRecovery()
        self.profiles = FakeProfiles()
        self.journeys = FakeJourneys()
        self._read_only = False

    def read_only(self) -> Self:
        self._read_only = True
        return self

    async def __aenter__(self) -> Self:
        if hasattr(self, "_work"):
            raise RuntimeError("this unit of work is already open")
        self._work = _Data(
            employees=dict(self.committed.employees),
            audit=list(self.committed.audit),
            tokens=dict(self.committed.tokens),
            outbox=dict(self.committed.outbox),
            claims=dict(self.committed.claims),
            mails=dict(self.committed.mails),
            mail_claims=dict(self.committed.mail_claims),
        )
        self.employees = FakeEmployees(self._work)
        self.audit = FakeAudit(self._work)
        self.tokens = FakeTokens(self._work)
        self.outbox = FakeOutbox(self._work)
        self.mail = FakeMailQueue(self._work)
        self.factors = FakeFactors(self.committed)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        del self._work
        self._read_only = False

    async def commit(self) -> None:
        if self._read_only and (
            self._work.employees != self.committed.employees
            or len(self._work.audit) != len(self.committed.audit)
            or self._work.tokens != self.committed.tokens
            or self._work.outbox != self.committed.outbox
            or self._work.claims != self.committed.claims
        ):
            raise WriteNeeded
        self.committed.employees = dict(self._work.employees)
        self.committed.audit = list(self._work.audit)
        self.committed.tokens = dict(self._work.tokens)
        self.committed.outbox = dict(self._work.outbox)
        self.committed.claims = dict(self._work.claims)
        self.committed.mails = dict(self._work.mails)
        self.committed.mail_claims = dict(self._work.mail_claims)
        self.commits += 1

    async def rollback(self) -> None:
        del self._work
        await self.__aenter__()

    async def ping(self) -> None:
        return None


class FakeAttemptCounter:
    def __init__(self, clock: FixedClock) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[int, datetime]] = {}

    def count(self, key: str) -> int:
        entry = self._windows.get(key)
        if entry is None or entry[1] <= self._clock.now():
            return 0
        return entry[0]

    async def hit(self, key: str, window_seconds: int) -> int:
        current = self.count(key)
        expires = self._windows[key][1] if current else self._clock.now() + timedelta(seconds=window_seconds)
        self._windows[key] = (current + 1, expires)
        return current + 1

    async def release(self, key: str) -> None:
        current = self.count(key)
        if current > 1:
            self._windows[key] = (current - 1, self._windows[key][1])
        else:
            self._windows.pop(key, None)

    async def clear(self, key: str) -> None:
        self._windows.pop(key, None)


class FakeSessions:
    """With a clock, what is kept for a token expires like in a real store."""

    def __init__(self, clock: FixedClock | None = None) -> None:
        self._clock = clock
        self.records: dict[str, SessionRecord] = {}
        self.revocations: dict[str, datetime] = {}
        # Principals kept for API tokens (the store's cache), and revoked tokens nothing may be kept for.
        self.tokens: dict[str, tuple[SessionRecord, int]] = {}
        self.forgotten_tokens: set[str] = set()

    async def revoke_all(self, login: str, *, before: datetime) -> None:
        self.revocations[login] = before

    async def revoked_before(self, login: str) -> datetime | None:
        return self.revocations.get(login)

    async def create(self, record: SessionRecord, ttl_seconds: int) -> str:
        session_id = f"s{len(self.records) + 1}"
        self.records[session_id] = record
        return session_id

    async def get(self, session_id: str) -> SessionRecord | None:
        return self.records.get(session_id)

    async def of_login(self, login: str) -> list[SessionRecord]:
        revoked = self.revocations.get(login)
        found = [r for r in self.records.values() if r.principal.login == login]
        return sorted((r for r in found if revoked is None or r.created_at > revoked), key=lambda r: r.created_at)

    async def touch(self, session_id: str, record: SessionRecord, ttl_seconds: int) -> None:
        self.records[session_id] = record

    async def delete(self, session_id: str) -> None:
        self.records.pop(session_id, None)

    async def remember_token(self, token_hash: str, record: SessionRecord, ttl_seconds: int) -> None:
        if token_hash not in self.forgotten_tokens:
            self.tokens[token_hash] = (record, ttl_seconds)

    async def recall_token(self, token_hash: str) -> SessionRecord | None:
        if (kept := self.tokens.get(token_hash)) is None:
            return None
        record, ttl_seconds = kept
        if self._clock is not None and self._clock.now() >= record.last_seen_at + timedelta(seconds=ttl_seconds):
            del self.tokens[token_hash]
            return None
        return record

    async def forget_token(self, token_hash: str, ttl_seconds: int) -> None:
        self.tokens.pop(token_hash, None)
        self.forgotten_tokens.add(token_hash)


class FakeNotifier:
    """Keeps every notice it is given; `failing` makes notify_first refuse like an unreachable mail server."""

    def __init__(self) -> None:
        self.notices: list[Notice] = []
        self.failing = False

    async def notify(self, notice: Notice) -> None:
        self.notices.append(notice)

    async def notify_first(self, notice: Notice) -> None:
        if self.failing:
            raise ServiceUnavailable("The mail server is not reachable.")
        self.notices.append(notice)
