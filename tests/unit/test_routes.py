"""Routes with faked services: the app's HTTP behaviour in situations real systems make hard to stage."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from httpx import Response
from litestar import Litestar
from litestar.stores.memory import MemoryStore
from litestar.testing import TestClient

from ess.adapters.holidays_calendar import HolidaysCalendar
from ess.adapters.mail import FileMailer
from ess.adapters.recovery import BackgroundJobs
from ess.adapters.regions import HolidaysRegions
from ess.adapters.stores import StoreAttemptCounter, StoreSessions
from ess.app import create_app
from ess.bootstrap import Adapters, wire
from ess.domain.hr.model import Role
from ess.domain.passwords.model import PasswordPolicy
from tests.conftest import make_settings
from tests.factories import employee
from tests.fakes import FakeDirectory, FakeUnitOfWork, FixedClock

PASSWORD = "a long enough passphrase"


CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')


class World:
    def __init__(self, mail_folder: Path) -> None:
        self.settings = make_settings("sqlite+aiosqlite:///:memory:")
        self.clock = FixedClock()
        self.directory = FakeDirectory()
        self.uow = FakeUnitOfWork()
        self.container = wire(
            self.settings,
            Adapters(
                clock=self.clock,
                new_uow=lambda: FakeUnitOfWork(self.uow.committed),  # type: ignore[arg-type,return-value]
                directory=self.directory,
                sessions=StoreSessions(MemoryStore(), max_session_seconds=36000),
                attempts=StoreAttemptCounter(MemoryStore()),
                mailer=FileMailer(mail_folder, from_address="ess@example.test"),
                calendar=HolidaysCalendar(),
                report=UnusedLeaveReport(),
                regions=HolidaysRegions(),
                jobs=BackgroundJobs(),
            ),
        )
        # The routes under test check these rules, not the shipped blocklist's size.
        self.container.passwords = replace(self.container.passwords, policy=PasswordPolicy())
        asyncio.run(self._hire())
        self.directory.add("anna", PASSWORD)
        self.directory.add("admin", PASSWORD, groups=frozenset({"ess-admins"}))

    async def _hire(self) -> None:
        async with self.uow as uow:
            await uow.employees.save_all(
                [
                    employee(personnel_number="P1", login="anna", first_name="Anna", last_name="Schmidt"),
                    employee(personnel_number="P2", login="boss", roles=frozenset({Role.HR})),
                ]
            )
            await uow.commit()

    def app(self) -> Litestar:
        return create_app(self.settings, container=self.container)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path / "mail")


@pytest.fixture
def client(world: World) -> Iterator[TestClient[Litestar]]:
    with TestClient(app=world.app(), base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


def csrf(client: TestClient[Litestar], path: str = "/login") -> str:
    match = CSRF_INPUT.search(client.get(path).text)
    assert match is not None
    return match.group(1)


def log_in(client: TestClient[Litestar], login: str, password: str) -> Response:
    return client.post(
        "/login",
        data={"_csrf_token": csrf(client), "username": login, "password": password, "next": "/"},
        follow_redirects=False,
    )


def login_error(html: str) -> str:
    match = re.search(r'role="alert" id="login-error">\s*<p>(.*?)</p>', html, re.S)
    assert match is not None
    return match.group(1)


def test_with_the_directory_down_login_fails_with_a_plain_message(client: TestClient[Litestar], world: World) -> None:
    world.directory.available = False
    page = log_in(client, "anna", PASSWORD)
    assert page.status_code == 503
    message = login_error(page.text)
    assert "Bitte versuchen Sie es in einigen Minuten erneut" in message
    assert "directory" not in message.lower()
    api = client.post("/api/v1/auth/token", json={"username": "anna", "password": PASSWORD})
    assert api.status_code == 503
    assert api.headers["content-type"] == "application/problem+json"
    ready = client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["directory"] == "unavailable"
    world.directory.available = True
    assert log_in(client, "anna", PASSWORD).status_code == 303
    assert client.get("/health/ready").status_code == 200


def test_a_disabled_account_gets_the_same_answer_as_a_wrong_password(
    client: TestClient[Litestar], world: World
) -> None:
    world.directory.accounts["anna"].disabled = True
    disabled = log_in(client, "anna", PASSWORD)
    wrong = log_in(client, "anna", "not the password")
    assert disabled.status_code == wrong.status_code == 401
    assert login_error(disabled.text) == login_error(wrong.text)


def test_an_idle_session_ends_and_an_active_one_lasts(client: TestClient[Litestar], world: World) -> None:
    log_in(client, "anna", PASSWORD)
    for _ in range(5):
        world.clock.advance(timedelta(minutes=25))
        assert client.get("/password", follow_redirects=False).status_code == 200
    world.clock.advance(timedelta(minutes=31))
    assert client.get("/password", follow_redirects=False).status_code == 303


def test_the_absolute_timeout_ends_even_an_active_session(client: TestClient[Litestar], world: World) -> None:
    log_in(client, "anna", PASSWORD)
    for _ in range(39):
        world.clock.advance(timedelta(minutes=15))
        assert client.get("/password", follow_redirects=False).status_code == 200
    world.clock.advance(timedelta(minutes=15))
    assert client.get("/password", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/logout", {}),
        ("/language", {"lang": "en", "next": "/"}),
        ("/password", {"current_password": PASSWORD, "new_password": "x" * 20, "new_password_repeat": "x" * 20}),
    ],
)
def test_every_form_needs_its_csrf_token(
    client: TestClient[Litestar], world: World, path: str, data: dict[str, str]
) -> None:
    log_in(client, "anna", PASSWORD)
    assert client.post(path, data=data, follow_redirects=False).status_code == 403
    assert world.directory.accounts["anna"].password == PASSWORD
    assert client.get("/password", follow_redirects=False).status_code == 200  # still logged in: logout did not happen


def test_a_password_change_ends_other_sessions_but_keeps_this_one(client: TestClient[Litestar], world: World) -> None:
    log_in(client, "anna", PASSWORD)
    phone_session = client.cookies.get("ess_session", domain="127.0.0.1")
    client.cookies.clear()
    log_in(client, "anna", PASSWORD)  # the laptop
    token = client.post("/api/v1/auth/token", json={"username": "anna", "password": PASSWORD}).json()
    world.clock.advance(timedelta(seconds=5))
    changed = client.post(
        "/password",
        data={
            "_csrf_token": csrf(client, "/password"),
            "current_password": PASSWORD,
            "new_password": "the new passphrase 2026",
            "new_password_repeat": "the new passphrase 2026",
        },
    )
    assert changed.status_code == 200
    assert client.get("/password", follow_redirects=False).status_code == 200  # the laptop got a fresh session
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.get("/api/v1/me", headers=auth).status_code == 401
    assert phone_session
    client.cookies.set("ess_session", phone_session, domain="127.0.0.1")
    assert client.get("/password", follow_redirects=False).status_code == 303


def test_the_wrong_current_password_is_shown_at_its_field(client: TestClient[Litestar], world: World) -> None:
    log_in(client, "anna", PASSWORD)
    page = client.post(
        "/password",
        data={
            "_csrf_token": csrf(client, "/password"),
            "current_password": "wrong",
            "new_password": "the new passphrase 2026",
            "new_password_repeat": "the new passphrase 2026",
        },
    )
    assert page.status_code == 401
    assert 'id="current_password-error-1"' in page.text
    assert "Das aktuelle Passwort ist nicht korrekt." in page.text
    assert world.directory.accounts["anna"].password == PASSWORD


def test_accounts_without_an_hr_record_have_no_profile(client: TestClient[Litestar]) -> None:
    log_in(client, "admin", PASSWORD)
    assert client.get("/password", follow_redirects=False).status_code == 200
    assert client.get("/profile").status_code == 404
    token = client.post("/api/v1/auth/token", json={"username": "admin", "password": PASSWORD}).json()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token['access_token']}"}).json()
    assert me["roles"] == ["admin"]
    assert me["personnel_number"] is None


def test_a_new_login_in_the_same_browser_ends_the_previous_session(client: TestClient[Litestar], world: World) -> None:
    log_in(client, "anna", PASSWORD)
    first = client.cookies.get("ess_session", domain="127.0.0.1")
    log_in(client, "anna", PASSWORD)
    second = client.cookies.get("ess_session", domain="127.0.0.1")
    assert first
    assert first != second
    client.cookies.set("ess_session", first, domain="127.0.0.1")
    assert client.get("/password", follow_redirects=False).status_code == 303


class UnusedLeaveReport:
    async def rows(self, as_of: object, personnel_numbers: object = None) -> list[object]:
        raise AssertionError("the routes under test do not use the report")

    async def people(self, as_of: object) -> list[object]:
        raise AssertionError("the routes under test do not use the report")
