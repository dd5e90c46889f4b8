"""The SQLite engine's adapter (ess/adapters/sql/sqlite_driver.py): a read-only transaction's reads on the loop (a
long or waiting one handed to the thread), one trip to aiosqlite's thread per statement otherwise, the BEGIN sent
with the first statement, no rollback of a connection with nothing open - and still the same transactions: what is
rolled back is gone, what is committed stays, a writer still takes the write lock first."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ess.adapters.sql import sqlite_driver
from ess.adapters.sql.database import READ_ONLY, create_engine


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every call run in aiosqlite's worker thread, by the name of what it ran."""
    counted: Counter[str] = Counter()
    original: Any = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        counted[getattr(fn, "__name__", "?")] += 1
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    return counted


async def _table(engine: AsyncEngine, rows: int = 2) -> None:
    async with engine.begin() as connection:  # the first connection: pragmas, the table
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"))
        for i in range(1, rows + 1):
            await connection.execute(text("INSERT INTO t (id, name) VALUES (:id, :name)"), {"id": i, "name": f"n{i}"})


@contextlib.asynccontextmanager
async def _read_only(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection whose transactions begin as the read-only unit of work's do (deferred, on the loop)."""
    async with engine.connect() as connection:
        yield await connection.execution_options(**{READ_ONLY: True})


async def test_a_read_only_transaction_reads_on_the_loop_without_a_trip(tmp_path: Path, trips: Counter[str]) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'trips.db'}")
    try:
        await _table(engine)
        trips.clear()
        async with _read_only(engine) as read_only, read_only.begin():
            names = [(await read_only.execute(text("SELECT name FROM t WHERE id = :id"), {"id": i})).scalar_one()
                     for i in (1, 2)]  # fmt: skip
            assert (await read_only.execute(text("SELECT count(*) FROM t"))).scalar_one() == 2
        assert names == ["n1", "n2"]
        assert trips == Counter()
    finally:
        await engine.dispose()


async def test_a_write_transaction_is_one_trip_per_statement_and_one_for_the_commit(
    tmp_path: Path, trips: Counter[str]
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'trips.db'}", lock_timeout_seconds=5)
    try:
        await _table(engine)
        trips.clear()
        async with engine.begin() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar_one() == 2
            await connection.execute(text("INSERT INTO t (id, name) VALUES (3, 'n3')"))
            # The busy timeout is the configured one in a writer, also after read-only transactions on the loop.
            assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one() == 5000
        # BEGIN IMMEDIATE went with the first SELECT; nothing was left open, so the pool did not roll back.
        assert trips == Counter({"_run": 3, "_commit": 1})
    finally:
        await engine.dispose()


async def test_a_long_read_gives_the_loop_back_and_finishes_in_the_thread(
    tmp_path: Path, trips: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read still running after the budget is interrupted on the loop and run again in the thread, with the same
    answer; the rest of its transaction stays there. (The clock is looked at after every step of SQLite's machine
    here, so nothing run after the interruption may still be watched by it.)"""
    monkeypatch.setattr(sqlite_driver, "_PROGRESS_STEPS", 1)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'long.db'}", lock_timeout_seconds=5)
    long_read = text(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) SELECT sum(i) FROM n"
    )
    try:
        await _table(engine)
        trips.clear()
        async with _read_only(engine) as read_only, read_only.begin():
            assert (await read_only.execute(text("SELECT count(*) FROM t"))).scalar_one() == 2
            assert trips == Counter()
            assert (await read_only.execute(long_read)).scalar_one() == 3000000 * 3000001 // 2
            assert (await read_only.execute(text("SELECT count(*) FROM t"))).scalar_one() == 2
        assert trips == Counter({"_run": 2, "_commit": 1})
    finally:
        await engine.dispose()


async def test_a_read_on_the_loop_never_sleeps_waiting_for_a_lock(tmp_path: Path, trips: Counter[str]) -> None:
    """On the loop the busy timeout is 0 (a read that would have to wait gives way to the thread at once, see
    `_GAVE_WAY`); in the thread, and after the transaction, it is the configured one again."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}", lock_timeout_seconds=5)
    busy_timeout = text("SELECT timeout FROM pragma_busy_timeout()")
    try:
        await _table(engine)
        trips.clear()
        async with _read_only(engine) as read_only:
            async with read_only.begin():
                assert (await read_only.execute(busy_timeout)).scalar_one() == 0
                assert trips == Counter()
                # Not a SELECT: to the thread, and the rest of the transaction with it.
                assert (await read_only.execute(text("PRAGMA busy_timeout"))).scalar_one() == 5000
                assert (await read_only.execute(busy_timeout)).scalar_one() == 5000
            assert trips == Counter({"_run": 2, "_commit": 1})
            async with read_only.begin():
                assert (await read_only.execute(busy_timeout)).scalar_one() == 0
        async with engine.begin() as writer:  # the same pooled connection, now in a write transaction
            assert (await writer.execute(busy_timeout)).scalar_one() == 5000
    finally:
        await engine.dispose()


async def test_a_read_on_the_loop_reads_its_snapshot_beside_an_open_writer(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'beside.db'}", lock_timeout_seconds=5)
    try:
        await _table(engine)
        async with engine.begin() as writer:
            await writer.execute(text("INSERT INTO t (id, name) VALUES (3, 'n3')"))  # holds the write lock
            async with _read_only(engine) as reader, reader.begin():
                assert (await reader.execute(text("SELECT count(*) FROM t"))).scalar_one() == 2
        async with _read_only(engine) as reader, reader.begin():
            assert (await reader.execute(text("SELECT count(*) FROM t"))).scalar_one() == 3
    finally:
        await engine.dispose()


async def test_rolled_back_writes_are_gone_and_committed_ones_stay(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'tx.db'}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        with pytest.raises(RuntimeError):
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t (id) VALUES (1)"))
                raise RuntimeError("undo")
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t (id) VALUES (2)"))
        async with engine.connect() as connection:
            # A failing statement inside a transaction: the error is the driver's, the transaction rolled back.
            with pytest.raises(IntegrityError, match="UNIQUE"):
                async with connection.begin():
                    await connection.execute(text("INSERT INTO t (id) VALUES (3)"))
                    await connection.execute(text("INSERT INTO t (id) VALUES (2)"))
            assert (await connection.execute(text("SELECT id FROM t"))).scalars().all() == [2]
    finally:
        await engine.dispose()


async def test_a_writer_holds_the_write_lock_from_its_first_statement(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE still comes before the writer's first read: a second writer waits (here: gives up)."""
    path = tmp_path / "lock.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    impatient = create_engine(f"sqlite+aiosqlite:///{path}", lock_timeout_seconds=0.2)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        async with engine.begin() as writer:
            await writer.execute(text("SELECT count(*) FROM t"))  # a read, yet the lock is taken
            with pytest.raises(OperationalError, match="locked"):
                async with impatient.begin() as other:
                    await other.execute(text("SELECT count(*) FROM t"))
    finally:
        await engine.dispose()
        await impatient.dispose()
