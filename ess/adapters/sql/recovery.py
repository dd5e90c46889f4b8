"""SQL storage of recovery links and recovery profiles, and the private e-mail of the HR record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ess.adapters.sql.tables import EmployeeRow, RecoveryProfileRow, RecoveryTokenRow
from ess.domain.auth.model import Purpose
from ess.domain.recovery.model import RecoveryContact, RecoveryProfile, RecoveryToken


def _token(row: RecoveryTokenRow) -> RecoveryToken:
    return RecoveryToken(
        token_hash=row.token_hash,
        login=row.login,
        purpose=Purpose(row.purpose),
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
        detail=row.detail,
        failed_codes=row.failed_codes,
        sms_code_hash=row.sms_code_hash,
        sms_sent_at=row.sms_sent_at,
    )


class SqlRecoveryRepository:
    """Implements the RecoveryRepository port."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_token(self, token: RecoveryToken) -> None:
        await self.revoke_tokens(token.login, token.created_at, (token.purpose,))
        self._session.add(
            RecoveryTokenRow(
                token_hash=token.token_hash,
                login=token.login,
                purpose=token.purpose.value,
                created_at=token.created_at,
                expires_at=token.expires_at,
                used_at=token.used_at,
                detail=token.detail,
                failed_codes=token.failed_codes,
                sms_code_hash=token.sms_code_hash,
                sms_sent_at=token.sms_sent_at,
            )
        )
        await self._session.flush()

    async def token(self, token_hash: str) -> RecoveryToken | None:
        row = await self._session.scalar(select(RecoveryTokenRow).where(RecoveryTokenRow.token_hash == token_hash))
        return _token(row) if row else None

    async def claim_token(self, token_hash: str, at: datetime) -> bool:
        result = await self._session.execute(
            update(RecoveryTokenRow)
            .where(
                RecoveryTokenRow.token_hash == token_hash,
                RecoveryTokenRow.used_at.is_(None),
                RecoveryTokenRow.expires_at > at,
            )
            .values(used_at=at)
        )
        return bool(getattr(result, "rowcount", 0))

    async def update_token(self, token: RecoveryToken) -> None:
        await self._session.execute(
            update(RecoveryTokenRow)
            .where(RecoveryTokenRow.token_hash == token.token_hash)
            .values(
                used_at=token.used_at,
                failed_codes=token.failed_codes,
                sms_code_hash=token.sms_code_hash,
                sms_sent_at=token.sms_sent_at,
            )
        )

    async def revoke_tokens(self, login: str, at: datetime, purposes: tuple[Purpose, ...]) -> int:
        result = await self._session.execute(
            update(RecoveryTokenRow)
            .where(
                RecoveryTokenRow.login == login,
                RecoveryTokenRow.used_at.is_(None),
                RecoveryTokenRow.purpose.in_([p.value for p in purposes]),
            )
            .values(used_at=at)
        )
        return int(getattr(result, "rowcount", 0))

    async def profile(self, login: str) -> RecoveryProfile:
        row = await self._session.scalar(select(RecoveryProfileRow).where(RecoveryProfileRow.login == login))
        if row is None:
            return RecoveryProfile(login=login)
        return RecoveryProfile(
            login=row.login,
            mobile=row.mobile,
            mobile_verified_at=row.mobile_verified_at,
            totp_secret=row.totp_secret,
            totp_pending=row.totp_pending,
            totp_last_step=row.totp_last_step,
            mobile_code_hash=row.mobile_code_hash,
            mobile_code_sent_at=row.mobile_code_sent_at,
        )

    async def save_profile(self, profile: RecoveryProfile) -> None:
        row = await self._session.scalar(select(RecoveryProfileRow).where(RecoveryProfileRow.login == profile.login))
        if row is None:
            row = RecoveryProfileRow(login=profile.login)
            self._session.add(row)
        row.mobile = profile.mobile
        row.mobile_verified_at = profile.mobile_verified_at
        row.mobile_code_hash = profile.mobile_code_hash
        row.mobile_code_sent_at = profile.mobile_code_sent_at
        row.totp_secret = profile.totp_secret
        row.totp_pending = profile.totp_pending
        row.totp_last_step = profile.totp_last_step
        await self._session.flush()

    async def contact(self, login: str) -> RecoveryContact | None:
        row = await self._session.scalar(select(EmployeeRow).where(EmployeeRow.login == login))
        if row is None:
            return None
        first = row.preferred_name or row.first_name
        return RecoveryContact(
            login=row.login,
            display_name=f"{first} {row.last_name}".strip(),
            work_email=row.work_email,
            private_email=row.private_email,
            private_email_verified_at=row.private_email_verified_at,
        )

    async def set_private_email(self, login: str, address: str, verified_at: datetime | None) -> None:
        await self._session.execute(
            update(EmployeeRow)
            .where(EmployeeRow.login == login)
            .values(private_email=address, private_email_verified_at=verified_at)
        )
