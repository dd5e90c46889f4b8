"""The mail queue in SQL: entries, the due query (oldest first) and atomic claims."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ess.adapters.sql.tables import MailQueueRow
from ess.domain.mail.model import MailStatus, QueuedMail

_PENDING = MailStatus.PENDING.value


class SqlMailQueue:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, mail: QueuedMail) -> QueuedMail:
        row = MailQueueRow(
            kind=mail.kind,
            recipients=list(mail.to),
            subject=mail.subject,
            body=mail.body,
            status=mail.status.value,
            created_at=mail.created_at,
            attempts=mail.attempts,
            next_attempt_at=mail.next_attempt_at,
            last_attempt_at=mail.last_attempt_at,
            last_error=mail.last_error,
            sent_at=mail.sent_at,
            claimed_until=None,
        )
        self._session.add(row)
        await self._session.flush()
        return _to_mail(row)

    async def get(self, mail_id: int) -> QueuedMail | None:
        row = await self._session.get(MailQueueRow, mail_id)
        return _to_mail(row) if row is not None else None

    async def due(self, now: datetime, limit: int) -> list[QueuedMail]:
        row = MailQueueRow
        stmt = (
            select(row)
            .where(
                row.status == _PENDING,
                row.next_attempt_at <= now,
                or_(row.claimed_until.is_(None), row.claimed_until <= now),
            )
            .order_by(row.id)
            .limit(limit)
        )
        return [_to_mail(r) for r in (await self._session.scalars(stmt)).all()]

    async def claim(self, mail_id: int, *, now: datetime, until: datetime) -> bool:
        row = MailQueueRow
        # One conditional UPDATE, as for the directory outbox: of two workers only one sees its row count of 1.
        result = await self._session.execute(
            update(row)
            .where(
                row.id == mail_id,
                row.status == _PENDING,
                or_(row.claimed_until.is_(None), row.claimed_until <= now),
            )
            .values(claimed_until=until)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0)) == 1

    async def listing(self, statuses: Sequence[MailStatus] | None, limit: int) -> list[QueuedMail]:
        stmt = select(MailQueueRow)
        if statuses is not None:
            stmt = stmt.where(MailQueueRow.status.in_([s.value for s in statuses]))
        rows = await self._session.scalars(stmt.order_by(MailQueueRow.id.desc()).limit(limit))
        return [_to_mail(r) for r in rows.all()]

    async def update(self, mail: QueuedMail) -> None:
        if mail.id is None:
            raise ValueError("only a stored mail can be updated")
        await self._session.execute(
            update(MailQueueRow)
            .where(MailQueueRow.id == mail.id)
            .values(
                status=mail.status.value,
                body=mail.body,
                attempts=mail.attempts,
                next_attempt_at=mail.next_attempt_at,
                last_attempt_at=mail.last_attempt_at,
                last_error=mail.last_error,
                sent_at=mail.sent_at,
                claimed_until=None,
            )
            .execution_options(synchronize_session=False)
        )


def _to_mail(row: MailQueueRow) -> QueuedMail:
    return QueuedMail(
        id=row.id,
        kind=row.kind,
        to=tuple(row.recipients),
        subject=row.subject,
        body=row.body,
        status=MailStatus(row.status),
        created_at=row.created_at,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_attempt_at=row.last_attempt_at,
        last_error=row.last_error,
        sent_at=row.sent_at,
    )
