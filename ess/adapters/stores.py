"""Browser sessions and attempt counters kept in a Litestar store (file by default, memory in tests): one process."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Final

import msgspec
from anyio import Path as AsyncPath
from litestar.stores.base import StorageObject, Store
from litestar.stores.file import FileStore

from ess.domain.auth.model import Principal, SessionRecord
from ess.domain.auth.ports import SessionStore
from ess.domain.hr.model import Role
from ess.domain.privacy.model import Record, Subject
from ess.domain.privacy.ports import PrivacyUnitOfWork
from ess.domain.types import EmployeeId


class _StoredSession(msgspec.Struct, frozen=True):
    login: str
    display_name: str
    roles: list[str]
    employee_id: int | None
    created_at: datetime
    last_seen_at: datetime


class SharedStoreUnreachable(Exception):
    """Redis or Valkey does not answer (or refuses our credentials) at start-up; the message says what to check.
    (Here, not in redis_store.py, so that naming it does not import the Redis client.)"""


class LocalFileStore(FileStore):
    """Litestar's file store, reading its small files on the event loop instead of in a worker thread.

    Every authenticated request reads two of them (the session or token record, the account's revocation marker):
    a file of a few hundred bytes on a local disk reads in microseconds, while the hop to a worker thread and back
    cost more CPU than the rest of the lookup. Writes (temporary file, rename) stay in the worker thread."""

    __slots__ = ()

    def with_namespace(self, namespace: str) -> LocalFileStore:
        if not namespace.isalnum():
            raise ValueError(f"Invalid namespace: {namespace!r}")
        return LocalFileStore(self.path / namespace)

    @staticmethod
    async def _load_from_path(path: AsyncPath) -> StorageObject | None:
        return _read_stored(str(path))

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        """Litestar's `get`, with the file's name made as a plain string: building an anyio path for each read
        cost about a third of the read. A renewal goes Litestar's way."""
        if renew_for:
            return await super().get(key, renew_for)
        stored = _read_stored(os.path.join(self.path, file_name_of(key)))  # noqa: PTH118 - see the docstring
        if stored is None:
            return None
        if stored.expired:
            await self._path_from_key(key).unlink(missing_ok=True)
            return None
        return stored.data

    async def delete_expired(self) -> None:
        """Drop expired and unreadable entries. Litestar's version also reads the temporary files of writes in
        progress (another thread or process sharing the folder is between creating and renaming one) and fails
        on their partial content; here those are left alone until they are clearly abandoned."""
        if not await self.path.exists():
            return
        now = time.time()
        async for file in self.path.iterdir():
            if "." in file.name:  # "<key>.tmp…": a write in progress, or left by a process that died mid-write
                with contextlib.suppress(FileNotFoundError):
                    if now - (await file.stat()).st_mtime > ABANDONED_WRITE_SECONDS:
                        await file.unlink(missing_ok=True)
                continue
            if not await file.is_file():
                continue
            stored = await self._load_from_path(file)
            if stored is None or stored.expired:
                await file.unlink(missing_ok=True)


# A temporary file of the file store older than this is a write whose process died before renaming it.
ABANDONED_WRITE_SECONDS: Final = 3600


def file_name_of(key: str) -> str:
    """The name of a key's file in the folder, as Litestar's FileStore names it (`_path_from_key`)."""
    return hashlib.blake2s(key.encode()).hexdigest()


def _read_stored(file_name: str) -> StorageObject | None:
    """The stored object, or None when there is none or what is there cannot be read (a damaged file is as good as
    a missing one: the session or counter starts anew instead of every request failing)."""
    try:
        with open(file_name, "rb") as file:  # noqa: PTH123 - a small local file, see LocalFileStore
            data = file.read()
    except FileNotFoundError:
        return None
    try:
        return StorageObject.from_bytes(data)
    except msgspec.DecodeError:
        return None


def session_key(session_id: str) -> str:
    """The key a session is stored under: a hash of the id, so reading the store does not yield usable cookies."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def revocation_key(login: str) -> str:
    return "revoked-before:" + hashlib.sha256(login.encode("utf-8")).hexdigest()


def sessions_of_key(login: str) -> str:
    """The index of an account's session keys (for the person's data export)."""
    return "sessions-of:" + hashlib.sha256(login.encode("utf-8")).hexdigest()


def valid_sessions(found: list[SessionRecord], revoked: datetime | None) -> list[SessionRecord]:
    alive = [record for record in found if revoked is None or record.created_at > revoked]
    return sorted(alive, key=lambda record: record.created_at)


def token_key(token_hash: str) -> str:
    return "token:" + token_hash


# What a forgotten (revoked) token's key holds: nothing may be cached for it until the key expires.
FORGOTTEN: Final = b"forgotten"


def plausible_session_id(session_id: str) -> bool:
    return bool(session_id) and len(session_id) <= 128


def encode_session(record: SessionRecord) -> bytes:
    p = record.principal
    stored = _StoredSession(
        login=p.login,
        display_name=p.display_name,
        roles=sorted(r.value for r in p.roles),
        employee_id=p.employee_id,
        created_at=record.created_at,
        last_seen_at=record.last_seen_at,
    )
    return msgspec.json.encode(stored)


def decode_session(raw: bytes | str) -> SessionRecord | None:
    """The record, or None when what is stored cannot be read (an older format): that session is simply over."""
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


class StoreSessions:
    """Implements the SessionStore port."""

    def __init__(self, store: Store, *, max_session_seconds: int) -> None:
        self._store = store
        self._max_session_seconds = max_session_seconds

    async def create(self, record: SessionRecord, ttl_seconds: int) -> str:
        session_id = secrets.token_urlsafe(32)
        await self.touch(session_id, record, ttl_seconds)
        # Read, then write: two logins of one account at the same instant may keep only one in the index (one host,
        # see StoreAttemptCounter); the index serves the data export only, never the session check.
        index = sessions_of_key(record.principal.login)
        keys = await self._index(index)
        await self._store.set(
            index, msgspec.json.encode([*keys, session_key(session_id)]), expires_in=self._max_session_seconds
        )
        return session_id

    async def _index(self, index: str) -> list[str]:
        raw = await self._store.get(index)
        try:
            return msgspec.json.decode(raw, type=list[str]) if raw else []
        except msgspec.DecodeError:
            return []

    async def of_login(self, login: str) -> list[SessionRecord]:
        index = sessions_of_key(login)
        found: list[SessionRecord] = []
        live: list[str] = []
        for key in await self._index(index):
            raw = await self._store.get(key)
            record = decode_session(raw) if raw is not None else None
            if record is not None and record.principal.login == login:
                found.append(record)
                live.append(key)
        if live:
            await self._store.set(index, msgspec.json.encode(live), expires_in=self._max_session_seconds)
        else:
            await self._store.delete(index)
        return valid_sessions(found, await self.revoked_before(login))

    async def get(self, session_id: str) -> SessionRecord | None:
        if not plausible_session_id(session_id):
            return None
        raw = await self._store.get(session_key(session_id))
        return None if raw is None else decode_session(raw)

    async def touch(self, session_id: str, record: SessionRecord, ttl_seconds: int) -> None:
        await self._store.set(session_key(session_id), encode_session(record), expires_in=ttl_seconds)

    async def delete(self, session_id: str) -> None:
        await self._store.delete(session_key(session_id))

    async def revoke_all(self, login: str, *, before: datetime) -> None:
        # Kept as long as any session could live; after that there is nothing left to revoke.
        await self._store.set(revocation_key(login), before.isoformat(), expires_in=self._max_session_seconds)

    async def revoked_before(self, login: str) -> datetime | None:
        raw = await self._store.get(revocation_key(login))
        return datetime.fromisoformat(raw.decode()) if raw else None

    async def remember_token(self, token_hash: str, record: SessionRecord, ttl_seconds: int) -> None:
        # Read, then write: not atomic across processes, like the attempt counter (one host, see StoreAttemptCounter).
        if await self._store.get(token_key(token_hash)) != FORGOTTEN:
            await self._store.set(token_key(token_hash), encode_session(record), expires_in=max(ttl_seconds, 1))

    async def recall_token(self, token_hash: str) -> SessionRecord | None:
        raw = await self._store.get(token_key(token_hash))
        return None if raw is None or raw == FORGOTTEN else decode_session(raw)

    async def forget_token(self, token_hash: str, ttl_seconds: int) -> None:
        await self._store.set(token_key(token_hash), FORGOTTEN, expires_in=max(ttl_seconds, 1))


class StoreAttemptCounter:
    """Implements the AttemptCounter port: a fixed window per key that starts with the first hit.

    Litestar stores have no atomic increment, so read-modify-write runs under a lock (striped by key). That makes
    counting exact within ONE ESS process only: several processes sharing a file store lose counts under a race
    (measured: 20 parallel wrong passwords reached the directory 10 times with two processes, limit 5). Several
    processes or hosts use the Redis store (`RedisAttemptCounter`), whose increments are atomic.
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


class SessionsArea:
    """Browser sessions in the shared store: when each was opened and last used and the roles it carries (never its
    id). The store ends them itself (idle and absolute lifetime), so no retention key applies."""

    name = "sessions"
    retention_keys: Final[tuple[str, ...]] = ()

    def __init__(self, sessions: SessionStore) -> None:
        self._sessions = sessions

    async def export(self, uow: PrivacyUnitOfWork, subject: Subject) -> Mapping[str, Sequence[Record]]:
        found = await self._sessions.of_login(subject.login)
        return {
            "sessions": [
                {
                    "created_at": record.created_at.isoformat(),
                    "last_seen_at": record.last_seen_at.isoformat(),
                    "roles": ", ".join(sorted(role.value for role in record.principal.roles)),
                }
                for record in found
            ]
        }

    async def expire(
        self, uow: PrivacyUnitOfWork, cutoffs: Mapping[str, datetime], *, dry_run: bool
    ) -> Mapping[str, int]:
        return {}
