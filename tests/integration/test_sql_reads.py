"""The hot reads' building blocks (ess/adapters/sql): `select_rows` reads in the unit of work's own transaction and
runs nothing but SELECTs; `AwareDateTime` gives aware UTC datetimes back on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, delete, insert, select, text

from ess.adapters.sql.database import create_engine, create_session_factory, select_rows
from ess.adapters.sql.tables import AwareDateTime, OrgUnitRow
from ess.adapters.sql.unit_of_work import SqlUnitOfWork
from tests.fakes import FixedClock

_ORG = OrgUnitRow.__table__
_PROBE = Table("aware_probe", MetaData(), Column("id", Integer, primary_key=True), Column("at", AwareDateTime()))


async def test_select_rows_reads_in_the_unit_of_works_transaction_and_only_reads(database_url: str) -> None:
    engine = create_engine(database_url)
    uow = SqlUnitOfWork(create_session_factory(engine), FixedClock(datetime(2026, 12, 2, 9, 0, tzinfo=UTC)))
    try:
        async with uow:
            await uow.session.execute(insert(OrgUnitRow).values(code="probe", name="Probe"))
            # Not committed: only the same transaction sees the row.
            rows = await select_rows(uow.session, select(_ORG.c.code, _ORG.c.name).where(_ORG.c.code == "probe"))
            assert [tuple(r) for r in rows] == [("probe", "Probe")]
            with pytest.raises(ValueError, match="SELECT"):
                await select_rows(uow.session, delete(OrgUnitRow))
        async with uow.read_only():
            assert await select_rows(uow.session, select(_ORG.c.code).where(_ORG.c.code == "probe")) == []
    finally:
        await engine.dispose()


async def test_aware_datetimes_come_back_in_utc(database_url: str) -> None:
    engine = create_engine(database_url)
    summer = datetime(2026, 7, 1, 14, 30, 15, 250000, tzinfo=timezone(timedelta(hours=2)))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_PROBE.metadata.create_all)
            await connection.execute(insert(_PROBE), [{"id": 1, "at": summer}, {"id": 2, "at": None}])
            if engine.dialect.name == "sqlite":  # text as other writers may have stored it: no offset, or one
                await connection.execute(text("INSERT INTO aware_probe VALUES (3, '2026-01-05 08:00:00')"))
                await connection.execute(text("INSERT INTO aware_probe VALUES (4, '2026-01-05 08:00:00+01:00')"))
            found = dict((await connection.execute(select(_PROBE.c.id, _PROBE.c.at))).tuples().all())
        assert found[1] == summer
        assert found[1] is not None
        assert found[1].tzinfo is UTC
        assert found[1].hour == 12
        assert found[2] is None
        if engine.dialect.name == "sqlite":
            assert found[3] == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
            assert found[4] == datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
            assert found[3] is not None
            assert found[3].tzinfo is UTC
            assert found[4] is not None
            assert found[4].tzinfo is UTC
    finally:
        await engine.dispose()


async def test_every_way_out_of_a_unit_of_work_gives_the_connection_back(database_url: str) -> None:
    engine = create_engine(database_url)
    pool = engine.sync_engine.pool
    uow = SqlUnitOfWork(create_session_factory(engine), FixedClock(datetime(2026, 12, 2, 9, 0, tzinfo=UTC)))
    codes = select(_ORG.c.code).where(_ORG.c.code.like("exit-%"))
    try:
        async with uow.read_only():
            assert await select_rows(uow.session, codes) == []
            await uow.commit()
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
        async with uow.read_only():
            await uow.commit()
            assert await select_rows(uow.session, codes) == []  # a read after the commit, in a new transaction
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
        async with uow:
            await uow.session.execute(insert(OrgUnitRow).values(code="exit-lost", name="Lost"))
        with pytest.raises(LookupError):
            async with uow:
                await uow.session.execute(insert(OrgUnitRow).values(code="exit-failed", name="Failed"))
                raise LookupError
        async with uow:
            await uow.session.execute(insert(OrgUnitRow).values(code="exit-kept", name="Kept"))
            await uow.commit()
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
        async with uow.read_only():
            assert [r.code for r in await select_rows(uow.session, codes)] == ["exit-kept"]
    finally:
        await engine.dispose()
