"""What an authenticated read costs the database in the steady state, counted statement by statement (no timing):
the bearer token and the session come from the store, the employee is loaded once, reads take no write lock."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from ess.app import create_app
from ess.settings import Settings
from tests.conftest import make_settings
from tests.e2e.conftest import seed
from tests.e2e.helpers import PASSWORD, log_in


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    settings = make_settings(database_url, ESS_SESSIONS__STORE="file", ESS_SESSIONS__PATH=str(tmp_path / "sessions"))
    asyncio.run(seed(settings))
    return settings


@pytest.fixture
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def _read_twice(client: TestClient[Litestar], path: str, statements: list[str], **kwargs: Any) -> list[str]:
    assert client.get(path, **kwargs).status_code == 200  # the first read may book the year
    statements.clear()
    assert client.get(path, **kwargs).status_code == 200
    return [s for s in statements if not s.lstrip().upper().startswith(("COMMIT", "ROLLBACK"))]


def test_the_balance_api_with_a_token_reads_at_most_three_statements(settings: Settings, statements: list[str]) -> None:
    with TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as client:
        answer = client.post("/api/v1/auth/token", json={"username": "anna.schmidt", "password": PASSWORD})
        bearer = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        # A request with days: its days come in the same statement as the request.
        today = datetime.now(UTC).date()
        monday = today + timedelta(days=7 - today.weekday())
        body = {"start": monday.isoformat(), "end": (monday + timedelta(days=1)).isoformat()}
        assert client.post("/api/v1/me/leave-requests", json=body, headers=bearer).status_code == 201
        seen = _read_twice(client, "/api/v1/me/vacation/balance", statements, headers=bearer)
    assert not [s for s in seen if "api_tokens" in s or "local_accounts" in s]  # the token came from the store
    assert len([s for s in seen if re.search(r"FROM employees\b", s)]) == 1  # the employee, loaded once
    assert not [s for s in seen if "BEGIN IMMEDIATE" in s]  # a read takes no write lock
    assert not [s for s in seen if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) <= 3


def test_the_vacation_page_with_a_session_reads_at_most_three_statements(
    settings: Settings, statements: list[str]
) -> None:
    with TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as client:
        log_in(client, "anna.schmidt", PASSWORD)
        seen = _read_twice(client, "/vacation", statements)
    # The caller's record is loaded once; the team colleagues the substitute is picked from (`employees AS mate`)
    # come in the statement that reads the requests, not in one of their own.
    assert len([s for s in seen if re.search(r"FROM employees\b(?! AS )", s)]) == 1
    assert len([s for s in seen if "employees AS mate" in s]) == 1
    assert [s for s in seen if "employees AS mate" in s and "leave_requests" in s]
    assert not [s for s in seen if "BEGIN IMMEDIATE" in s]
    assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) <= 3
