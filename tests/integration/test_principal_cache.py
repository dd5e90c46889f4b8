"""The principal of an API token is kept in the shared store (no database or directory round trip per request),
and every revocation still ends it at once: two app instances (standing in for processes or hosts) share one
database and one store (file or Redis), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import delete

from ess.adapters.sql.tables import ApiTokenRow
from ess.app import create_app
from ess.bootstrap import build_container
from ess.settings import Settings
from tests.conftest import make_settings
from tests.factories import employee
from tests.harness.redis import RedisServer

PASSWORD = "a long enough passphrase"
NEW_PASSWORD = "another long enough passphrase 2"


@pytest.fixture(params=["file", "redis"])
def settings(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Settings:
    env = {"ESS_SESSIONS__STORE": request.param, "ESS_SESSIONS__PATH": str(tmp_path / "sessions")}
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis")
        env |= server.settings_env()
    settings = make_settings(database_url, **env)
    asyncio.run(_provision(settings))
    return settings


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


async def _forget_every_token_row(settings: Settings) -> None:
    container = build_container(settings)
    try:
        assert container.engine is not None
        async with container.engine.begin() as connection:
            await connection.execute(delete(ApiTokenRow))
    finally:
        await container.close()


@pytest.fixture
def two_instances(settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:  # type: ignore[type-arg]
    with (
        TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as first,
        TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as second,
    ):
        yield first, second


def _token(client: TestClient) -> dict[str, str]:  # type: ignore[type-arg]
    answer = client.post("/api/v1/auth/token", json={"username": "anna", "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_the_principal_is_kept_in_the_shared_store_for_both_instances(
    settings: Settings,
    two_instances: tuple[TestClient, TestClient],  # type: ignore[type-arg]
) -> None:
    first, second = two_instances
    bearer = _token(first)
    assert first.get("/api/v1/me", headers=bearer).status_code == 200
    # Without the token's row the database could not answer any more: both instances answer from the store.
    asyncio.run(_forget_every_token_row(settings))
    assert first.get("/api/v1/me", headers=bearer).json()["login"] == "anna"
    assert second.get("/api/v1/me", headers=bearer).json()["login"] == "anna"


def test_a_token_revoked_on_one_instance_is_refused_by_the_other_at_once(
    two_instances: tuple[TestClient, TestClient],  # type: ignore[type-arg]
) -> None:
    first, second = two_instances
    bearer = _token(first)
    assert second.get("/api/v1/me", headers=bearer).status_code == 200  # cached by the second instance's check
    assert first.delete("/api/v1/auth/token", headers=bearer).status_code == 204
    assert second.get("/api/v1/me", headers=bearer).status_code == 401
    assert first.get("/api/v1/me", headers=bearer).status_code == 401
    other = _token(first)  # a token of the same account issued afterwards is not affected
    assert second.get("/api/v1/me", headers=other).status_code == 200


def test_a_password_change_on_one_instance_ends_the_tokens_cached_by_the_other(
    two_instances: tuple[TestClient, TestClient],  # type: ignore[type-arg]
) -> None:
    first, second = two_instances
    bearer, changer = _token(first), _token(first)
    assert second.get("/api/v1/me", headers=bearer).status_code == 200
    assert first.get("/api/v1/me", headers=changer).status_code == 200
    answer = first.post(
        "/api/v1/me/password", headers=changer, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert answer.status_code == 204, answer.text
    assert second.get("/api/v1/me", headers=bearer).status_code == 401
    assert first.get("/api/v1/me", headers=changer).status_code == 401
    fresh = second.post("/api/v1/auth/token", json={"username": "anna", "password": NEW_PASSWORD})
    assert (
        first.get("/api/v1/me", headers={"Authorization": f"Bearer {fresh.json()['access_token']}"}).status_code == 200
    )
