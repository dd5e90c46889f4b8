"""Engine and session factory for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Executable, Row, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as SqlAlchemyTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from ess.adapters.sql import sqlite_driver

# The execution option (and session info key) of a read-only unit of work: its SQLite transaction starts deferred.
READ_ONLY: Final = "ess_read_only"
# SQLSTATEs of a database under pressure: lock_timeout, statement_timeout (query canceled), too many connections.
_PRESSURE_SQLSTATES: Final = frozenset({"55P03", "57014", "53300"})


def create_engine(
    url: str, *, echo: bool = False, lock_timeout_seconds: float = 30.0, statement_timeout_seconds: float = 0.0
) -> AsyncEngine:
    """An async engine; on SQLite with WAL, foreign keys on and a busy timeout so writers queue instead of failing.

    A statement that waits longer than `lock_timeout_seconds` for a lock (SQLite: for the write lock) fails, and on
    PostgreSQL one that runs longer than `statement_timeout_seconds` (0: no limit) is cancelled: `is_pressure` tells
    those failures apart, and the app answers them with 503 instead of holding the request open."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # One hop to aiosqlite's thread per statement, not four (see sqlite_driver.py).
        module = {"module": sqlite_driver.dbapi()} if parsed.get_driver_name() == "aiosqlite" else {}
        # Not bound to aiosqlite's thread: a read-only transaction's reads run on the loop (sqlite_driver.py).
        connect_args = {"timeout": lock_timeout_seconds, "check_same_thread": False}
        engine = create_async_engine(url, echo=echo, connect_args=connect_args, **module)
        busy_ms = int(lock_timeout_seconds * 1000)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            cursor.close()
            # The report sorts by text as Python's casefold does (SQLite's lower() folds ASCII only).
            dbapi_connection.create_function("ess_casefold", 1, _casefold, deterministic=True)
            # We issue BEGIN ourselves (below) instead of the driver's lazy, deferred one.
            dbapi_connection.isolation_level = None
            if isinstance(dbapi_connection, sqlite_driver.OneHopConnection):
                dbapi_connection.busy_ms = busy_ms

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            # A writer's IMMEDIATE takes the write lock at the start: a transaction that reads a balance and then
            # books days cannot interleave with another one doing the same (SQLite's answer to SELECT ... FOR
            # UPDATE). A read-only one (it cannot write, see unit_of_work.py) begins deferred and, with WAL, reads
            # its snapshot beside the writer instead of waiting for the lock.
            read_only = connection.get_execution_options().get(READ_ONLY, False)
            statement = sqlite_driver.READ_BEGIN if read_only else "BEGIN IMMEDIATE"
            adapted = connection.connection.dbapi_connection
            if isinstance(adapted, sqlite_driver.OneHopConnection):
                adapted.begin_with(statement)  # sent with the transaction's first statement, in one hop
            else:
                connection.exec_driver_sql(statement)

        return engine
    server_settings = {"lock_timeout": str(int(lock_timeout_seconds * 1000))}
    if statement_timeout_seconds > 0:
        server_settings["statement_timeout"] = str(int(statement_timeout_seconds * 1000))
    return create_async_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        pool_timeout=lock_timeout_seconds,
        connect_args={"server_settings": server_settings},
    )


def _casefold(text: str | None) -> str | None:
    return None if text is None else text.casefold()


def is_pressure(exc: BaseException) -> bool:
    """A failure that says "the database is busy, try again shortly" (a lock not granted in time, a statement
    cancelled by its timeout, no free connection), not a fault in the request or the code."""
    if isinstance(exc, SqlAlchemyTimeout):  # no connection free in the pool within pool_timeout
        return True
    if not isinstance(exc, DBAPIError):
        return False
    original = exc.orig
    if getattr(original, "sqlstate", None) in _PRESSURE_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(original)


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def select_rows(
    session: AsyncSession, statement: Executable, parameters: Mapping[str, Any] | None = None
) -> Sequence[Row[Any]]:
    """Every row of a SELECT of tables (not mapped classes), run on the session's connection in its transaction.

    For the hot reads: `session.execute` would take the same statement through the ORM's execute layer (an execute
    state, its events, the bind looked up again) for the same rows. Only reads: a write goes through the session,
    where a read-only unit of work refuses it (unit_of_work.py)."""
    if not statement.is_select:
        raise ValueError("select_rows runs SELECT statements only")
    return await session.run_sync(_select_rows, statement, parameters)


def _select_rows(session: Session, statement: Executable, parameters: Mapping[str, Any] | None) -> Sequence[Row[Any]]:
    return session.connection().execute(statement, parameters).all()
