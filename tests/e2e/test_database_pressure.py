"""Database pressure is a 503 with Retry-After, never a 500 (a lock held elsewhere, a statement over its time limit),
and a body ESS cannot read (malformed or too deeply nested JSON) is a 400."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import asyncpg
import pytest
from litestar.testing import TestClient

from ess.app import create_app
from tests.conftest import fresh_database_url, make_settings, migrate
from tests.e2e.conftest import seed
from tests.e2e.helpers import PASSWORD, log_in

API_LOGIN = "/api/v1/auth/token"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"[" * 100_000, "nested too deeply"),
        (b'{"username": ' + b"[" * 5_000 + b"]" * 5_000 + b', "password": "x"}', "nested too deeply"),
        (b'{"username": "anna.schmidt", "password":', "truncated"),
        (b"\xff\xfe", "malformed"),
    ],
)
def test_a_body_that_cannot_be_read_is_a_400_problem(sqlite_url: str, body: bytes, detail: str) -> None:
    with TestClient(app=create_app(make_settings(sqlite_url))) as client:
        answer = client.post(API_LOGIN, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "invalid_request"
    assert detail in answer.json()["detail"]


def test_a_sqlite_write_lock_held_elsewhere_is_a_503_with_retry_after(tmp_path: Path) -> None:
    """The measured case: a long import holds SQLite; other requests answered 500 'database is locked' after 60 s."""
    database = tmp_path / "ess.db"
    url = f"sqlite+aiosqlite:///{database}"
    migrate(url)
    settings = make_settings(url, ESS_DATABASE__LOCK_TIMEOUT_SECONDS="0.5")
    asyncio.run(seed(settings))
    with TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as client:
        token = client.post(API_LOGIN, json={"username": "anna.schmidt", "password": PASSWORD}).json()["access_token"]
        log_in(client, "markus.weber", PASSWORD)
        importer = sqlite3.connect(database, isolation_level=None)
        try:
            importer.execute("BEGIN IMMEDIATE")  # what `ess hr import` of 100,000 rows holds for a while
            started = time.monotonic()
            api = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            page = client.get("/profile", follow_redirects=False)
            waited = time.monotonic() - started
        finally:
            importer.execute("ROLLBACK")
            importer.close()
        assert (api.status_code, api.headers["retry-after"]) == (503, "5")
        assert api.json()["code"] == "service_unavailable"
        assert page.status_code == 503, (page.status_code, page.text[:300])
        assert page.headers["retry-after"] == "5"
        assert "Temporarily unavailable" in page.text or "Vorübergehend" in page.text
        assert waited < 30  # the lock timeout, not the old 60 s
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


@pytest.mark.postgres
@pytest.mark.parametrize("limit", ["lock_timeout", "statement_timeout"])
def test_postgres_lock_and_statement_timeouts_are_a_503(
    tmp_path: Path, request: pytest.FixtureRequest, limit: str
) -> None:
    url = fresh_database_url("postgres", tmp_path, request)
    migrate(url)
    timeouts = (
        {"ESS_DATABASE__LOCK_TIMEOUT_SECONDS": "0.3", "ESS_DATABASE__STATEMENT_TIMEOUT_SECONDS": "0"}
        if limit == "lock_timeout"
        else {"ESS_DATABASE__LOCK_TIMEOUT_SECONDS": "20", "ESS_DATABASE__STATEMENT_TIMEOUT_SECONDS": "0.3"}
    )
    settings = make_settings(url, **timeouts)
    asyncio.run(seed(settings))

    async def scenario() -> int:
        holder = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            async with holder.transaction():
                # A maintenance job holding the audit log: every login writes an audit event and must wait.
                await holder.execute("LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE")
                with TestClient(app=create_app(settings)) as client:
                    answer = await asyncio.to_thread(
                        client.post, API_LOGIN, json={"username": "anna.schmidt", "password": PASSWORD}
                    )
                assert answer.headers["retry-after"] == "5"
                return answer.status_code
        finally:
            await holder.close()

    assert asyncio.run(scenario()) == 503
