"""The pages in headless Chromium: login, language switch, screenshots, axe, keyboard, no JavaScript, logout."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser

USER = "anna.schmidt"
WRONG_PASSWORD_USER = "katharina.vogt"  # no other browser test logs in as her (julia.schneider: the deputy test)
NAME = "Anna Schmidt"
LOGIN_BUTTON = re.compile(r"^(Anmelden|Log in)$")
PHONE = {"width": 390, "height": 844}


def log_in(page: Page, username: str = USER, password: str = DEMO_PASSWORD, *, succeeds: bool = True) -> None:
    """Fill and submit the login form the way a person does."""
    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.get_by_role("button", name=LOGIN_BUTTON).click()
    if succeeds:
        page.wait_for_url(lambda url: urlsplit(url).path != "/login")


def use_language(context: BrowserContext, base_url: str, lang: str) -> None:
    """The cookie the header's language switch sets."""
    context.add_cookies([{"name": "ess_lang", "value": lang, "url": base_url}])


def axe_report(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    at {target}: {node['html']}")
            if node.get("failureSummary"):
                lines.append("      " + node["failureSummary"].replace("\n", "\n      "))
    return "\n".join(lines)


def assert_no_axe_violations(page: Page) -> None:
    violations: list[dict[str, Any]] = Axe().run(page).response["violations"]
    if violations:
        pytest.fail(f"axe found {len(violations)} violation(s) on {page.url}:\n{axe_report(violations)}", pytrace=False)


def test_login_switch_to_english_and_see_own_data(page: Page, artifacts_dir: Path) -> None:
    log_in(page)

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_contain_text(NAME)

    page.get_by_role("button", name="English").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {NAME}!")
    expect(page.get_by_role("button", name="English")).to_have_attribute("aria-current", "true")
    page.screenshot(path=artifacts_dir / "start-en.png", full_page=True)

    page.set_viewport_size(PHONE)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.screenshot(path=artifacts_dir / "start-en-phone.png", full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the start page scrolls sideways by {overflow}px on a {PHONE['width']}px phone"
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("link", name="My data").first.click()

    expect(page).to_have_url(re.compile(r"/profile$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My personal data")
    main = page.locator("main")
    expect(main).to_contain_text("anna.schmidt@example-ess.test")
    expect(main).to_contain_text("P10011")
    expect(main).to_contain_text("Türkenstraße 57")
    expect(main).to_contain_text("14.08.1990")


def test_axe_check_can_fail(page: Page) -> None:
    page.goto("/login")
    page.evaluate("document.querySelector('label[for=username]').removeAttribute('for')")

    violations = Axe().run(page).response["violations"]

    assert "label" in {violation["id"] for violation in violations}
    assert "#username" in axe_report(violations)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_login_page_has_no_axe_violations(page: Page, context: BrowserContext, live_server: str, lang: str) -> None:
    use_language(context, live_server, lang)
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert_no_axe_violations(page)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_login_error_has_no_axe_violations(page: Page, context: BrowserContext, live_server: str, lang: str) -> None:
    use_language(context, live_server, lang)
    # Someone no other test here logs in as: wrong passwords count against the login's throttling window, and
    # the next test's correct password from a new browser would otherwise depend on where in the window it runs.
    log_in(page, WRONG_PASSWORD_USER, password="not-the-password", succeeds=False)

    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(page.locator("#username")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#username")).to_have_value(WRONG_PASSWORD_USER)
    expect(page.locator("#password")).to_have_value("")
    assert_no_axe_violations(page)


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("path", ["/", "/profile", "/contact"])
def test_signed_in_pages_have_no_axe_violations(
    page: Page, context: BrowserContext, live_server: str, lang: str, path: str
) -> None:
    use_language(context, live_server, lang)
    log_in(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text(NAME)

    page.goto(path)

    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert_no_axe_violations(page)


def test_first_tab_reaches_skip_link_which_moves_focus_to_main(page: Page) -> None:
    page.goto("/login")

    page.keyboard.press("Tab")
    skip_link = page.locator("a.skip-link")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()

    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()

    page.keyboard.press("Tab")
    expect(page.locator("#username")).to_be_focused()


def test_login_works_without_javascript(browser: Browser, live_server: str) -> None:
    context = browser.new_context(base_url=live_server, locale="de-DE", java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page)
        expect(page).to_have_url(re.compile(r"/$"))
        expect(page.get_by_role("heading", level=1)).to_contain_text(NAME)

        page.get_by_role("button", name="English").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {NAME}!")
    finally:
        context.close()


def test_logout_returns_to_login_and_closes_the_session(page: Page, live_server: str) -> None:
    log_in(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text(NAME)

    page.get_by_role("button", name=re.compile(NAME)).click()

    expect(page).to_have_url(re.compile(r"/login\?logged_out=1$"))
    expect(page.get_by_role("button", name=LOGIN_BUTTON)).to_be_visible()
    expect(page.get_by_role("status")).to_be_visible()

    response = page.goto("/")
    assert response is not None
    assert response.request.redirected_from is not None, "GET / after logout was not redirected"
    expect(page).to_have_url(re.compile(r"/login(\?|$)"))
    expect(page.get_by_role("button", name=LOGIN_BUTTON)).to_be_visible()
