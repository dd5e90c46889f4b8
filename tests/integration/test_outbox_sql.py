"""The SQL outbox on SQLite and PostgreSQL: commit together or not at all, the due query, claims, two workers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from ess.adapters.sql.database import create_engine, create_session_factory
from ess.adapters.sql.tables import AuditEventRow
from ess.adapters.sql.unit_of_work import SqlUnitOfWork
from ess.domain.outbox.delivery import deliver_due
from ess.domain.outbox.model import DirectoryChange, OutboxStatus, RetryPolicy
from ess.domain.outbox.queue import record_directory_change
from ess.domain.types import EmployeeId
from tests.factories import employee, outbox_deps
from tests.fakes import FakeDirectory, FixedClock

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


class Db:
    """One process's view of the database: its own engine and pool."""

    def __init__(self, url: str, clock: FixedClock) -> None:
        self.engine = create_engine(url)
        self.factory = create_session_factory(self.engine)
        self.clock = clock

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.factory, self.clock)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Db]:
    db = Db(database_url, FixedClock(NOW))
    async with db.uow() as uow:
        await uow.employees.save_all(
            [employee(personnel_number=f"P{n}", login=f"user{n}", work_email=f"u{n}@example.test") for n in range(30)]
        )
        await uow.commit()
    yield db
    await db.engine.dispose()


async def ids(db: Db) -> dict[str, EmployeeId]:
    async with db.uow() as uow:
        found = await uow.employees.by_personnel_numbers([f"P{n}" for n in range(30)])
    return {e.login: e.id for e in found.values() if e.id is not None}


def entry(employee_id: EmployeeId, login: str, *, at: datetime = NOW, **values: str) -> DirectoryChange:
    return DirectoryChange(
        id=None,
        employee_id=employee_id,
        login=login,
        values=values,
        expected=dict.fromkeys(values, ""),
        status=OutboxStatus.PENDING,
        created_at=at,
        next_attempt_at=at,
    )


async def test_an_entry_round_trips_and_only_a_commit_keeps_it(db: Db) -> None:
    people = await ids(db)
    async with db.uow() as uow:
        lost = await record_directory_change(
            uow,
            employee_id=people["user1"],
            login="user1",
            old={"city": "München"},
            new={"city": "Köln"},
            now=NOW,
            actor="user1",
        )
        assert lost is not None
        # leaving without commit: the HR change and the outbox entry go together
    async with db.uow() as uow:
        assert await uow.outbox.listing(None, 10) == []
        kept = await record_directory_change(
            uow,
            employee_id=people["user1"],
            login="user1",
            old={"city": "München", "mobile_phone": "+491701"},
            new={"city": "Köln", "mobile_phone": "+491701"},
            now=NOW,
            actor="user1",
        )
        await uow.commit()
    assert kept is not None
    assert kept.id is not None
    async with db.uow() as uow:
        stored = await uow.outbox.get(kept.id)
        assert stored == kept
        assert stored.values == {"city": "Köln"}
        assert stored.expected == {"city": "München"}
        assert stored.created_at == NOW
        assert stored.created_at.tzinfo is not None
        await uow.outbox.update(
            DirectoryChange(**{**_fields(stored), "status": OutboxStatus.CONFLICT, "conflicts": {"city": "Bonn"}})
        )
        await uow.commit()
    async with db.uow() as uow:
        again = await uow.outbox.get(kept.id)
        assert again is not None
        assert (again.status, again.conflicts) == (OutboxStatus.CONFLICT, {"city": "Bonn"})
        assert [c.id for c in await uow.outbox.for_employee(people["user1"], open_only=True)] == [kept.id]
        assert await uow.outbox.for_employee(people["user2"], open_only=False) == []
        assert [c.id for c in await uow.outbox.listing([OutboxStatus.CONFLICT], 10)] == [kept.id]
        assert await uow.outbox.listing([OutboxStatus.PENDING], 10) == []
        actions = (await uow.audit.recent(10))[0].action
        assert actions == "directory_change_queued"


def _fields(change: DirectoryChange) -> dict[str, object]:
    return {name: getattr(change, name) for name in DirectoryChange.__dataclass_fields__}


async def test_due_gives_the_oldest_pending_entry_per_login_and_claims_are_exclusive(db: Db) -> None:
    people = await ids(db)
    async with db.uow() as uow:
        first = await uow.outbox.add(entry(people["user1"], "user1", city="A"))
        second = await uow.outbox.add(entry(people["user1"], "user1", city="B"))
        later = await uow.outbox.add(entry(people["user2"], "user2", at=NOW + timedelta(minutes=5), city="C"))
        other = await uow.outbox.add(entry(people["user3"], "user3", city="D"))
        await uow.commit()
    assert first.id is not None
    assert other.id is not None
    async with db.uow() as uow:
        assert [c.id for c in await uow.outbox.due(NOW, 10)] == [first.id, other.id]
        assert [c.id for c in await uow.outbox.due(NOW + timedelta(minutes=5), 10)] == [first.id, later.id, other.id]
        assert [c.id for c in await uow.outbox.due(NOW, 1)] == [first.id]
        assert await uow.outbox.claim(first.id, now=NOW, until=NOW + timedelta(minutes=5))
        assert not await uow.outbox.claim(first.id, now=NOW, until=NOW + timedelta(minutes=5))
        await uow.commit()
    async with db.uow() as uow:
        # the claimed first entry is in hand, and the second of the same login still waits behind it
        assert [c.id for c in await uow.outbox.due(NOW, 10)] == [other.id]
        # a claim that ran out (a crashed worker) can be taken over
        assert next(c.id for c in await uow.outbox.due(NOW + timedelta(minutes=5), 10)) == first.id
        assert await uow.outbox.claim(first.id, now=NOW + timedelta(minutes=5), until=NOW + timedelta(minutes=10))
        stored = await uow.outbox.get(first.id)
        assert stored is not None
        await uow.outbox.update(DirectoryChange(**{**_fields(stored), "status": OutboxStatus.APPLIED}))
        await uow.commit()
    async with db.uow() as uow:
        assert [c.id for c in await uow.outbox.due(NOW, 10)] == [second.id, other.id]
        assert not await uow.outbox.claim(first.id, now=NOW, until=NOW + timedelta(minutes=5))  # not pending


@pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
async def test_two_workers_at_once_apply_each_entry_once(db: Db, database_url: str) -> None:
    people = await ids(db)
    directory = FakeDirectory()
    for login in people:
        directory.add(login, "pw")
    async with db.uow() as uow:
        for login, employee_id in sorted(people.items()):
            await uow.outbox.add(entry(employee_id, login, city=f"Stadt {login}"))
        await uow.commit()
    other_process = Db(database_url, db.clock)
    try:
        workers = [
            outbox_deps(d.uow, directory, db.clock, RetryPolicy(batch_size=100))
            for d in (db, other_process, db, other_process)
        ]
        reports = await asyncio.gather(*(deliver_due(deps=worker) for worker in workers))
    finally:
        await other_process.engine.dispose()
    applied = [change_id for report in reports for change_id in report.applied]
    assert len(applied) == len(set(applied)) == len(people)
    assert sorted(login for login, _ in directory.writes) == sorted(people)
    async with db.uow() as uow:
        assert await uow.outbox.listing([OutboxStatus.PENDING, OutboxStatus.FAILED], 100) == []
        count = await uow.session.scalar(select(func.count()).where(AuditEventRow.action == "directory_change_applied"))
    assert count == len(people)
