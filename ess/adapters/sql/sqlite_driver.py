"""SQLAlchemy's aiosqlite adapter with one trip to the driver's thread per statement instead of four.

aiosqlite runs every sqlite3 call in its own worker thread and hands each result back to the event loop: SQLAlchemy's
adapter makes a cursor, executes, fetches and closes the cursor as four such hops per statement, and the pool rolls
back every connection it takes back, a fifth. The hops, not SQLite, were most of the CPU of an authenticated read
(profiled: about 18 per request for three SELECTs, each a queue put, a thread wake-up and a future resolved on the
loop). Here a statement runs start to finish in one call in aiosqlite's thread (execute, fetch every row, close),
and the rollback on return to the pool is skipped when the connection holds no open transaction (sqlite3's own
`in_transaction`, read in that thread after every call). The BEGIN our engine issues (database.py) waits for the
transaction's first statement and goes with it. Nothing else changes: the same sqlite3 connection, the same thread,
the same errors, the same rows.

A read-only transaction (the engine begins it with a deferred `BEGIN`, see database.py) goes further: its SELECTs run
on the event loop itself, no trip at all. With WAL a reader takes no lock and waits for nobody, and a read of a few
rows takes microseconds, less than the trip would. Two guards keep the loop from being held: a statement still
running after `INLINE_BUDGET_SECONDS` of the loop thread's CPU (or `INLINE_WALL_SECONDS` on the clock) is
interrupted (SQLite's progress handler) and run again in the thread, and the busy timeout is 0 while on the loop, so
a reader that would have to wait (WAL recovery) is handed to the thread instead of sleeping on the loop. From the
first statement handed over, the rest of that transaction stays in the thread. Anything but a SELECT, and every
write transaction, goes through the thread as before.

It is handed to SQLAlchemy as the DBAPI module (`create_async_engine(..., module=dbapi())`), so the dialect, its
name and its SQL stay SQLAlchemy's `sqlite+aiosqlite`.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections import deque
from typing import Any, Final

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_only

# What one statement gives back from the driver's thread: description, rows, lastrowid, rowcount, in_transaction.
_Outcome = tuple[Any, list[Any] | None, int | None, int, bool]


def _run(connection: sqlite3.Connection, begin: str | None, operation: str, parameters: Any, *, many: bool) -> _Outcome:
    """In aiosqlite's thread: the transaction's BEGIN if it is still to come, the whole statement, its rows and the
    cursor closed."""
    cursor = connection.cursor()
    try:
        if begin is not None:
            cursor.execute(begin)
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.lastrowid, cursor.rowcount, connection.in_transaction
    finally:
        cursor.close()


# How long a read may hold the event loop before it is interrupted and run again in the driver's thread: CPU time of
# the loop's thread (a read descheduled by a busy machine is not a long read), and a bound in wall-clock time for a
# read that waits on the disk.
INLINE_BUDGET_SECONDS: Final = 0.002
INLINE_WALL_SECONDS: Final = 0.02
# How many SQLite virtual-machine steps between two looks at the clock while a read runs on the loop.
_PROGRESS_STEPS: Final = 1000
# The BEGIN of a read-only transaction (database.py): its reads may run on the loop.
READ_BEGIN: Final = "BEGIN"
# A statement that only reads: SELECT, or WITH ... SELECT without a writing verb.
_READ = re.compile(r"\s*(SELECT\b|WITH\b(?!.*\b(INSERT|UPDATE|DELETE|REPLACE)\b))", re.IGNORECASE | re.DOTALL)
# The errors of a read that gave way on the loop (interrupted by the budget, or it would have had to wait).
_GAVE_WAY = ("interrupted", "database is locked", "database table is locked")


async def _at_once() -> None:
    """Awaited by a statement that ran on the loop (see `_OneHopCursor._hop`)."""


def _commit(connection: sqlite3.Connection) -> bool:
    connection.commit()
    return connection.in_transaction


def _rollback(connection: sqlite3.Connection) -> bool:
    connection.rollback()
    return connection.in_transaction


class _OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def _hop(self, operation: str, parameters: Any, *, many: bool) -> None:
        adapted: OneHopConnection = self._adapt_connection  # type: ignore[assignment]
        begin, adapted.pending_begin = adapted.pending_begin, None
        try:
            raw = self._connection
            outcome: _Outcome | None = None
            if begin == READ_BEGIN or adapted.inline:
                outcome = adapted.run_inline(begin, operation, parameters, many=many)
                begin = None  # sent on the loop
                if outcome is not None:
                    # SQLAlchemy's AsyncConnection.execute insists that the driver awaited something: a coroutine
                    # that returns at once (two greenlet switches, no trip through the event loop).
                    self.await_(_at_once())
            if outcome is None:
                outcome = self.await_(raw._execute(_run, raw._conn, begin, operation, parameters, many=many))
        except Exception as error:
            adapted.open_transaction = True  # unknown after a failure: let the pool roll back
            adapted._handle_exception(error)
        description, rows, lastrowid, rowcount, adapted.open_transaction = outcome
        self.description = description
        if description:
            self.lastrowid = self.rowcount = -1
            self._rows = deque(rows or ())
        else:
            self.lastrowid = lastrowid  # type: ignore[assignment]
            self.rowcount = rowcount

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        self._hop(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        self._hop(operation, seq_of_parameters, many=True)


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """The adapted connection; `begin_with` defers a BEGIN to the transaction's first statement (same hop)."""

    __slots__ = ("busy_ms", "inline", "open_transaction", "pending_begin")

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.open_transaction = True  # not known yet
        self.pending_begin: str | None = None
        self.inline = False  # in a read-only transaction whose statements run on the loop
        self.busy_ms = 0  # the connection's busy timeout, restored when a transaction leaves the loop

    def run_inline(self, begin: str | None, operation: str, parameters: Any, *, many: bool) -> _Outcome | None:
        """Run a read of a read-only transaction on the loop; None when it must go to the thread instead (then
        the rest of the transaction goes there too). `begin` (the transaction's BEGIN) is sent here either way."""
        connection: sqlite3.Connection = self._connection._conn
        if begin is not None:
            connection.execute("PRAGMA busy_timeout=0")
            self.inline = True
            connection.execute(begin)
        if many or not _READ.match(operation):
            self.leave_loop()
            return None
        cpu_deadline = time.thread_time() + INLINE_BUDGET_SECONDS
        wall_deadline = time.perf_counter() + INLINE_WALL_SECONDS
        connection.set_progress_handler(
            lambda: time.thread_time() > cpu_deadline or time.perf_counter() > wall_deadline, _PROGRESS_STEPS
        )
        try:
            return _run(connection, None, operation, parameters, many=False)
        except sqlite3.OperationalError as error:
            if str(error) not in _GAVE_WAY:
                raise
        finally:
            connection.set_progress_handler(None, 0)  # before anything else runs on this connection
        self.leave_loop()
        return None

    def leave_loop(self) -> None:
        """The transaction's statements go to the thread from now on, with the connection's busy timeout."""
        if self.inline:
            self.inline = False
            self._connection._conn.execute(f"PRAGMA busy_timeout={self.busy_ms}")

    def begin_with(self, statement: str) -> None:
        """Run `statement` (BEGIN, BEGIN IMMEDIATE) right before the next statement, in the same trip to the
        driver's thread; a transaction that ends before any statement never sends it."""
        self.pending_begin = statement

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        return super().cursor(server_side) if server_side else _OneHopCursor(self)

    def _finish(self, step: Any) -> None:
        try:
            raw = self._connection
            if self.inline:  # the end of a read on the loop: no lock to wait for, nothing to write
                try:
                    self.open_transaction = step(raw._conn)
                finally:
                    self.leave_loop()
                return
            self.open_transaction = self.await_(raw._execute(step, raw._conn))
        except Exception as error:
            self.open_transaction = True
            self._handle_exception(error)

    def commit(self) -> None:
        if self.pending_begin is not None:  # nothing ran: nothing to commit
            self.pending_begin = None
            return
        self._finish(_commit)

    def rollback(self) -> None:
        self.pending_begin = None
        if self.inline:
            self._finish(_rollback)
            return
        # The pool rolls back every connection it takes back; with nothing open that is a hop for nothing.
        if self.open_transaction:
            self._finish(_rollback)


class _OneHopDbapi(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        if kw.get("async_fallback") or kw.get("async_creator_fn"):
            return super().connect(*arg, **kw)
        connection = self.aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy does: a forgotten connection must not hold the exit
        return OneHopConnection(self, await_only(connection))


def dbapi() -> Any:
    """The DBAPI module to give `create_async_engine` for a `sqlite+aiosqlite` URL."""
    return _OneHopDbapi(aiosqlite, sqlite3)
