"""Single sign-on with OpenID Connect against a real provider (panva's certified oidc-provider on Node.js, see
tests/harness/oidc.py) and the real `ess serve` on the local directory: the browser signs in through the provider
and logs out of both; over HTTP a forged state, a disabled and an unknown account are refused with plain words; an
access token of the provider buys an API token; HR may no longer use its password once SSO is on; every login is
audited with its method."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DEMO_PASSWORD, STARTUP_TIMEOUT_S, _ess, _is_live, _run_cli, _server_env, _stop
from tests.e2e.test_browser import assert_no_axe_violations
from tests.harness.oidc import OidcProvider, form_action, running_oidc_provider
from tests.harness.ports import free_port

EMPLOYEE = "markus.weber"
HR = "hanna.berger"


@dataclass
class SsoWorld:
    base_url: str
    provider: OidcProvider
    database: Path


@pytest.fixture(scope="module")
def world() -> Iterator[SsoWorld]:
    """The provider (with ESS registered as its client) and ESS configured for it; HR must use single sign-on."""
    with tempfile.TemporaryDirectory(prefix="ess-sso-") as tmp:
        workdir = Path(tmp)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        with running_oidc_provider(
            redirect_uris=[f"{base_url}/login/oidc/callback"],
            post_logout_redirect_uris=[f"{base_url}/login?logged_out=1"],
            workdir=workdir,
        ) as provider:
            env = {**_server_env(workdir, port), **provider.settings_env(), "ESS_SSO__SSO_ONLY_ROLES": '["hr"]'}
            _run_cli(["db", "upgrade"], env, workdir)
            _run_cli(["demo", "seed"], env, workdir)
            log_path = workdir / "server.log"
            with log_path.open("wb") as log:
                process = subprocess.Popen(_ess("serve"), env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
                try:
                    deadline = time.monotonic() + STARTUP_TIMEOUT_S
                    while not _is_live(base_url):
                        if process.poll() is not None or time.monotonic() > deadline:
                            pytest.fail(f"ess serve did not start:\n{log_path.read_text(errors='replace')}")
                        time.sleep(0.1)
                    yield SsoWorld(base_url=base_url, provider=provider, database=workdir / "ess.db")
                finally:
                    _stop(process)


def provider_sign_in(client: httpx.Client, start: httpx.Response, login: str) -> httpx.Response:
    """Through the provider's login and consent pages (its development login takes any login name)."""
    page = start
    for _step in range(4):
        if 'name="prompt" value="login"' in page.text:
            page = client.post(form_action(page), data={"prompt": "login", "login": login, "password": "x"})
        elif 'name="prompt" value="consent"' in page.text:
            page = client.post(form_action(page), data={"prompt": "consent"})
        else:
            return page
    return page


@contextmanager
def sso_session(world: SsoWorld, login: str) -> Iterator[tuple[httpx.Client, httpx.Response]]:
    """A client that signed in through the provider, and the page it landed on."""
    with httpx.Client(base_url=world.base_url, follow_redirects=True, timeout=30) as client:
        start = client.get("/login/oidc", params={"next": "/profile"})
        yield client, provider_sign_in(client, start, login)


def audit_logins(world: SsoWorld) -> list[tuple[str, str, dict[str, str]]]:
    with sqlite3.connect(world.database) as db:
        rows = db.execute(
            "SELECT actor, outcome, details FROM audit_events WHERE action = 'auth.login' ORDER BY id"
        ).fetchall()
    return [
        (actor, outcome, json.loads(details) if isinstance(details, str) else details)
        for actor, outcome, details in rows
    ]


def test_sign_in_through_the_provider_opens_a_session_and_is_audited(world: SsoWorld) -> None:
    with sso_session(world, EMPLOYEE) as (client, landed):
        assert landed.status_code == 200
        assert "sso-continue" in landed.text  # the same-site step after the provider's redirect
        profile = client.get("/profile")
        assert profile.status_code == 200
        assert str(profile.url).endswith("/profile")
    assert (EMPLOYEE, "success", {"channel": "web", "method": "oidc"}) in audit_logins(world)


def test_a_forged_state_is_refused_in_plain_words(world: SsoWorld) -> None:
    with httpx.Client(base_url=world.base_url, follow_redirects=False, timeout=30) as client:
        client.get("/login/oidc")  # a pending sign-in in this browser
        answer = client.get("/login/oidc/callback", params={"code": "stolen", "state": "not-this-browsers"})
        assert answer.status_code == 401
        assert "nicht mehr gültig" in answer.text or "no longer valid" in answer.text
        assert client.get("/profile").status_code in {302, 303}


def test_a_disabled_account_cannot_sign_in_through_the_provider(world: SsoWorld) -> None:
    with sqlite3.connect(world.database) as db:
        db.execute("UPDATE local_accounts SET disabled = 1 WHERE login = 'sophie.becker'")
    try:
        with sso_session(world, "sophie.becker") as (client, landed):
            assert landed.status_code == 401
            assert "deaktiviert" in landed.text or "disabled" in landed.text
            assert "/login" in str(client.get("/profile").url)
    finally:
        with sqlite3.connect(world.database) as db:
            db.execute("UPDATE local_accounts SET disabled = 0 WHERE login = 'sophie.becker'")
    assert ("sophie.becker", "denied", {"channel": "web", "method": "oidc", "reason": "disabled"}) in audit_logins(
        world
    )


def test_an_account_unknown_to_the_directory_is_refused(world: SsoWorld) -> None:
    with sso_session(world, "mallory.nobody") as (_client, landed):
        assert landed.status_code == 401
        assert "kein ESS-Konto" in landed.text or "no ESS account" in landed.text


def test_an_access_token_of_the_provider_buys_an_api_token(world: SsoWorld) -> None:
    access_token = provider_access_token(world, EMPLOYEE)
    with httpx.Client(base_url=world.base_url, timeout=30) as client:
        answer = client.post("/api/v1/auth/token/oidc", json={"access_token": access_token})
        assert answer.status_code == 200, answer.text
        bearer = answer.json()["access_token"]
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {bearer}"})
        assert me.status_code == 200
        assert me.json()["login"] == EMPLOYEE
        refused = client.post("/api/v1/auth/token/oidc", json={"access_token": access_token[:-4] + "AAAA"})
        assert refused.status_code == 401
        assert refused.json()["code"] == "sso_refused"
    assert (EMPLOYEE, "success", {"channel": "api", "method": "oidc_access_token"}) in audit_logins(world)


def test_hr_must_use_single_sign_on_once_it_is_on(world: SsoWorld) -> None:
    with httpx.Client(base_url=world.base_url, timeout=30) as client:
        hr = client.post("/api/v1/auth/token", json={"username": HR, "password": DEMO_PASSWORD})
        assert hr.status_code == 401
        assert hr.json()["code"] == "sso_required"
        employee = client.post("/api/v1/auth/token", json={"username": EMPLOYEE, "password": DEMO_PASSWORD})
        assert employee.status_code == 200
        # A wrong password says nothing about the rule.
        wrong = client.post("/api/v1/auth/token", json={"username": HR, "password": "wrong-password-123"})
        assert wrong.json()["code"] == "authentication_failed"
    with sso_session(world, HR) as (client, _landed):
        assert client.get("/profile").status_code == 200


def provider_access_token(world: SsoWorld, login: str) -> str:
    """An access token as another intranet app would get one."""
    return world.provider.tokens(login, redirect_uri=f"{world.base_url}/login/oidc/callback")["access_token"]


@pytest.mark.browser
def test_the_browser_signs_in_through_the_provider_and_logs_out_of_both(world: SsoWorld, browser: Browser) -> None:
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    try:
        page: Page = context.new_page()
        page.goto(f"{world.base_url}/login?next=/profile")
        sso_button = page.locator("#sso-login")
        expect(sso_button).to_have_text(re.compile("test provider"))
        assert_no_axe_violations(page)
        page.set_viewport_size({"width": 390, "height": 844})  # a phone: the button must not scroll sideways
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.set_viewport_size({"width": 1280, "height": 900})
        sso_button.click()
        page.locator("input[name=login]").fill(EMPLOYEE)
        page.locator("input[name=password]").fill("anything")
        page.locator("button.login-submit").click()
        page.locator("button.login-submit").click()  # the provider's consent: "Continue"
        expect(page).to_have_url(f"{world.base_url}/profile")

        page.locator("form.logout button").click()
        expect(page).to_have_url(re.compile(r"/login\?logged_out=1&provider=1$"))
        assert_no_axe_violations(page)
        page.locator("#provider-logout").click()
        page.locator("button[autofocus], button[type=submit]").first.click()  # the provider asks: sign out?
        expect(page).to_have_url(re.compile(r"/login\?logged_out=1"))
        assert page.context.request.get(f"{world.base_url}/profile", max_redirects=0).status in {302, 303}
    finally:
        context.close()


def test_a_password_change_ends_the_single_sign_on_sessions_too(world: SsoWorld) -> None:
    login = "anna.schmidt"
    with sso_session(world, login) as (browser, _landed):
        assert browser.get("/profile").status_code == 200
        with httpx.Client(base_url=world.base_url, timeout=30) as api:
            token = api.post("/api/v1/auth/token", json={"username": login, "password": DEMO_PASSWORD})
            changed = api.post(
                "/api/v1/me/password",
                json={"current_password": DEMO_PASSWORD, "new_password": "Wolkenkratzer-Nebel-2031"},
                headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            )
            assert changed.status_code in {200, 204}, changed.text
        after = browser.get("/profile")
        assert "/login" in str(after.url)
