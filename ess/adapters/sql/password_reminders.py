"""Password-expiry reminders already sent, so `ess password remind` sends each offset once per password."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ess.adapters.sql.tables import PasswordReminderRow


class SqlPasswordReminderRepository:
    """Implements PasswordReminderRepository on `password_reminders`."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def sent_offsets(self, login: str, expires_at: datetime) -> set[int]:
        rows = await self._session.scalars(
            select(PasswordReminderRow.offset_days).where(
                PasswordReminderRow.login == login, PasswordReminderRow.expires_at == expires_at
            )
        )
        return set(rows.all())

    async def add(
        self, login: str, expires_at: datetime, offset_days: int, *, recipient: str, sent_at: datetime
    ) -> None:
        self._session.add(
            PasswordReminderRow(
                login=login, expires_at=expires_at, offset_days=offset_days, recipient=recipient, sent_at=sent_at
            )
        )
        await self._session.flush()
