"""The second factor at login in headless Chromium against the real `ess serve`: an HR account is led to set up an
authenticator app right after its password, adds a passkey (Chromium's virtual authenticator, over CDP), then logs in
with the passkey and with a TOTP code; axe on every page of the flow."""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DEMO_PASSWORD, STARTUP_TIMEOUT_S, _ess, _is_live, _run_cli, _server_env, _stop
from tests.e2e.test_browser import assert_no_axe_violations
from tests.harness.ports import free_port

pytestmark = pytest.mark.browser

LOGIN = "hanna.berger"  # HR in the demo company


@contextmanager
def ess_on_localhost() -> Iterator[str]:
    """`ess serve` with the demo company, addressed as http://localhost:<port>: a WebAuthn relying party needs a
    host name (not an IP address) and a secure context (https, or localhost)."""
    with tempfile.TemporaryDirectory(prefix="ess-mfa-") as tmp:
        workdir = Path(tmp)
        port = free_port()
        base_url = f"http://localhost:{port}"
        env = {
            **_server_env(workdir, port),
            "ESS_BASE_URL": base_url,
            "ESS_SECURITY__SECOND_FACTOR_ROLES": '["hr", "helpdesk", "admin"]',
        }
        _run_cli(["db", "upgrade"], env, workdir)
        _run_cli(["demo", "seed"], env, workdir)
        log_path = workdir / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(_ess("serve"), env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + STARTUP_TIMEOUT_S
                while not _is_live(f"http://127.0.0.1:{port}"):
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"ess serve did not start:\n{log_path.read_text(errors='replace')}", pytrace=False)
                    time.sleep(0.1)
                yield base_url
            finally:
                _stop(process)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


def add_virtual_authenticator(page: Page) -> None:
    """A platform authenticator with user verification, as Chromium's DevTools protocol offers for tests."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


def password_step(page: Page, base_url: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base_url}/login?next=/profile")
    page.locator("#username").fill(LOGIN)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()


def next_code(totp: pyotp.TOTP, steps: int) -> str:
    """A code of a later time step than any used before (a step counts once; one step of drift is accepted)."""
    return totp.at(datetime.now(UTC) + timedelta(seconds=30 * steps))


def test_enrol_totp_after_the_password_add_a_passkey_and_log_in_with_each(page: Page) -> None:
    with ess_on_localhost() as base_url:
        add_virtual_authenticator(page)

        # HR needs a second factor: right after the password comes the enrolment, no session yet.
        password_step(page, base_url)
        expect(page).to_have_url(re.compile(r"/login/enrol\?next=%2Fprofile$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Zweiten Faktor einrichten")
        assert_no_axe_violations(page)
        totp = pyotp.TOTP(page.locator("#totp-secret").inner_text())
        page.locator("#code").fill("000000" if totp.now() != "000000" else "111111")
        page.get_by_role("button", name="Aktivieren und anmelden").click()
        expect(page.locator("#code-error-1")).to_contain_text("Code ist nicht richtig")
        expect(page.locator("#code")).to_have_attribute("aria-invalid", "true")
        assert_no_axe_violations(page)
        page.locator("#code").fill(totp.now())
        page.locator("#label").fill("Diensthandy")
        page.get_by_role("button", name="Aktivieren und anmelden").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Ihre Wiederherstellungscodes")
        expect(page.locator("#recovery-codes li")).to_have_count(10)
        assert_no_axe_violations(page)
        page.get_by_role("link", name="Weiter").click()
        expect(page).to_have_url(re.compile(r"/profile$"))

        # A passkey, added on the settings page (needs JavaScript).
        page.goto(f"{base_url}/security/second-factor")
        assert_no_axe_violations(page)
        page.locator("#passkey-label").fill("Laptop")
        page.get_by_role("button", name="Passkey hinzufügen").click()
        expect(page.locator("ul.factors")).to_contain_text("Laptop")
        expect(page.locator("ul.factors")).to_contain_text("Diensthandy")

        # Log in with the passkey.
        password_step(page, base_url)
        expect(page).to_have_url(re.compile(r"/login/second-factor\?next=%2Fprofile$"))
        expect(page.get_by_role("button", name="Passkey verwenden")).to_be_visible()
        assert_no_axe_violations(page)
        sent: list[str] = []
        page.on("request", lambda r: sent.append(r.post_data or "") if r.url.endswith("/login/passkey") else None)
        page.get_by_role("button", name="Passkey verwenden").click()
        expect(page).to_have_url(re.compile(r"/profile$"))

        # The same assertion again, against a fresh challenge after a fresh password step: refused.
        password_step(page, base_url)
        csrf = page.locator("#passkey-login").get_attribute("data-csrf") or ""
        headers = {"x-csrftoken": csrf, "content-type": "application/json"}
        assert page.request.post(f"{base_url}/login/passkey/options", headers=headers, data="{}").ok
        replayed = page.request.post(f"{base_url}/login/passkey", headers=headers, data=sent[-1])
        assert replayed.status == 401
        page.goto(f"{base_url}/profile")
        expect(page).to_have_url(re.compile(r"/login"))

        # And with a code from the app, without JavaScript's help.
        password_step(page, base_url)
        page.locator("#code").fill("123")
        page.get_by_role("button", name="Bestätigen").click()
        expect(page.locator("#code-error-1")).to_contain_text("Code ist nicht richtig")
        assert_no_axe_violations(page)
        page.locator("#code").fill(next_code(totp, 1))
        page.get_by_role("button", name="Bestätigen").click()
        expect(page).to_have_url(re.compile(r"/profile$"))


def test_the_code_step_works_without_javascript(browser: Browser) -> None:
    context = browser.new_context(locale="de-DE", java_script_enabled=False)
    try:
        page = context.new_page()
        with ess_on_localhost() as base_url:
            password_step(page, base_url)
            expect(page).to_have_url(re.compile(r"/login/enrol"))
            totp = pyotp.TOTP(page.locator("#totp-secret").inner_text())
            page.locator("#code").fill(totp.now())
            page.get_by_role("button", name="Aktivieren und anmelden").click()
            expect(page.locator("#recovery-codes li")).to_have_count(10)
            password_step(page, base_url)
            expect(page.get_by_role("button", name="Passkey verwenden")).to_have_count(0)
            page.locator("#code").fill(next_code(totp, 1))
            page.locator("#remember").check()
            page.get_by_role("button", name="Bestätigen").click()
            expect(page).to_have_url(re.compile(r"/profile$"))
            # Remembered: the next login from this browser needs the password only.
            assert "ess_mfa_device" in {c["name"] for c in context.cookies()}
            context.clear_cookies(name="ess_session")
            page.goto(f"{base_url}/login?next=/profile")
            page.locator("#username").fill(LOGIN)
            page.locator("#password").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Anmelden").click()
            expect(page).to_have_url(re.compile(r"/profile$"))
    finally:
        context.close()
