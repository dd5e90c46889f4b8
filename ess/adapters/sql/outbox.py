"""The directory outbox in SQL: entries, the due query (one per login, oldest first) and atomic claims."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ess.adapters.sql.tables import DirectoryOutboxRow
from ess.domain.outbox.model import OPEN_STATUSES, DirectoryChange, OutboxStatus
from ess.domain.types import EmployeeId

_PENDING = OutboxStatus.PENDING.value


class SqlOutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, change: DirectoryChange) -> DirectoryChange:
        row = DirectoryOutboxRow(
            employee_id=change.employee_id,
            login=change.login,
            values=dict(change.values),
            expected=dict(change.expected),
            status=change.status.value,
            created_at=change.created_at,
            attempts=change.attempts,
            next_attempt_at=change.next_attempt_at,
            last_attempt_at=change.last_attempt_at,
            last_error=change.last_error,
            applied_at=change.applied_at,
            conflicts=dict(change.conflicts),
            forced_by=change.forced_by,
            claimed_until=None,
        )
        self._session.add(row)
        await self._session.flush()
        return _to_change(row)

    async def get(self, change_id: int) -> DirectoryChange | None:
        row = await self._session.get(DirectoryOutboxRow, change_id)
        return _to_change(row) if row is not None else None

    async def due(self, now: datetime, limit: int) -> list[DirectoryChange]:
        earlier = aliased(DirectoryOutboxRow)
        row = DirectoryOutboxRow
        stmt = (
            select(row)
            .where(
                row.status == _PENDING,
                row.next_attempt_at <= now,
                or_(row.claimed_until.is_(None), row.claimed_until <= now),
                ~exists().where(and_(earlier.login == row.login, earlier.status == _PENDING, earlier.id < row.id)),
            )
            .order_by(row.id)
            .limit(limit)
        )
        return [_to_change(r) for r in (await self._session.scalars(stmt)).all()]

    async def claim(self, change_id: int, *, now: datetime, until: datetime) -> bool:
        row = DirectoryOutboxRow
        # One conditional UPDATE: PostgreSQL re-checks the condition after a concurrent update of the row commits,
        # SQLite runs writers one at a time; either way only one worker sees its row count of 1.
        result = await self._session.execute(
            update(row)
            .where(
                row.id == change_id,
                row.status == _PENDING,
                or_(row.claimed_until.is_(None), row.claimed_until <= now),
            )
            .values(claimed_until=until)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0)) == 1

    async def for_employee(self, employee_id: EmployeeId, *, open_only: bool) -> list[DirectoryChange]:
        stmt = select(DirectoryOutboxRow).where(DirectoryOutboxRow.employee_id == employee_id)
        if open_only:
            stmt = stmt.where(DirectoryOutboxRow.status.in_([s.value for s in OPEN_STATUSES]))
        rows = await self._session.scalars(stmt.order_by(DirectoryOutboxRow.id))
        return [_to_change(r) for r in rows.all()]

    async def listing(self, statuses: Sequence[OutboxStatus] | None, limit: int) -> list[DirectoryChange]:
        stmt = select(DirectoryOutboxRow)
        if statuses is not None:
            stmt = stmt.where(DirectoryOutboxRow.status.in_([s.value for s in statuses]))
        rows = await self._session.scalars(stmt.order_by(DirectoryOutboxRow.id.desc()).limit(limit))
        return [_to_change(r) for r in rows.all()]

    async def update(self, change: DirectoryChange) -> None:
        if change.id is None:
            raise ValueError("only a stored outbox entry can be updated")
        await self._session.execute(
            update(DirectoryOutboxRow)
            .where(DirectoryOutboxRow.id == change.id)
            .values(
                status=change.status.value,
                attempts=change.attempts,
                next_attempt_at=change.next_attempt_at,
                last_attempt_at=change.last_attempt_at,
                last_error=change.last_error,
                applied_at=change.applied_at,
                conflicts=dict(change.conflicts),
                forced_by=change.forced_by,
                claimed_until=None,
            )
            .execution_options(synchronize_session=False)
        )


def _to_change(row: DirectoryOutboxRow) -> DirectoryChange:
    return DirectoryChange(
        id=row.id,
        employee_id=EmployeeId(row.employee_id),
        login=row.login,
        values=dict(row.values),
        expected=dict(row.expected),
        status=OutboxStatus(row.status),
        created_at=row.created_at,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        applied_at=row.applied_at,
        conflicts=dict(row.conflicts or {}),
        last_attempt_at=row.last_attempt_at,
        forced_by=row.forced_by,
    )
