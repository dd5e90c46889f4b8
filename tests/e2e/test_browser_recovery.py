"""The forgotten-password flow in headless Chromium against the real `ess serve`: local directory, slapd and
Samba AD, mails through a real SMTP server; axe on every recovery page; no token in the server's log."""

from __future__ import annotations

import asyncio
import itertools
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from ess.bootstrap import build_container
from tests.conftest import make_settings
from tests.e2e.conftest import (
    DEMO_PASSWORD,
    STARTUP_TIMEOUT_S,
    _ess,
    _is_live,
    _run_cli,
    _server_env,
    _stop,
)
from tests.e2e.recovery_helpers import link_in, mails_to
from tests.e2e.test_browser import assert_no_axe_violations
from tests.factories import employee
from tests.harness.directory import DirectoryServer
from tests.harness.ports import free_port
from tests.harness.smtp import SmtpSink, running_smtp_sink

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Ein langer neuer Satz als Passwort 2026"
_numbers = itertools.count(1)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh German browser profile; each test starts its own server, so no base URL is set."""
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 800})
    try:
        yield context.new_page()
    finally:
        context.close()


@dataclass
class Live:
    base_url: str
    log: Path
    sink: SmtpSink


def _directory_env(server: DirectoryServer) -> dict[str, str]:
    endpoint = server.endpoint
    return {
        "ESS_DIRECTORY__KIND": endpoint.kind,
        "ESS_DIRECTORY__LDAP__URIS": f'["{endpoint.uris[0]}"]',
        "ESS_DIRECTORY__LDAP__START_TLS": "true" if endpoint.start_tls else "false",
        "ESS_DIRECTORY__LDAP__CA_FILE": str(endpoint.ca_file),
        "ESS_DIRECTORY__LDAP__BIND_DN": endpoint.bind_dn,
        "ESS_DIRECTORY__LDAP__BIND_PASSWORD": endpoint.bind_password,
        "ESS_DIRECTORY__LDAP__USER_BASE_DN": endpoint.user_base_dn,
        "ESS_DIRECTORY__LDAP__GROUP_BASE_DN": endpoint.group_base_dn,
        "ESS_DIRECTORY__LDAP__USER_FILTER": endpoint.user_filter,
        "ESS_DIRECTORY__LDAP__LOGIN_ATTRIBUTE": endpoint.login_attribute,
        "ESS_DIRECTORY__LDAP__EMAIL_ATTRIBUTE": endpoint.email_attribute,
    }


async def _hire(database_url: str, login: str, private_email: str) -> None:
    """The employee as HR imports them: the private e-mail from HR counts as verified."""
    container = build_container(make_settings(database_url))
    try:
        async with container.new_uow() as uow:
            await uow.employees.save_all(
                [
                    employee(
                        personnel_number=f"R{next(_numbers)}",
                        login=login,
                        first_name="Rita",
                        last_name="Reset",
                        work_email=f"{login}@example-ess.test",
                        private_email=private_email,
                    )
                ]
            )
            await uow.commit()
    finally:
        await container.close()


@contextmanager
def ess_server(extra_env: dict[str, str], *, demo: bool, hire: tuple[str, str] | None = None) -> Iterator[Live]:
    """`ess serve` on a fresh SQLite database, mailing through an SMTP sink."""
    with tempfile.TemporaryDirectory(prefix="ess-recovery-") as tmp, running_smtp_sink() as sink:
        workdir = Path(tmp)
        port = free_port()
        env = {
            **_server_env(workdir, port),
            "ESS_MAIL__BACKEND": "smtp",
            "ESS_MAIL__SMTP_HOST": sink.host,
            "ESS_MAIL__SMTP_PORT": str(sink.port),
            **extra_env,
        }
        _run_cli(["db", "upgrade"], env, workdir)
        if demo:
            _run_cli(["demo", "seed"], env, workdir)
        if hire is not None:
            # Playwright's sync API owns this thread's event loop: seed from another thread.
            with ThreadPoolExecutor(1) as pool:
                pool.submit(asyncio.run, _hire(env["ESS_DATABASE_URL"], *hire)).result()
        log_path = workdir / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(_ess("serve"), env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
            base_url = env["ESS_BASE_URL"]
            try:
                deadline = time.monotonic() + STARTUP_TIMEOUT_S
                while not _is_live(base_url):
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"ess serve did not start:\n{log_path.read_text(errors='replace')}", pytrace=False)
                    time.sleep(0.1)
                yield Live(base_url=base_url, log=log_path, sink=sink)
            finally:
                _stop(process)


def reset_in_browser(page: Page, live: Live, login: str, private_email: str, *, axe: bool) -> str:
    """Request, read the mail, open the link, set a password; returns the token."""
    page.goto(f"{live.base_url}/password/forgot")
    if axe:
        assert_no_axe_violations(page)
    page.locator("#login").fill(login)
    page.get_by_role("button", name="Link senden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sehen Sie in Ihr Postfach")
    if axe:
        assert_no_axe_violations(page)
    url, token = link_in(mails_to(live.sink, private_email, subject="Passwort zurücksetzen")[-1])
    assert url.startswith(live.base_url + "/password/reset/")

    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Neues Passwort wählen")
    if axe:
        assert_no_axe_violations(page)
    page.locator("#new_password").fill("zu kurz")
    page.locator("#new_password_repeat").fill("zu kurz")
    page.get_by_role("button", name="Neues Passwort speichern").click()
    expect(page.locator(".error-summary")).to_be_visible()
    if axe:
        assert_no_axe_violations(page)  # the form with its error messages
    page.locator("#new_password").fill(NEW_PASSWORD)
    page.locator("#new_password_repeat").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Neues Passwort speichern").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Passwort geändert")
    if axe:
        assert_no_axe_violations(page)

    page.goto(url)  # a second use fails
    expect(page.get_by_role("heading", level=1)).to_have_text("Link ungültig")
    if axe:
        assert_no_axe_violations(page)
    return token


def assert_logs_in(page: Page, live: Live, login: str, password: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live.base_url}/login")
    page.locator("#username").fill(login)
    page.locator("#password").fill(password)
    page.get_by_role("button", name=re.compile(r"^(Anmelden|Log in)$")).click()
    page.wait_for_url(lambda url: not url.endswith("/login"))


def test_reset_unlock_enrolment_and_helpdesk_pages_on_the_local_directory(page: Page) -> None:
    with ess_server({}, demo=True) as live:
        token = reset_in_browser(page, live, "anna.schmidt", "anna.schmidt@example.org", axe=True)
        assert_logs_in(page, live, "anna.schmidt", NEW_PASSWORD)

        # Security and recovery (enrolment): the TOTP set-up shows the QR code inline.
        page.goto(f"{live.base_url}/security")
        expect(page.get_by_role("heading", level=1)).to_have_text("Sicherheit / Wiederherstellung")
        assert_no_axe_violations(page)
        page.locator("#totp-password").fill(NEW_PASSWORD)
        page.get_by_role("button", name="App einrichten").click()
        expect(page.get_by_role("img", name="QR-Code für die Authenticator-App")).to_be_visible()
        assert_no_axe_violations(page)

        # The unlock page behind an unlock link.
        page.context.clear_cookies()
        page.goto(f"{live.base_url}/password/forgot?purpose=unlock")
        page.locator("#login").fill("markus.weber")
        page.get_by_role("button", name="Link senden").click()
        url, _ = link_in(mails_to(live.sink, "weber.markus@example.org", subject="entsperren")[-1])
        page.goto(url)
        expect(page.get_by_role("heading", level=1)).to_have_text("Konto entsperren")
        assert_no_axe_violations(page)
        page.get_by_role("button", name="Konto entsperren").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Konto entsperrt")

        # The helpdesk view.
        assert_logs_in(page, live, "lukas.wagner", DEMO_PASSWORD)
        page.goto(f"{live.base_url}/helpdesk?login=anna.schmidt")
        expect(page.locator("#account-heading")).to_contain_text("anna.schmidt")
        assert_no_axe_violations(page)
        page.get_by_text("Link zum Zurücksetzen senden").click()  # opens the confirmation (no JavaScript needed)
        page.get_by_role("button", name="Ja, Link senden").click()
        expect(page.locator(".notice")).to_be_visible()
        assert_no_axe_violations(page)

        server_log = live.log.read_text(errors="replace")
        assert "/password/reset/[redacted]" in server_log  # the access log saw the link, without its token
        assert token not in server_log
        assert NEW_PASSWORD not in server_log


@pytest.fixture(params=["openldap", "activedirectory"])
def directory_server(request: pytest.FixtureRequest) -> DirectoryServer:
    server: DirectoryServer = request.getfixturevalue("slapd" if request.param == "openldap" else "samba")
    return server


def test_reset_in_the_browser_against_slapd_and_samba(page: Page, directory_server: DirectoryServer) -> None:
    login = f"rita.reset{next(_numbers)}"  # at most 20 characters for sAMAccountName
    private = f"{login}@example.org"
    old_password = "Alter Satz als Passwort 2025"
    directory_server.add_user(login, old_password, given_name="Rita", surname="Reset", mail=f"{login}@example-ess.test")
    with ess_server(_directory_env(directory_server), demo=False, hire=(login, private)) as live:
        token = reset_in_browser(page, live, login, private, axe=False)
        assert_logs_in(page, live, login, NEW_PASSWORD)  # no must-change left behind by the service account's reset
        expect(page.get_by_role("heading", level=1)).to_contain_text("Rita")
        assert token not in live.log.read_text(errors="replace")
