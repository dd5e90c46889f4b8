"""The SQL unit of work: one session, one transaction, rolled back unless commit() is called."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any, Generic, Self, TypeVar, overload

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
from ess.domain.mail.ports import MailQueue
from ess.domain.mfa.ports import FactorRepository
from ess.domain.outbox.ports import OutboxRepository
from ess.domain.passwords.ports import PasswordReminderRepository
from ess.domain.privacy.ports import AuditTrail, JobLog
from ess.domain.profile.ports import ProfileRepository
from ess.domain.recovery.ports import RecoveryRepository
from ess.domain.shared import Clock, WriteNeeded
from ess.domain.vacation.ports import VacationRepository

R = TypeVar("R")


class _Repository(Generic[R]):
    """A repository of the open unit of work, made on its first use in that `async with` (most units of work use two
    or three of the many the class offers)."""

    def __init__(self, make: Callable[[SqlUnitOfWork], R]) -> None:
        self._make = make
        self._name = ""

    def __set_name__(self, owner: type[SqlUnitOfWork], name: str) -> None:
        self._name = name

    @overload
    def __get__(self, uow: None, owner: type[SqlUnitOfWork]) -> Self: ...

    @overload
    def __get__(self, uow: SqlUnitOfWork, owner: type[SqlUnitOfWork]) -> R: ...

    def __get__(self, uow: SqlUnitOfWork | None, owner: type[SqlUnitOfWork]) -> Self | R:
        if uow is None:
            return self
        made: R | None = uow._repositories.get(self._name)
        if made is None:
            made = uow._repositories[self._name] = self._make(uow)
        return made

    def made_in(self, uow: SqlUnitOfWork) -> R | None:
        """The repository if this unit of work has used it, else None (nothing is made)."""
        made: R | None = uow._repositories.get(self._name)
        return made


def _session_only(make: Callable[[AsyncSession], R]) -> _Repository[R]:
    return _Repository(lambda uow: make(uow.session))


class SqlUnitOfWork:
    """Reusable: each `async with` opens a fresh session. One class serves every area's unit of work protocol
    (`VacationUnitOfWork`, `ProfileUnitOfWork`, ...): each names only the repositories its area uses."""

    # The SQL type, not the port: the vacation repository reads employees through it.
    employees: _Repository[SqlEmployeeRepository] = _Repository(
        lambda uow: SqlEmployeeRepository(uow.session, uow.opened_at)
    )
    audit: _Repository[SqlAuditLog] = _session_only(SqlAuditLog)  # the SQL type: commit() seals it
    tokens: _Repository[ApiTokenRepository] = _session_only(SqlApiTokenRepository)
    vacation: _Repository[VacationRepository] = _Repository(
        lambda uow: SqlVacationRepository(uow.session, uow.employees)
    )
    profiles: _Repository[ProfileRepository] = _Repository(lambda uow: SqlProfileRepository(uow.session, uow.opened_at))
    outbox: _Repository[OutboxRepository] = _session_only(SqlOutboxRepository)
    mail: _Repository[MailQueue] = _session_only(SqlMailQueue)
    password_reminders: _Repository[PasswordReminderRepository] = _session_only(SqlPasswordReminderRepository)
    recovery: _Repository[RecoveryRepository] = _session_only(SqlRecoveryRepository)
    factors: _Repository[FactorRepository] = _session_only(SqlFactorRepository)
    articles: _Repository[ArticleRepository] = _session_only(SqlArticleRepository)
    help_index: _Repository[SearchIndex] = _session_only(SqlSearchIndex)
    help_feedback: _Repository[FeedbackRepository] = _session_only(SqlFeedbackRepository)
    missed_queries: _Repository[MissedQueryRepository] = _session_only(SqlMissedQueryRepository)
    audit_trail: _Repository[AuditTrail] = _session_only(SqlAuditTrail)
    job_log: _Repository[JobLog] = _session_only(SqlJobLog)
    journeys: _Repository[JourneyRepository] = _session_only(SqlJourneyRepository)
    help_requests: _Repository[HelpRequestRepository] = _session_only(SqlHelpRequestRepository)

    # The clock's time when this `async with` began (the employee and profile repositories stamp it).
    opened_at: datetime

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._factory = session_factory
        self._clock = clock
        self._session: AsyncSession | None = None
        self._read_only = False
        self._repositories: dict[str, Any] = {}

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
        self.opened_at = self._clock.now()
        self._repositories = {}
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session, self._session = self._session, None
        self._read_only = False
        if session is None:
            return
        # Closing rolls back whatever is still open and returns the connection: one trip into SQLAlchemy's greenlet
        # instead of a rollback's and then a close's. After commit() with nothing begun since and no objects held
        # (a read through select_rows) there is nothing to close: the commit already gave the connection back.
        held = session.sync_session
        if held.in_transaction() or held.identity_map or held.new:
            await session.close()

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is not open")
        return self._session

    async def commit(self) -> None:
        session = self.session
        audit = SqlUnitOfWork.audit.made_in(self)
        if audit is not None:
            await audit.seal()  # the audit chain's append comes last: its lock is held only until this commit
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
