"""SQL storage of login second factors and their one-time recovery codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ess.adapters.sql.tables import LoginFactorRow, LoginRecoveryCodeRow
from ess.domain.mfa.model import Factor, FactorKind


def _factor(row: LoginFactorRow) -> Factor:
    return Factor(
        login=row.login,
        kind=FactorKind(row.kind),
        label=row.label,
        secret=row.secret,
        created_at=row.created_at,
        confirmed=row.confirmed_at is not None,
        credential_id=row.credential_id or "",
        sign_count=row.sign_count,
        last_step=row.last_step,
        id=row.id,
        last_used_at=row.last_used_at,
    )


class SqlFactorRepository:
    """Implements the FactorRepository port."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def factors(self, login: str) -> list[Factor]:
        rows = await self._session.scalars(
            select(LoginFactorRow).where(LoginFactorRow.login == login).order_by(LoginFactorRow.id)
        )
        return [_factor(row) for row in rows]

    async def add(self, factor: Factor) -> int:
        row = LoginFactorRow(
            login=factor.login,
            kind=factor.kind.value,
            label=factor.label,
            secret=factor.secret,
            credential_id=factor.credential_id or None,
            sign_count=factor.sign_count,
            last_step=factor.last_step,
            confirmed_at=factor.created_at if factor.confirmed else None,
            created_at=factor.created_at,
        )
        self._session.add(row)
        await self._session.flush()
        return row.id

    async def confirm(self, factor_id: int, step: int, at: datetime) -> None:
        login = await self._session.scalar(select(LoginFactorRow.login).where(LoginFactorRow.id == factor_id))
        await self._session.execute(
            delete(LoginFactorRow).where(
                LoginFactorRow.login == login, LoginFactorRow.confirmed_at.is_(None), LoginFactorRow.id != factor_id
            )
        )
        await self._session.execute(
            update(LoginFactorRow)
            .where(LoginFactorRow.id == factor_id)
            .values(confirmed_at=at, created_at=at, last_step=step, last_used_at=at)
        )

    async def rename(self, factor_id: int, label: str) -> None:
        await self._session.execute(update(LoginFactorRow).where(LoginFactorRow.id == factor_id).values(label=label))

    async def advance_step(self, factor_id: int, step: int, at: datetime) -> bool:
        result = await self._session.execute(
            update(LoginFactorRow)
            .where(LoginFactorRow.id == factor_id, LoginFactorRow.last_step < step)
            .values(last_step=step, last_used_at=at)
        )
        return bool(getattr(result, "rowcount", 0))

    async def record_passkey_use(self, factor_id: int, sign_count: int, at: datetime) -> None:
        await self._session.execute(
            update(LoginFactorRow).where(LoginFactorRow.id == factor_id).values(sign_count=sign_count, last_used_at=at)
        )

    async def remove(self, login: str, factor_id: int) -> bool:
        result = await self._session.execute(
            delete(LoginFactorRow).where(LoginFactorRow.login == login, LoginFactorRow.id == factor_id)
        )
        return bool(getattr(result, "rowcount", 0))

    async def remove_all(self, login: str) -> int:
        count = await self._session.scalar(
            select(func.count())
            .select_from(LoginFactorRow)
            .where(LoginFactorRow.login == login, LoginFactorRow.confirmed_at.is_not(None))
        )
        await self._session.execute(delete(LoginFactorRow).where(LoginFactorRow.login == login))
        await self._session.execute(delete(LoginRecoveryCodeRow).where(LoginRecoveryCodeRow.login == login))
        return int(count or 0)

    async def replace_recovery_codes(self, login: str, code_hashes: list[str], at: datetime) -> None:
        await self._session.execute(delete(LoginRecoveryCodeRow).where(LoginRecoveryCodeRow.login == login))
        self._session.add_all(LoginRecoveryCodeRow(login=login, code_hash=h, created_at=at) for h in code_hashes)
        await self._session.flush()

    async def use_recovery_code(self, login: str, code_hash: str, at: datetime) -> bool:
        # One conditional statement: two parallel logins with the same code cannot both use it.
        result = await self._session.execute(
            update(LoginRecoveryCodeRow)
            .where(
                LoginRecoveryCodeRow.login == login,
                LoginRecoveryCodeRow.code_hash == code_hash,
                LoginRecoveryCodeRow.used_at.is_(None),
            )
            .values(used_at=at)
        )
        return bool(getattr(result, "rowcount", 0))

    async def recovery_codes_left(self, login: str) -> int:
        count = await self._session.scalar(
            select(func.count())
            .select_from(LoginRecoveryCodeRow)
            .where(LoginRecoveryCodeRow.login == login, LoginRecoveryCodeRow.used_at.is_(None))
        )
        return int(count or 0)
