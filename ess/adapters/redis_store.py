"""Sessions, attempt counters and revocation markers in Redis or Valkey: one store for every ESS process and host."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ess.adapters.stores import (
    FORGOTTEN,
    SharedStoreUnreachable,
    decode_session,
    encode_session,
    plausible_session_id,
    revocation_key,
    session_key,
    sessions_of_key,
    token_key,
    valid_sessions,
)
from ess.domain.auth.model import SessionRecord
from ess.domain.errors import ServiceUnavailable

# INCR and the expiry in one step on the server: no two processes can read the same count, and a window that
# starts with the first hit keeps its end however many hits follow. A key that somehow lost its expiry gets one.
_HIT: Final = """
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('TTL', KEYS[1]) == -1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return count
"""
# Take one back without touching the window's end; at zero the key goes.
_RELEASE: Final = """
local count = redis.call('DECR', KEYS[1])
if count <= 0 then
  redis.call('DEL', KEYS[1])
end
return count
"""


@dataclass(frozen=True, slots=True)
class RedisConnection:
    """How to reach the server, from `[sessions]`; the password never appears in repr()."""

    url: str
    username: str = ""
    password: str = ""
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    connect_timeout: float = 2.0
    operation_timeout: float = 2.0
    max_connections: int = 50

    def __repr__(self) -> str:
        return f"RedisConnection(url={self.url!r})"


def connect(connection: RedisConnection) -> Redis:
    """The one client of the process; it connects on first use and keeps a pool of up to `max_connections`."""
    options: dict[str, Any] = {
        "socket_connect_timeout": connection.connect_timeout,
        "socket_timeout": connection.operation_timeout,
        "health_check_interval": 30,
    }
    if connection.username:
        options["username"] = connection.username
    if connection.password:
        options["password"] = connection.password
    if connection.url.startswith("rediss://"):
        options["ssl_cert_reqs"] = "required"
        options["ssl_check_hostname"] = True
        if connection.ca_file:
            options["ssl_ca_certs"] = connection.ca_file
        if connection.cert_file:
            options["ssl_certfile"] = connection.cert_file
            options["ssl_keyfile"] = connection.key_file or None
    # More requests than connections wait for one (up to the operation timeout) instead of failing.
    pool = BlockingConnectionPool.from_url(
        connection.url, max_connections=connection.max_connections, timeout=connection.operation_timeout, **options
    )
    return Redis.from_pool(pool)


async def check_reachable(client: Redis, connection: RedisConnection) -> None:
    """PING once; raise SharedStoreUnreachable with the address (never the password) and the reason."""
    try:
        await client.ping()
    except RedisError as exc:
        raise SharedStoreUnreachable(
            f"The session store (sessions.url = {_without_credentials(connection.url)}) does not answer: "
            f"{type(exc).__name__}: {str(exc).rstrip('.')}. Check that Redis/Valkey runs there, sessions.password "
            "and, for rediss://, sessions.ca_file."
        ) from exc


def _without_credentials(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}"


@contextlib.contextmanager
def _answers() -> Iterator[None]:
    # An outage of the store is an outage like the directory's: a 503 with a clear message, never a 500.
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as exc:
        raise ServiceUnavailable("The session store does not answer.") from exc


class RedisSessions:
    """Implements the SessionStore port; keys are `<prefix>session:<sha256 of the id>`."""

    def __init__(self, client: Redis, *, prefix: str, max_session_seconds: int) -> None:
        self._client = client
        self._prefix = prefix
        self._max_session_seconds = max_session_seconds

    def _session(self, session_id: str) -> str:
        return f"{self._prefix}session:{session_key(session_id)}"

    async def create(self, record: SessionRecord, ttl_seconds: int) -> str:
        session_id = secrets.token_urlsafe(32)
        await self.touch(session_id, record, ttl_seconds)
        index = self._prefix + sessions_of_key(record.principal.login)
        with _answers():
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.sadd(index, self._session(session_id))
                pipe.expire(index, self._max_session_seconds)
                await pipe.execute()
        return session_id

    async def of_login(self, login: str) -> list[SessionRecord]:
        index = self._prefix + sessions_of_key(login)
        with _answers():
            keys = sorted(k.decode() if isinstance(k, bytes) else str(k) for k in await self._client.smembers(index))
            raws = await self._client.mget(keys) if keys else []
            gone = [key for key, raw in zip(keys, raws, strict=True) if raw is None]
            if gone:
                await self._client.srem(index, *gone)
        found = [decode_session(raw) for raw in raws if raw is not None]
        mine = [record for record in found if record is not None and record.principal.login == login]
        return valid_sessions(mine, await self.revoked_before(login))

    async def get(self, session_id: str) -> SessionRecord | None:
        if not plausible_session_id(session_id):
            return None
        with _answers():
            raw = await self._client.get(self._session(session_id))
        return None if raw is None else decode_session(raw)

    async def touch(self, session_id: str, record: SessionRecord, ttl_seconds: int) -> None:
        with _answers():
            await self._client.set(self._session(session_id), encode_session(record), ex=max(ttl_seconds, 1))

    async def delete(self, session_id: str) -> None:
        with _answers():
            await self._client.delete(self._session(session_id))

    async def revoke_all(self, login: str, *, before: datetime) -> None:
        # Kept as long as any session could live; after that there is nothing left to revoke.
        with _answers():
            await self._client.set(
                self._prefix + revocation_key(login), before.isoformat(), ex=self._max_session_seconds
            )

    async def revoked_before(self, login: str) -> datetime | None:
        with _answers():
            raw = await self._client.get(self._prefix + revocation_key(login))
        if not raw:
            return None
        return datetime.fromisoformat(raw.decode() if isinstance(raw, bytes) else raw)

    async def remember_token(self, token_hash: str, record: SessionRecord, ttl_seconds: int) -> None:
        # NX: a forgotten (revoked) token keeps its marker; an expired entry is simply written again.
        with _answers():
            await self._client.set(
                self._prefix + token_key(token_hash), encode_session(record), ex=max(ttl_seconds, 1), nx=True
            )

    async def recall_token(self, token_hash: str) -> SessionRecord | None:
        with _answers():
            raw = await self._client.get(self._prefix + token_key(token_hash))
        return None if raw is None or raw == FORGOTTEN else decode_session(raw)

    async def forget_token(self, token_hash: str, ttl_seconds: int) -> None:
        with _answers():
            await self._client.set(self._prefix + token_key(token_hash), FORGOTTEN, ex=max(ttl_seconds, 1))


class RedisAttemptCounter:
    """Implements the AttemptCounter port with server-side scripts: exact under any number of processes and hosts."""

    def __init__(self, client: Redis, *, prefix: str) -> None:
        self._prefix = prefix + "attempts:"
        self._client = client
        self._hit = client.register_script(_HIT)
        self._release = client.register_script(_RELEASE)

    async def hit(self, key: str, window_seconds: int) -> int:
        with _answers():
            return int(await self._hit(keys=[self._prefix + key], args=[max(window_seconds, 1)]))

    async def release(self, key: str) -> None:
        with _answers():
            await self._release(keys=[self._prefix + key])

    async def clear(self, key: str) -> None:
        with _answers():
            await self._client.delete(self._prefix + key)


class SharedRedis:
    """The process's one Redis client with what the composition root needs of it: a start-up check, a readiness
    probe, the two ports, and closing at shutdown."""

    def __init__(self, connection: RedisConnection, *, prefix: str, max_session_seconds: int) -> None:
        self.connection = connection
        self.client = connect(connection)
        self.sessions = RedisSessions(self.client, prefix=prefix, max_session_seconds=max_session_seconds)
        self.attempts = RedisAttemptCounter(self.client, prefix=prefix)

    async def check(self) -> None:
        await check_reachable(self.client, self.connection)

    async def ping(self) -> None:
        with _answers():
            await self.client.ping()

    async def close(self) -> None:
        await self.client.aclose()
