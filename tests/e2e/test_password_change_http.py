"""Changing a password over HTTP (API and login page) on the local directory, a real slapd and a real Samba AD DC."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import ldap3
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import update

from ess.adapters.sql.tables import LocalAccountRow
from ess.app import create_app
from ess.bootstrap import build_container
from ess.settings import Settings
from tests.conftest import make_settings
from tests.e2e.helpers import app_at_a_window_start
from tests.e2e.test_ldap_login import CSRF_INPUT, _hire, ldap_settings, log_in
from tests.harness.directory import DirectoryServer
from tests.harness.slapd import POLICY_BASE_DN, POLICY_DN, USER_BASE_DN

PASSWORD = "Grüße aus Zürich 🔑 2026"
# The acceptance examples (issue 6): refused with their reasons, and a passphrase of 64 lower-case characters.
ELEVEN = "kV9#mQ2&xZ7"
PASSPHRASE = "lila wolken ziehen langsam ueber den stillen see am abend hinweg"
NEW_PASSWORD = "ein neuer satz fuer die anmeldung am montag"
_numbers = itertools.count(1)


@dataclass
class Account:
    kind: str
    settings: Settings
    login: str
    server: DirectoryServer | None

    def force_must_change(self) -> None:
        if self.server is not None:
            self.server.force_must_change(self.login)
            return

        async def flag() -> None:
            container = build_container(self.settings)
            try:
                assert container.engine is not None
                async with container.engine.begin() as connection:
                    await connection.execute(
                        update(LocalAccountRow).where(LocalAccountRow.login == self.login).values(must_change=True)
                    )
            finally:
                await container.close()

        asyncio.run(flag())


async def _provision_local(settings: Settings, login: str) -> None:
    container = build_container(settings)
    try:
        assert container.local_directory is not None
        await container.local_directory.provision(login, password=PASSWORD, email=f"{login}@example-ess.test")
    finally:
        await container.close()


@pytest.fixture(params=["local", "openldap", "activedirectory"])
def account(request: pytest.FixtureRequest, sqlite_url: str) -> Account:
    login = f"pw.lena{next(_numbers)}"  # AD logins (sAMAccountName) have at most 20 characters
    if request.param == "local":
        settings = make_settings(sqlite_url)
        asyncio.run(_provision_local(settings, login))
        server = None
    else:
        server = request.getfixturevalue("slapd" if request.param == "openldap" else "samba")
        server.add_user(login, PASSWORD, given_name="Lena", surname="Ldap", mail=f"{login}@example-ess.test")
        settings = ldap_settings(sqlite_url, server)
    asyncio.run(_hire(settings, login))
    return Account(request.param, settings, login, server)


@pytest.fixture
def client(account: Account) -> Iterator[TestClient[Litestar]]:
    with TestClient(app=create_app(account.settings), base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


def token_for(client: TestClient[Litestar], login: str, password: str) -> str | None:
    response = client.post("/api/v1/auth/token", json={"username": login, "password": password})
    return str(response.json()["access_token"]) if response.status_code == 200 else None


def change(client: TestClient[Litestar], token: str, current: str, new: str) -> Any:
    return client.post(
        "/api/v1/me/password",
        json={"current_password": current, "new_password": new},
        headers={"Authorization": f"Bearer {token}"},
    )


def codes(response: Any) -> list[str]:
    return [error["code"] for error in response.json()["errors"]]


def test_the_policy_is_public_and_has_no_secrets(client: TestClient[Litestar]) -> None:
    response = client.get("/api/v1/password/policy")
    assert response.status_code == 200
    body = response.json()
    assert body["min_length"] == 12
    assert body["max_length"] >= 128
    assert body["composition_rules"] is False
    assert body["blocklist"] is True
    assert body["blocklist_entries"] >= 100_000
    assert body["breach_check"] is False
    assert body["normalisation"] == "NFC"


def test_acceptance_refusals_with_reasons_and_a_64_character_passphrase(
    client: TestClient[Litestar], account: Account
) -> None:
    """`Password1!`, the own login and 11 characters are refused with their reasons; a 64-character passphrase of
    lower-case words is accepted by ESS and by the directory; the old password and token stop working."""
    assert len(PASSPHRASE) == 64
    assert PASSPHRASE.lower() == PASSPHRASE
    token = token_for(client, account.login, PASSWORD)
    assert token is not None

    refused = change(client, token, PASSWORD, "Password1!")
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert codes(refused) == ["too_short", "blocklisted"]
    assert all(error["message"] for error in refused.json()["errors"])

    own_login = change(client, token, PASSWORD, account.login)
    assert own_login.status_code == 422
    assert "contains_context" in codes(own_login)

    eleven = change(client, token, PASSWORD, ELEVEN)
    assert (eleven.status_code, codes(eleven)) == (422, ["too_short"])

    wrong_current = change(client, token, "not the current one", PASSPHRASE)
    assert (wrong_current.status_code, wrong_current.json()["code"]) == (401, "wrong_current_password")

    # Nothing was changed by the refusals: the token and the old password still work.
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    accepted = change(client, token, PASSWORD, PASSPHRASE)
    assert accepted.status_code == 204
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert token_for(client, account.login, PASSWORD) is None
    assert token_for(client, account.login, PASSPHRASE) is not None


def test_the_change_needs_a_bearer_token(client: TestClient[Litestar]) -> None:
    response = client.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": PASSPHRASE})
    assert response.status_code == 401


def _csrf(client: TestClient[Litestar], path: str = "/login") -> str:
    match = CSRF_INPUT.search(client.get(path).text)
    assert match is not None
    return match.group(1)


def _expired_step(client: TestClient[Litestar], login: str, current: str, new: str, repeat: str | None = None) -> Any:
    return client.post(
        "/login/expired-password",
        data={
            "_csrf_token": _csrf(client),
            "username": login,
            "current_password": current,
            "new_password": new,
            "new_password_repeat": new if repeat is None else repeat,
        },
        follow_redirects=False,
    )


def test_a_must_change_password_is_changed_from_the_login_page(client: TestClient[Litestar], account: Account) -> None:
    account.force_must_change()
    response = client.post(
        "/login",
        data={"_csrf_token": _csrf(client), "username": account.login, "password": PASSWORD, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 200
    assert 'action="/login/expired-password"' in response.text
    assert "ess_session" not in response.headers.get("set-cookie", "")

    # CSRF protects the step like every form.
    no_csrf = client.post(
        "/login/expired-password",
        data={"username": account.login, "current_password": PASSWORD, "new_password": NEW_PASSWORD},
        follow_redirects=False,
    )
    assert no_csrf.status_code == 403

    wrong = _expired_step(client, account.login, "not the current one", NEW_PASSWORD)
    assert wrong.status_code == 401
    weak = _expired_step(client, account.login, PASSWORD, "Password1!")
    assert weak.status_code == 422
    assert "mindestens 12 Zeichen" in weak.text  # German by default, every reason shown
    assert "häufiges Passwort" in weak.text

    done = _expired_step(client, account.login, PASSWORD, NEW_PASSWORD)
    assert done.status_code == 303
    assert done.headers["location"] == "/login?password_changed=1"
    assert "ess_session" not in done.headers.get("set-cookie", "")  # no automatic login
    assert client.get("/", follow_redirects=False).status_code == 303  # still logged out
    assert "Ihr neues Passwort ist gespeichert" in client.get("/login?password_changed=1").text

    assert log_in(client, account.login, PASSWORD) == 401
    assert log_in(client, account.login, NEW_PASSWORD) == 303


def test_the_expired_step_is_throttled_like_the_login(account: Account) -> None:
    account.force_must_change()
    with TestClient(app=app_at_a_window_start(account.settings), base_url="http://127.0.0.1:8000") as client:
        statuses = [_expired_step(client, account.login, f"wrong {n}", NEW_PASSWORD).status_code for n in range(6)]
        # Like a stranger's login: 2 tries at once, the third later in the window.
        assert statuses == [401, 401, 429, 429, 429, 429]
        # The right password does not get through either while the strangers' share is spent.
        assert _expired_step(client, account.login, PASSWORD, NEW_PASSWORD).status_code == 429


@pytest.fixture
def short_lived_policy(slapd: DirectoryServer) -> Iterator[str]:
    """An OpenLDAP password policy whose passwords expire after one second (pwdMaxAge=1), no grace logins."""
    dn = f"cn=expires-fast{next(_numbers)},{POLICY_BASE_DN}"
    with slapd.admin_connection() as conn:  # type: ignore[attr-defined]
        ok = conn.add(
            dn,
            ["device", "pwdPolicy"],
            {"pwdAttribute": "userPassword", "pwdMaxAge": "1", "pwdGraceAuthNLimit": "0", "pwdAllowUserChange": "TRUE"},
        )
        assert ok, conn.result
    yield dn


def test_an_expired_openldap_password_is_changed_from_the_login_page(
    slapd: DirectoryServer, sqlite_url: str, short_lived_policy: str
) -> None:
    """pwdMaxAge expiry (ppolicy bind control error passwordExpired), which LTB SSP cannot handle (#96)."""
    login = f"pw.exp{next(_numbers)}"
    slapd.add_user(login, PASSWORD, given_name="Ella", surname="Expired", mail=f"{login}@example-ess.test")
    dn = f"uid={login},{USER_BASE_DN}"
    with slapd.admin_connection() as conn:  # type: ignore[attr-defined]
        assert conn.modify(dn, {"pwdPolicySubentry": [(ldap3.MODIFY_REPLACE, [short_lived_policy])]}), conn.result
    settings = ldap_settings(sqlite_url, slapd)
    asyncio.run(_hire(settings, login))
    time.sleep(2.1)  # let the one-second maximum age pass (waiting, not a timing assertion)
    with TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as client:
        first = client.post(
            "/login",
            data={"_csrf_token": _csrf(client), "username": login, "password": PASSWORD, "next": "/"},
            follow_redirects=False,
        )
        assert first.status_code == 200
        assert 'action="/login/expired-password"' in first.text
        assert _expired_step(client, login, PASSWORD, NEW_PASSWORD).status_code == 303
        # Back to the normal policy so the new password does not expire within the second again.
        with slapd.admin_connection() as conn:  # type: ignore[attr-defined]
            assert conn.modify(dn, {"pwdPolicySubentry": [(ldap3.MODIFY_REPLACE, [POLICY_DN])]}), conn.result
        assert log_in(client, login, NEW_PASSWORD) == 303
        assert log_in(client, login, PASSWORD) == 401


def test_one_normalisation_for_set_and_bind_and_no_truncation(client: TestClient[Litestar], account: Account) -> None:
    """NFC before the directory on change and on login: a password set with a decomposed "é" (e + U+0301) logs in
    typed with the composed "é" (U+00E9) and the other way round; and the whole password counts (PW-03, PW-72)."""
    decomposed = "Cafe\u0301 au lait im Grünen, bitte 2026"
    composed = "Café au lait im Grünen, bitte 2026"
    token = token_for(client, account.login, PASSWORD)
    assert token is not None
    assert change(client, token, PASSWORD, decomposed).status_code == 204
    assert token_for(client, account.login, composed) is not None
    assert token_for(client, account.login, decomposed) is not None

    long_password = ("Ein langer Satz über den Schwarzwald und den Bodensee! " * 2)[:100]
    token = token_for(client, account.login, composed)
    assert token is not None
    assert change(client, token, decomposed, long_password).status_code == 204
    assert token_for(client, account.login, long_password[:99]) is None
    assert token_for(client, account.login, long_password) is not None


@pytest.mark.parametrize("account", ["openldap", "activedirectory"], indirect=True)  # the embedded one keeps no history
def test_the_directorys_own_refusal_is_explained(client: TestClient[Litestar], account: Account) -> None:
    """Back to the previous password: ESS's policy has no history, the directory's has (slapd pwdInHistory=3,
    Samba history 3). OpenLDAP names the rule through the ppolicy control; AD only says "policy"."""
    token = token_for(client, account.login, PASSWORD)
    assert token is not None
    assert change(client, token, PASSWORD, NEW_PASSWORD).status_code == 204
    token = token_for(client, account.login, NEW_PASSWORD)
    assert token is not None
    refused = client.post(
        "/api/v1/me/password",
        json={"current_password": NEW_PASSWORD, "new_password": PASSWORD},
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "de"},
    )
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    if account.kind == "openldap":
        assert error["code"] == "directory_in_history"
        assert "schon einmal verwendet" in error["message"]
    else:
        assert error["code"] == "directory_policy"
        assert "zu kurz, einem früheren Passwort zu ähnlich" in error["message"]
    assert token_for(client, account.login, NEW_PASSWORD) is not None  # nothing changed
