"""The embedded directory: accounts in the ESS database, argon2id hashes through the passlib API, lockout."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from passlib.context import CryptContext
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ess.adapters.sql.tables import LocalAccountRow
from ess.domain.auth.model import is_plausible_login
from ess.domain.directory.model import AccountStatus, AuthOutcome, DirectoryAccount
from ess.domain.errors import AuthenticationFailed, NotFound, ServiceUnavailable
from ess.domain.shared import Clock


@dataclass(frozen=True, slots=True)
class HashingCost:
    memory_kib: int = 19456
    time_cost: int = 2
    parallelism: int = 1


def make_password_context(cost: HashingCost) -> CryptContext:
    return CryptContext(
        schemes=["argon2"],
        argon2__type="ID",
        argon2__memory_cost=cost.memory_kib,
        argon2__rounds=cost.time_cost,
        argon2__parallelism=cost.parallelism,
    )


_NO_ACCOUNT = -1  # an id no row has: failure bookkeeping for unknown logins updates nothing


class LocalDirectory:
    """Implements the Directory port on the `local_accounts` table."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        hashing: HashingCost | None = None,
        lockout_threshold: int = 10,
        lockout_duration: timedelta = timedelta(minutes=15),
    ) -> None:
        self._factory = session_factory
        self._clock = clock
        self._context = make_password_context(hashing or HashingCost())
        self._lockout_threshold = lockout_threshold
        self._lockout_duration = lockout_duration
        # Verified against for unknown logins, so they cost the same as real ones (made once, up front).
        self._dummy_hash = self._context.hash("not a real password")

    # Hashing costs tens of milliseconds of CPU: keep it off the event loop.
    async def _hash(self, password: str) -> str:
        return await asyncio.to_thread(self._context.hash, password)

    async def _verify(self, password: str, password_hash: str) -> bool:
        return await asyncio.to_thread(self._context.verify, password, password_hash)

    async def _load(self, session: AsyncSession, login: str) -> LocalAccountRow | None:
        if not is_plausible_login(login):
            return None
        row: LocalAccountRow | None = await session.scalar(
            select(LocalAccountRow).where(LocalAccountRow.login == login)
        )
        return row

    async def authenticate(self, login: str, password: str) -> AuthOutcome:
        if not password:
            return AuthOutcome.INVALID_CREDENTIALS
        try:
            async with self._factory() as session:
                row = await self._load(session, login)
                if row is None:
                    # The same hashing and the same writes as a wrong password for a real account, so neither
                    # the answer nor its timing tells which logins exist.
                    await self._verify(password, self._dummy_hash)
                    await self._record_failure(session, _NO_ACCOUNT, self._clock.now())
                    return AuthOutcome.INVALID_CREDENTIALS
                return await self._check(session, row, password)
        except (SQLAlchemyError, OSError) as exc:
            raise ServiceUnavailable("The directory is not reachable.") from exc

    async def _check(self, session: AsyncSession, row: LocalAccountRow, password: str) -> AuthOutcome:
        matches = await self._verify(password, row.password_hash)
        now = self._clock.now()
        outcome = AuthOutcome.OK
        if row.disabled:
            outcome = AuthOutcome.DISABLED
        elif row.locked_until is not None and row.locked_until > now:
            outcome = AuthOutcome.LOCKED
        elif not matches:
            await self._record_failure(session, row.id, now)
            outcome = AuthOutcome.INVALID_CREDENTIALS
        else:
            row.failed_attempts = 0
            row.locked_until = None
            if self._context.needs_update(row.password_hash):
                row.password_hash = await self._hash(password)
            await session.commit()
            if row.must_change:
                outcome = AuthOutcome.MUST_CHANGE
            elif row.password_expires_at is not None and row.password_expires_at <= now:
                outcome = AuthOutcome.PASSWORD_EXPIRED
        return outcome

    async def _record_failure(self, session: AsyncSession, account_id: int, now: datetime) -> None:
        # One atomic UPDATE: parallel wrong passwords cannot lose a count.
        await session.execute(
            update(LocalAccountRow)
            .where(LocalAccountRow.id == account_id)
            .values(failed_attempts=LocalAccountRow.failed_attempts + 1)
        )
        await session.execute(
            update(LocalAccountRow)
            .where(LocalAccountRow.id == account_id, LocalAccountRow.failed_attempts >= self._lockout_threshold)
            .values(locked_until=now + self._lockout_duration, failed_attempts=0)
        )
        await session.commit()

    async def find_account(self, login_or_email: str) -> DirectoryAccount | None:
        needle = login_or_email.strip().lower()
        if not needle or not is_plausible_login(needle):
            return None
        async with self._factory() as session:
            rows = (
                await session.scalars(
                    select(LocalAccountRow)
                    .where(or_(LocalAccountRow.login == needle, func.lower(LocalAccountRow.email) == needle))
                    .limit(2)
                )
            ).all()
        if len(rows) != 1:
            return None
        return DirectoryAccount(login=rows[0].login, email=rows[0].email, display_name=rows[0].display_name)

    async def account_status(self, login: str) -> AccountStatus:
        async with self._factory() as session:
            row = await self._load(session, login)
        if row is None:
            raise NotFound("No such account.")
        now = self._clock.now()
        locked = row.locked_until is not None and row.locked_until > now
        return AccountStatus(
            login=row.login,
            locked=locked,
            disabled=row.disabled,
            password_expired=row.password_expires_at is not None and row.password_expires_at <= now,
            must_change=row.must_change,
            locked_until=row.locked_until if locked else None,
            password_expires_at=row.password_expires_at,
            password_changed_at=row.password_changed_at,
        )

    async def change_password(self, login: str, current: str, new: str) -> None:
        async with self._factory() as session:
            row = await self._load(session, login)
            if row is None or not current or not await self._verify(current, row.password_hash):
                if row is not None:
                    await self._record_failure(session, row.id, self._clock.now())
                raise AuthenticationFailed("The current password is not correct.")
            now = self._clock.now()
            if row.disabled or (row.locked_until is not None and row.locked_until > now):
                raise AuthenticationFailed("The current password is not correct.")
            await self._store_password(session, row, new, now)

    async def reset_password(self, login: str, new: str) -> None:
        async with self._factory() as session:
            row = await self._load(session, login)
            if row is None:
                raise NotFound("No such account.")
            await self._store_password(session, row, new, self._clock.now())

    async def _store_password(self, session: AsyncSession, row: LocalAccountRow, new: str, now: datetime) -> None:
        row.password_hash = await self._hash(new)
        row.password_changed_at = now
        row.must_change = False
        row.password_expires_at = None  # the embedded directory has no maximum age: a new password does not expire
        row.failed_attempts = 0
        row.locked_until = None
        await session.commit()

    async def unlock(self, login: str) -> None:
        async with self._factory() as session:
            if not is_plausible_login(login):
                raise NotFound("No such account.")
            result = await session.execute(
                update(LocalAccountRow)
                .where(LocalAccountRow.login == login)
                .values(failed_attempts=0, locked_until=None)
            )
            if not getattr(result, "rowcount", 0):
                raise NotFound("No such account.")
            await session.commit()

    async def groups(self, login: str) -> frozenset[str]:
        async with self._factory() as session:
            row = await self._load(session, login)
        return _split_groups(row.groups) if row else frozenset()

    async def read_attributes(self, login: str, fields: Sequence[str]) -> dict[str, str]:
        async with self._factory() as session:
            row = await self._load(session, login)
        if row is None:
            raise NotFound("No such account.")
        stored = row.attributes or {}
        return {field: stored.get(field, "") for field in fields}

    async def write_attributes(self, login: str, values: Mapping[str, str]) -> None:
        async with self._factory() as session:
            row = await self._load(session, login)
            if row is None:
                raise NotFound("No such account.")
            merged = {**(row.attributes or {}), **values}
            row.attributes = {field: value for field, value in merged.items() if value}
            await session.commit()

    async def ping(self) -> None:
        try:
            async with self._factory() as session:
                await session.execute(select(func.count()).select_from(LocalAccountRow).limit(1))
        except (SQLAlchemyError, OSError) as exc:
            raise ServiceUnavailable("The directory is not reachable.") from exc

    # --- Administration of the embedded directory (not part of the port) -----------------------------------------

    async def provision(
        self,
        login: str,
        *,
        password: str,
        email: str = "",
        display_name: str = "",
        groups: Iterable[str] = (),
    ) -> bool:
        """Create the account or update its details and password. Returns True when it was created."""
        async with self._factory() as session:
            row = await self._load(session, login)
            created = row is None
            if row is None:
                row = LocalAccountRow(login=login, failed_attempts=0, disabled=False, must_change=False, attributes={})
                session.add(row)
            row.email = email
            row.display_name = display_name
            row.groups = "\n".join(sorted(set(groups)))
            await self._store_password(session, row, password, self._clock.now())
        return created

    async def logins(self) -> set[str]:
        async with self._factory() as session:
            return set((await session.scalars(select(LocalAccountRow.login))).all())


def _split_groups(text: str) -> frozenset[str]:
    return frozenset(g for g in text.split("\n") if g)
