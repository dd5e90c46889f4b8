"""Operational figures read straight from the database and the engine for monitoring: the outbox and mail queue
backlogs, the pool."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import QueuePool

from ess.adapters.sql.tables import DirectoryOutboxRow, MailQueueRow
from ess.domain.mail.model import MailStatus
from ess.domain.outbox.model import OutboxStatus


@dataclass(frozen=True, slots=True)
class Backlog:
    pending: int
    oldest_age_seconds: float  # 0 when nothing waits


@dataclass(frozen=True, slots=True)
class MailBacklog:
    pending: int
    oldest_age_seconds: float  # 0 when nothing waits
    failed: int


@dataclass(frozen=True, slots=True)
class PoolFigures:
    size: int
    checked_out: int
    overflow: int


class SqlFigures:
    """One query for the outbox backlog (the status index serves it) and the engine's pool counters."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._factory = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

    async def outbox_backlog(self, now: datetime) -> Backlog:
        query = select(func.count(), func.min(DirectoryOutboxRow.created_at)).where(
            DirectoryOutboxRow.status == OutboxStatus.PENDING.value
        )
        async with self._factory() as session:
            count, oldest = (await session.execute(query)).one()
        return Backlog(int(count), (now - oldest).total_seconds() if oldest is not None else 0.0)

    async def mail_backlog(self, now: datetime) -> MailBacklog:
        """Mails waiting and the oldest one's age, and mails given up; one grouped query on the status index."""
        query = select(MailQueueRow.status, func.count(), func.min(MailQueueRow.created_at)).where(
            MailQueueRow.status.in_([MailStatus.PENDING.value, MailStatus.FAILED.value])
        )
        async with self._factory() as session:
            rows = (await session.execute(query.group_by(MailQueueRow.status))).all()
        by_status = {status: (int(count), oldest) for status, count, oldest in rows}
        pending, oldest = by_status.get(MailStatus.PENDING.value, (0, None))
        failed = by_status.get(MailStatus.FAILED.value, (0, None))[0]
        return MailBacklog(pending, (now - oldest).total_seconds() if oldest is not None else 0.0, failed)

    def pool(self) -> PoolFigures | None:
        """None for pools that keep no counters (SQLite's)."""
        pool = self._engine.sync_engine.pool
        if not isinstance(pool, QueuePool):
            return None
        return PoolFigures(size=pool.size(), checked_out=pool.checkedout(), overflow=max(pool.overflow(), 0))
