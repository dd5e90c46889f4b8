"""Browser sessions and attempt counters kept in a Litestar store (file by default, pluggable)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import datetime

import msgspec
from litestar.stores.base import Store

from ess.domain.auth.model import Principal, SessionRecord
from ess.domain.hr.model import Role
from ess.domain.types import EmployeeId


class _StoredSession(msgspec.Struct, frozen=True):
    login: str
    display_name: str
    roles: list[str]
    employee_id: int | None
    created_at: datetime
    last_seen_at: datetime


def _key(session_id: str) -> str:
    # The store holds a hash of the id: reading the store's files does not yield usable session cookies.
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def _revocation_key(login: str) -> str:
    return "revoked-before:" + hashlib.sha256(login.encode("utf-8")).hexdigest()


class StoreSessions:
    """Implements the SessionStore port."""

    def __init__(self, store: Store, *, max_session_seconds: int) -> None:
        self._store = store
        self._max_session_seconds = max_session_seconds

    async def create(self, record: SessionRecord, ttl_seconds: int) -> str:
        session_id = secrets.token_urlsafe(32)
        await self.touch(session_id, record, ttl_seconds)
        return session_id

    async def get(self, session_id: str) -> SessionRecord | None:
        if not session_id or len(session_id) > 128:
            return None
        raw = await self._store.get(_key(session_id))
        if raw is None:
            return None
        try:
            stored = msgspec.json.decode(raw, type=_StoredSession)
        except msgspec.DecodeError:
            return None
        principal = Principal(
            login=stored.login,
            display_name=stored.display_name,
            roles=frozenset(Role(r) for r in stored.roles),
            employee_id=EmployeeId(stored.employee_id) if stored.employee_id is not None else None,
        )
        return SessionRecord(principal=principal, created_at=stored.created_at, last_seen_at=stored.last_seen_at)

    async def touch(self, session_id: str, record: SessionRecord, ttl_seconds: int) -> None:
        p = record.principal
        stored = _StoredSession(
            login=p.login,
            display_name=p.display_name,
            roles=sorted(r.value for r in p.roles),
            employee_id=p.employee_id,
            created_at=record.created_at,
            last_seen_at=record.last_seen_at,
        )
        await self._store.set(_key(session_id), msgspec.json.encode(stored), expires_in=ttl_seconds)

    async def delete(self, session_id: str) -> None:
        await self._store.delete(_key(session_id))

    async def revoke_all(self, login: str, *, before: datetime) -> None:
        # Kept as long as any session could live; after that there is nothing left to revoke.
        await self._store.set(_revocation_key(login), before.isoformat(), expires_in=self._max_session_seconds)

    async def revoked_before(self, login: str) -> datetime | None:
        raw = await self._store.get(_revocation_key(login))
        return datetime.fromisoformat(raw.decode()) if raw else None


class StoreAttemptCounter:
    """Implements the AttemptCounter port: a fixed window per key that starts with the first hit.

    Litestar stores have no atomic increment, so read-modify-write runs under a lock (striped by key). That makes
    counting exact within one ESS process, which is how ESS is served (one process, async); several processes
    sharing a file store could lose a count under a race, never gain one.
    """

    _STRIPES = 64

    def __init__(self, store: Store) -> None:
        self._store = store
        self._locks = [asyncio.Lock() for _ in range(self._STRIPES)]

    def _lock(self, key: str) -> asyncio.Lock:
        return self._locks[hash(key) % self._STRIPES]

    async def _count(self, key: str) -> int:
        raw = await self._store.get(key)
        return int(raw) if raw else 0

    async def hit(self, key: str, window_seconds: int) -> int:
        async with self._lock(key):
            current = await self._count(key)
            remaining = await self._store.expires_in(key) if current else None
            new = current + 1
            await self._store.set(
                key, str(new), expires_in=remaining if remaining and remaining > 0 else window_seconds
            )
            return new

    async def release(self, key: str) -> None:
        async with self._lock(key):
            current = await self._count(key)
            if current <= 1:
                await self._store.delete(key)
                return
            remaining = await self._store.expires_in(key)
            await self._store.set(key, str(current - 1), expires_in=remaining if remaining and remaining > 0 else 1)

    async def clear(self, key: str) -> None:
        async with self._lock(key):
            await self._store.delete(key)
