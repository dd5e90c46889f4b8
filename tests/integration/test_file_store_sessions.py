"""Sessions and login counters in the default file store: exact under parallel load, alive across restarts."""

from __future__ import annotations

import asyncio
import os
import re
import time
from dataclasses import replace
from pathlib import Path

from litestar.testing import TestClient
from sqlalchemy import select

from ess.adapters.sql.tables import LocalAccountRow
from ess.adapters.stores import ABANDONED_WRITE_SECONDS, LocalFileStore, file_name_of
from ess.app import create_app
from ess.bootstrap import build_container
from ess.domain.auth.login import LogIn, log_in, remember_device
from ess.domain.auth.model import Principal
from ess.domain.errors import AuthenticationFailed, Throttled
from ess.settings import Settings
from tests.conftest import make_settings
from tests.factories import employee
from tests.fakes import FixedClock

PASSWORD = "a long enough passphrase"


def file_store_settings(sqlite_url: str, tmp_path: Path) -> Settings:
    return make_settings(sqlite_url, ESS_SESSIONS__STORE="file", ESS_SESSIONS__PATH=str(tmp_path / "sessions"))


async def _provision(settings: Settings) -> None:
    container = build_container(settings)
    try:
        assert container.local_directory is not None
        await container.local_directory.provision("anna", password=PASSWORD)
        async with container.new_uow() as uow:
            await uow.employees.save_all([employee(personnel_number="P1", login="anna")])
            await uow.commit()
    finally:
        await container.close()


async def test_parallel_wrong_passwords_cannot_pass_the_limit(sqlite_url: str, tmp_path: Path) -> None:
    settings = file_store_settings(sqlite_url, tmp_path)
    await _provision(settings)
    container = build_container(settings)
    auth = replace(container.auth, clock=FixedClock())  # at the start of a counting window
    device = remember_device(Principal("anna", "Anna", frozenset()), deps=auth) or ""
    try:
        results = await asyncio.gather(
            *(
                log_in(
                    LogIn(login="anna", password=f"wrong {i}", client=f"203.0.113.{i % 2}", device=device), deps=auth
                )
                for i in range(40)
            ),
            return_exceptions=True,
        )
        assert container.engine is not None
        async with container.engine.connect() as connection:
            failures = (await connection.execute(select(LocalAccountRow.failed_attempts))).scalar_one()
    finally:
        await container.close()
    throttled = sum(isinstance(r, Throttled) for r in results)
    checked = sum(isinstance(r, AuthenticationFailed) and not isinstance(r, Throttled) for r in results)
    # From the owner's known device (which may use the whole budget), from two addresses at once.
    assert (checked, throttled) == (5, 35)
    assert failures == 5  # only five wrong passwords ever reached the directory


def test_a_session_in_the_file_store_survives_a_restart(sqlite_url: str, tmp_path: Path) -> None:
    settings = file_store_settings(sqlite_url, tmp_path)
    asyncio.run(_provision(settings))
    with TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as first:
        token = re.search(r'name="_csrf_token" value="([^"]+)"', first.get("/login").text)
        assert token is not None
        first.post("/login", data={"_csrf_token": token.group(1), "username": "anna", "password": PASSWORD})
        cookies = dict(first.cookies)
        assert first.get("/", follow_redirects=False).status_code == 200
    stored = list((tmp_path / "sessions" / "sessions").iterdir())
    assert len(stored) == 2  # the session, and anna's index of her sessions (for her data export)
    assert all(cookies["ess_session"] not in f.name for f in stored)  # the store keeps a hash, not the cookie value
    with TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000", cookies=cookies) as second:
        assert second.get("/", follow_redirects=False).status_code == 200


def test_sweeping_leaves_writes_in_progress_alone_and_drops_expired_and_unreadable_entries(tmp_path: Path) -> None:
    """Another process sharing the folder may be between creating and renaming a temporary file when this one sweeps:
    its partial content is no reason to fail (it ended the sweeper and the shutdown of a second instance), nor to
    delete it. Expired and damaged entries go; a temporary file whose writer died long ago goes too."""
    store = LocalFileStore(tmp_path, create_directories=True)

    async def store_two() -> None:
        await store.set("kept", b"value", expires_in=600)
        await store.set("expired", b"value", expires_in=1)

    asyncio.run(store_two())
    in_progress = tmp_path / f"{'a' * 64}.tmp1x2y3z"
    in_progress.write_bytes(b"\x93")  # the first byte of a msgpack array: truncated
    abandoned = tmp_path / f"{'b' * 64}.tmp4u5v6w"
    abandoned.write_bytes(b"")
    old = time.time() - ABANDONED_WRITE_SECONDS - 60
    os.utime(abandoned, (old, old))
    damaged = tmp_path / ("c" * 64)
    damaged.write_bytes(b"\x93\x01")
    time.sleep(1.1)

    asyncio.run(store.delete_expired())

    assert asyncio.run(store.get("kept")) == b"value"
    assert asyncio.run(store.get("expired")) is None
    assert in_progress.exists()
    assert not abandoned.exists()
    assert not damaged.exists()
    assert len([path for path in tmp_path.iterdir() if "." not in path.name]) == 1


def test_a_damaged_entry_reads_as_missing(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path, create_directories=True)
    asyncio.run(store.set("session", b"value", expires_in=600))
    (only,) = tmp_path.iterdir()
    only.write_bytes(only.read_bytes()[:3])
    assert asyncio.run(store.get("session")) is None


def test_reads_find_what_litestar_wrote_drop_what_expired_and_renew_on_request(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path, create_directories=True)

    async def scenario() -> None:
        await store.set("token:live", b"record", expires_in=600)
        await store.set("token:short", b"record", expires_in=1)
        assert (tmp_path / file_name_of("token:live")).exists()  # the name Litestar's writes use
        assert store._path_from_key("token:live").name == file_name_of("token:live")
        assert await store.get("token:live") == b"record"
        assert await store.get("token:missing") is None
        await asyncio.sleep(1.1)
        assert await store.get("token:short") is None
        assert not (tmp_path / file_name_of("token:short")).exists()  # an expired entry is removed when read
        assert await store.get("token:live", renew_for=3600) == b"record"
        assert 600 < await store.expires_in("token:live") <= 3600

    asyncio.run(scenario())
