"""The SQL unit of work: one session, one transaction, rolled back unless commit() is called."""

from __future__ import annotations

import weakref
from types import TracebackType
from typing import Any, Self

from sqlalchemy import event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session

from ess.adapters.sql.analytics import SqlJourneyRepository
from ess.adapters.sql.database import READ_ONLY
from ess.adapters.sql.factors import SqlFactorRepository
from ess.adapters.sql.help import (
    SqlArticleRepository,
    SqlFeedbackRepository,
    SqlMissedQueryRepository,
    SqlSearchIndex,
)
from ess.adapters.sql.help_requests import SqlHelpRequestRepository
from ess.adapters.sql.mail_queue import SqlMailQueue
from ess.adapters.sql.outbox import SqlOutboxRepository
from ess.adapters.sql.password_reminders import SqlPasswordReminderRepository
from ess.adapters.sql.privacy import SqlAuditTrail, SqlJobLog
from ess.adapters.sql.profiles import SqlProfileRepository
from ess.adapters.sql.recovery import SqlRecoveryRepository
from ess.adapters.sql.repositories import SqlApiTokenRepository, SqlAuditLog, SqlEmployeeRepository
from ess.adapters.sql.vacation import SqlVacationRepository
from ess.domain.analytics.ports import JourneyRepository
from ess.domain.auth.ports import ApiTokenRepository
from ess.domain.errors import ServiceUnavailable
from ess.domain.help.ports import ArticleRepository, FeedbackRepository, MissedQueryRepository, SearchIndex
from ess.domain.help_requests.ports import HelpRequestRepository
from ess.domain.hr.ports import EmployeeRepository
from ess.domain.mail.ports import MailQueue
from ess.domain.mfa.ports import FactorRepository
from ess.domain.outbox.ports import OutboxRepository
from ess.domain.passwords.ports import PasswordReminderRepository
from ess.domain.privacy.ports import AuditTrail, JobLog
from ess.domain.profile.ports import ProfileRepository
from ess.domain.recovery.ports import RecoveryRepository
from ess.domain.shared import AuditLog, Clock, WriteNeeded
from ess.domain.vacation.ports import VacationRepository


class SqlUnitOfWork:
    """Reusable: each `async with` opens a fresh session. One class serves every area's unit of work protocol
    (`VacationUnitOfWork`, `ProfileUnitOfWork`, ...): each names only the repositories its area uses."""

    employees: EmployeeRepository
    audit: AuditLog
    tokens: ApiTokenRepository
    vacation: VacationRepository
    profiles: ProfileRepository
    outbox: OutboxRepository
    mail: MailQueue
    password_reminders: PasswordReminderRepository
    recovery: RecoveryRepository
    factors: FactorRepository
    articles: ArticleRepository
    help_index: SearchIndex
    help_feedback: FeedbackRepository
    missed_queries: MissedQueryRepository
    audit_trail: AuditTrail
    job_log: JobLog
    journeys: JourneyRepository
    help_requests: HelpRequestRepository

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._factory = session_factory
        self._clock = clock
        self._session: AsyncSession | None = None
        self._read_only = False

    def read_only(self) -> Self:
        self._read_only = True
        return self

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("this unit of work is already open")
        if self._read_only:
            # Every connection of this session carries the option the SQLite begin hook reads (database.py), also
            # for a transaction begun after a commit.
            self._session = self._factory(bind=_read_only_engine(self._factory.kw["bind"]))
            self._session.info[READ_ONLY] = True
        else:
            self._session = self._factory()
        employees = SqlEmployeeRepository(self._session, self._clock.now())
        self.employees = employees
        self._audit = SqlAuditLog(self._session)
        self.audit = self._audit
        self.tokens = SqlApiTokenRepository(self._session)
        self.vacation = SqlVacationRepository(self._session, employees)
        self.profiles = SqlProfileRepository(self._session, self._clock.now())
        self.outbox = SqlOutboxRepository(self._session)
        self.mail = SqlMailQueue(self._session)
        self.password_reminders = SqlPasswordReminderRepository(self._session)
        self.recovery = SqlRecoveryRepository(self._session)
        self.factors = SqlFactorRepository(self._session)
        self.articles = SqlArticleRepository(self._session)
        self.help_index = SqlSearchIndex(self._session)
        self.help_feedback = SqlFeedbackRepository(self._session)
        self.missed_queries = SqlMissedQueryRepository(self._session)
        self.audit_trail = SqlAuditTrail(self._session)
        self.job_log = SqlJobLog(self._session)
        self.journeys = SqlJourneyRepository(self._session)
        self.help_requests = SqlHelpRequestRepository(self._session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session, self._session = self._session, None
        self._read_only = False
        if session is None:
            return
        try:
            await session.rollback()  # a no-op after commit(); undoes everything otherwise
        finally:
            await session.close()

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is not open")
        return self._session

    async def commit(self) -> None:
        session = self.session
        await self._audit.seal()  # the audit chain's append comes last: its lock is held only until this commit
        await session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()

    async def ping(self) -> None:
        try:
            async with self._factory() as session:
                await session.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError) as exc:
            raise ServiceUnavailable("The database is not reachable.") from exc


@event.listens_for(Session, "before_flush")
def _refuse_flush_when_reading(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get(READ_ONLY) and (session.new or session.dirty or session.deleted):
        raise WriteNeeded


@event.listens_for(Session, "do_orm_execute")
def _refuse_writes_when_reading(state: ORMExecuteState) -> None:
    if state.session.info.get(READ_ONLY) and (state.is_insert or state.is_update or state.is_delete):
        raise WriteNeeded


# The read-only variant of each engine, made once (each `execution_options` call copies the engine).
_READ_ONLY_ENGINES: weakref.WeakKeyDictionary[AsyncEngine, AsyncEngine] = weakref.WeakKeyDictionary()


def _read_only_engine(engine: AsyncEngine) -> AsyncEngine:
    """The engine whose connections carry the option the SQLite begin hook reads (database.py)."""
    found = _READ_ONLY_ENGINES.get(engine)
    if found is None:
        options: dict[str, Any] = {READ_ONLY: True}
        if engine.dialect.name == "postgresql":
            # One snapshot for every statement of the read, without the row locks writers take.
            options["isolation_level"] = "REPEATABLE READ"
        found = _READ_ONLY_ENGINES[engine] = engine.execution_options(**options)
    return found
