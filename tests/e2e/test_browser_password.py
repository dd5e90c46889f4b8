"""The password pages in headless Chromium: an expired password changed from the login page, the strength meter,
every reason shown, axe, and the change page without JavaScript. Own server: these tests change passwords."""

from __future__ import annotations

import re
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import DEMO_PASSWORD, _run_cli, _server_env, _start_server, _stop
from tests.e2e.test_browser import assert_no_axe_violations

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Morgens ein Kaffee am Rhein, abends Tee"
OTHER_PASSWORD = "Zwei Radfahrer treffen sich am Deich"


@pytest.fixture(scope="module")
def password_server() -> Iterator[tuple[str, Path]]:
    """A real `ess serve` with the demo company; its database file is returned so a test can flag an account."""
    with tempfile.TemporaryDirectory(prefix="ess-e2e-pw-") as tmp:
        workdir = Path(tmp)
        setup_env = _server_env(workdir, port=0)
        _run_cli(["db", "upgrade"], setup_env, workdir)
        _run_cli(["demo", "seed"], setup_env, workdir)
        with (workdir / "server.log").open("wb") as log:
            process, base_url = _start_server(workdir, log)
            try:
                yield base_url, workdir / "ess.db"
            finally:
                _stop(process)


@pytest.fixture
def pw_context(browser: Browser, password_server: tuple[str, Path]) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=password_server[0], locale="de-DE", viewport={"width": 1280, "height": 800})
    try:
        yield context
    finally:
        context.close()


def flag_must_change(database: Path, login: str) -> None:
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE local_accounts SET must_change = 1 WHERE login = ?", (login,))


def test_an_expired_password_is_changed_from_the_login_page_in_the_browser(
    pw_context: BrowserContext, password_server: tuple[str, Path], artifacts_dir: Path
) -> None:
    flag_must_change(password_server[1], "markus.weber")
    page = pw_context.new_page()
    page.goto("/login")
    page.locator("#username").fill("markus.weber")
    page.locator("#password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Neues Passwort festlegen")
    expect(page.locator("#username")).to_have_value("markus.weber")
    assert_no_axe_violations(page)

    page.locator("#current_password").fill(DEMO_PASSWORD)
    page.locator("#new_password").fill("Password1!")
    meter_text = page.locator(".strength .strength-text")
    expect(meter_text).to_have_text("zu kurz")  # the meter speaks in words, not only in colour
    page.locator("#new_password").fill(NEW_PASSWORD)
    expect(meter_text).not_to_have_text("zu kurz")
    page.locator("#new_password").fill("Password1!")
    page.locator("#new_password_repeat").fill("Password1!")
    page.get_by_role("button", name="Neues Passwort speichern").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("mindestens 12 Zeichen")
    expect(summary).to_contain_text("häufiges Passwort")
    expect(page.locator("#new_password")).to_have_attribute("aria-invalid", "true")
    assert_no_axe_violations(page)
    page.screenshot(path=artifacts_dir / "password-expired-rejected.png", full_page=True)

    page.locator("#current_password").fill(DEMO_PASSWORD)
    page.locator("#new_password").fill(NEW_PASSWORD)
    page.locator("#new_password_repeat").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Neues Passwort speichern").click()

    expect(page).to_have_url(re.compile(r"/login\?password_changed=1$"))
    expect(page.get_by_role("status")).to_contain_text("Ihr neues Passwort ist gespeichert")
    page.locator("#username").fill("markus.weber")
    page.locator("#password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Markus")


def test_the_change_page_works_without_javascript(
    browser: Browser, password_server: tuple[str, Path], artifacts_dir: Path
) -> None:
    context = browser.new_context(base_url=password_server[0], locale="de-DE", java_script_enabled=False)
    try:
        page: Page = context.new_page()
        page.goto("/login")
        page.locator("#username").fill("anna.schmidt")
        page.locator("#password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Anmelden").click()
        page.wait_for_url(lambda url: urlsplit(url).path == "/")
        page.goto("/password")
        expect(page.locator(".strength")).to_be_hidden()  # no meter without JavaScript; the server decides
        expect(page.locator("#password-rules")).to_contain_text("Mindestens 12 Zeichen")
        page.locator("#current_password").fill(DEMO_PASSWORD)
        page.locator("#new_password").fill(OTHER_PASSWORD)
        page.locator("#new_password_repeat").fill(OTHER_PASSWORD)
        page.get_by_role("button", name="Passwort ändern").click()
        expect(page.get_by_role("status")).to_contain_text("Ihr Passwort wurde geändert")
    finally:
        context.close()


def test_the_change_page_with_javascript_meter_and_show_toggle(pw_context: BrowserContext, artifacts_dir: Path) -> None:
    page = pw_context.new_page()
    page.goto("/login")
    page.locator("#username").fill("admin")
    page.locator("#password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(lambda url: urlsplit(url).path != "/login")
    page.goto("/password")
    # Password managers and paste are welcome (ASVS 2.1.11): the right autocomplete hints, no paste blocking.
    expect(page.locator("#current_password")).to_have_attribute("autocomplete", "current-password")
    expect(page.locator("#new_password")).to_have_attribute("autocomplete", "new-password")
    expect(page.locator("#new_password_repeat")).to_have_attribute("autocomplete", "new-password")
    assert page.locator("[onpaste]").count() == 0
    expect(page.locator("#current_password")).to_have_attribute("type", "password")
    page.locator("#new_password").fill("lila wolken ziehen langsam ueber den see")
    expect(page.locator(".strength .strength-text")).to_have_text(re.compile(r"^(gut|sehr gut|mittel)$"))
    page.get_by_label("Passwörter anzeigen").check()
    expect(page.locator("#new_password")).to_have_attribute("type", "text")
    assert_no_axe_violations(page)
    page.screenshot(path=artifacts_dir / "password-change-meter.png", full_page=True)
