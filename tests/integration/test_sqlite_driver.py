"""The SQLite engine's adapter (ess/adapters/sql/sqlite_driver.py): one trip to aiosqlite's thread per statement, the
BEGIN sent with the first statement, no rollback of a connection with nothing open - and still the same
transactions: what is rolled back is gone, what is committed stays, a writer still takes the write lock first."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

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


async def test_a_read_is_one_trip_per_statement_and_one_for_the_commit(tmp_path: Path, trips: Counter[str]) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'trips.db'}")
    try:
        async with engine.begin() as connection:  # the first connection: pragmas, the table
            await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"))
            await connection.execute(text("INSERT INTO t (id, name) VALUES (1, 'one'), (2, 'two')"))
        trips.clear()
        async with engine.connect() as plain:
            read_only = await plain.execution_options(**{READ_ONLY: True})
            async with read_only.begin():
                names = [(await read_only.execute(text("SELECT name FROM t WHERE id = :id"), {"id": i})).scalar_one()
                         for i in (1, 2)]  # fmt: skip
                assert (await read_only.execute(text("SELECT count(*) FROM t"))).scalar_one() == 2
        assert names == ["one", "two"]
        # BEGIN went with the first SELECT; nothing was left open, so the pool did not roll back.
        assert trips == Counter({"_run": 3, "_commit": 1})
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
