"""Browser sessions and attempt counters kept in a Litestar store (file by default, pluggable)."""

from __future__ import annotations

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


class StoreSessions:
    """Implements the SessionStore port."""

    def __init__(self, store: Store) -> None:
        self._store = store

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


class StoreAttemptCounter:
    """Implements the AttemptCounter port: a fixed window per key that starts with the first hit."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def count(self, key: str) -> int:
        raw = await self._store.get(key)
        return int(raw) if raw else 0

    async def hit(self, key: str, window_seconds: int) -> int:
        remaining = await self._store.expires_in(key)
        current = await self.count(key)
        new = current + 1
        await self._store.set(key, str(new), expires_in=remaining if current and remaining else window_seconds)
        return new

    async def clear(self, key: str) -> None:
        await self._store.delete(key)
