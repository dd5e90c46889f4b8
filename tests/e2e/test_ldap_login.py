"""Login through the pages and the API against a real slapd and a real Samba AD DC, including an outage."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from ess.app import create_app
from ess.bootstrap import build_container
from ess.settings import Settings
from tests.conftest import make_settings
from tests.factories import employee
from tests.harness.directory import DirectoryServer

PASSWORD = "Grüße aus Zürich 🔑 2026"
CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')
_numbers = itertools.count(1)


def ldap_settings(database_url: str, server: DirectoryServer) -> Settings:
    endpoint = server.endpoint
    return make_settings(
        database_url,
        ESS_DIRECTORY__KIND=endpoint.kind,
        ESS_DIRECTORY__LDAP__URIS=f'["{endpoint.uris[0]}"]',
        ESS_DIRECTORY__LDAP__START_TLS="true" if endpoint.start_tls else "false",
        ESS_DIRECTORY__LDAP__CA_FILE=str(endpoint.ca_file),
        ESS_DIRECTORY__LDAP__BIND_DN=endpoint.bind_dn,
        ESS_DIRECTORY__LDAP__BIND_PASSWORD=endpoint.bind_password,
        ESS_DIRECTORY__LDAP__USER_BASE_DN=endpoint.user_base_dn,
        ESS_DIRECTORY__LDAP__GROUP_BASE_DN=endpoint.group_base_dn,
        ESS_DIRECTORY__LDAP__USER_FILTER=endpoint.user_filter,
        ESS_DIRECTORY__LDAP__LOGIN_ATTRIBUTE=endpoint.login_attribute,
        ESS_DIRECTORY__LDAP__EMAIL_ATTRIBUTE=endpoint.email_attribute,
        ESS_DIRECTORY__LDAP__CONNECT_TIMEOUT_SECONDS="2",
        ESS_DIRECTORY__GROUP_ROLES='{"ess-hr": "hr"}',
    )


async def _hire(settings: Settings, login: str) -> None:
    container = build_container(settings)
    try:
        async with container.new_uow() as uow:
            await uow.employees.save_all(
                [employee(personnel_number=f"P{next(_numbers)}", login=login, first_name="Lena", last_name="Ldap")]
            )
            await uow.commit()
    finally:
        await container.close()


@pytest.fixture(params=["openldap", "activedirectory"])
def server(request: pytest.FixtureRequest) -> DirectoryServer:
    fixture: DirectoryServer = request.getfixturevalue("slapd" if request.param == "openldap" else "samba")
    return fixture


@pytest.fixture
def account(server: DirectoryServer, sqlite_url: str) -> tuple[Settings, str]:
    login = f"web.lena{next(_numbers)}"  # AD logins (sAMAccountName) have at most 20 characters
    server.add_user(
        login, PASSWORD, given_name="Lena", surname="Ldap", mail=f"{login}@example-ess.test", groups=["ess-hr"]
    )
    settings = ldap_settings(sqlite_url, server)
    asyncio.run(_hire(settings, login))
    return settings, login


@pytest.fixture
def client(account: tuple[Settings, str]) -> Iterator[TestClient[Litestar]]:
    with TestClient(app=create_app(account[0]), base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


def log_in(client: TestClient[Litestar], login: str, password: str) -> int:
    token = CSRF_INPUT.search(client.get("/login").text)
    assert token is not None
    response = client.post(
        "/login",
        data={"_csrf_token": token.group(1), "username": login, "password": password, "next": "/"},
        follow_redirects=False,
    )
    return response.status_code


def test_login_through_the_page_and_the_api(client: TestClient[Litestar], account: tuple[Settings, str]) -> None:
    _, login = account
    assert log_in(client, login.upper(), PASSWORD) == 303  # directories compare logins case-insensitively
    assert "Lena Ldap" in client.get("/").text
    token = client.post("/api/v1/auth/token", json={"username": login, "password": PASSWORD})
    assert token.status_code == 200
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}).json()
    assert me["login"] == login
    assert me["roles"] == ["employee", "hr"]  # hr from the directory group ess-hr


def test_a_wrong_password_and_injections_fail_alike_and_log_nothing_secret(
    client: TestClient[Litestar], account: tuple[Settings, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _, login = account
    assert log_in(client, login, "Kanarienvogel 4711") == 401
    for injection in ("*)(uid=*", "admin)(|(a=*", "*"):
        assert log_in(client, injection, "Kanarienvogel 4711") == 401
    assert log_in(client, "x\x00", "Kanarienvogel 4711") == 422  # a control character never gets as far as a lookup
    assert "Kanarienvogel" not in caplog.text


def test_an_outage_is_reported_and_recovered_from_without_a_restart(
    client: TestClient[Litestar], account: tuple[Settings, str], server: DirectoryServer
) -> None:
    _, login = account
    assert client.get("/health/ready").status_code == 200
    server.stop()
    try:
        ready = client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"database": "ok", "directory": "unavailable"}
        token = CSRF_INPUT.search(client.get("/login").text)
        assert token is not None
        page = client.post(
            "/login",
            data={"_csrf_token": token.group(1), "username": login, "password": PASSWORD},
            follow_redirects=False,
        )
        assert page.status_code == 503
        assert "in einigen Minuten" in page.text
    finally:
        server.start()
    assert client.get("/health/ready").status_code == 200
    assert log_in(client, login, PASSWORD) == 303
