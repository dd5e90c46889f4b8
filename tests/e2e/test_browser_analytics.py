"""Self-service analytics in headless Chromium: a leave request ends with "Hat das Ihr Anliegen gelöst?", answered
without JavaScript; HR's dashboard (SVG charts with tables) passes axe and fits a phone; an employee gets no
dashboard."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from ess.routes.rendering import COMPANY_ZONE
from tests.e2e.test_browser import assert_no_axe_violations, log_in
from tests.e2e.test_browser_help import no_sideways_scroll

pytestmark = pytest.mark.browser

# Nobody else in the browser tests signs in as them.
EMPLOYEE = "jonas.lange"
HR = "daniel.schaefer"


def _next_monday() -> str:
    today = datetime.now(COMPANY_ZONE).date()
    return (today + timedelta(days=7 - today.weekday() + 14)).isoformat()


def test_a_leave_request_asks_whether_it_solved_the_concern_without_javascript(
    browser: Browser, live_server: str, artifacts_dir: Path
) -> None:
    context = browser.new_context(base_url=live_server, locale="de-DE", java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, EMPLOYEE)
        page.goto("/vacation")
        page.locator("#start").fill(_next_monday())
        page.locator("#end").fill(_next_monday())
        page.locator("form[action='/vacation/requests'] button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/vacation\?created=1"))
        question = page.locator("form.solved-form")
        expect(question.locator("legend")).to_have_text("Hat das Ihr Anliegen gelöst?")
        page.screenshot(path=str(artifacts_dir / "analytics-solved-question.png"), full_page=True)
        question.locator("#solved-comment").fill("Ging schnell")
        question.get_by_role("button", name="Teilweise").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Danke für Ihre Antwort")
        page.goto("/vacation")
        expect(page.locator("form.solved-form")).to_have_count(0)  # asked once
    finally:
        context.close()


def test_the_question_and_the_thanks_pass_axe(page: Page) -> None:
    log_in(page, EMPLOYEE)
    page.goto("/vacation")
    page.locator("#start").fill((date.fromisoformat(_next_monday()) + timedelta(days=1)).isoformat())
    page.locator("#end").fill((date.fromisoformat(_next_monday()) + timedelta(days=1)).isoformat())
    page.locator("form[action='/vacation/requests'] button[type=submit]").click()
    expect(page.locator("form.solved-form")).to_have_count(1)
    assert_no_axe_violations(page)
    no_sideways_scroll(page, "the leave page with the question")
    page.locator("form.solved-form").get_by_role("button", name="Ja").click()
    assert_no_axe_violations(page)


def test_hrs_dashboard_passes_axe_fits_a_phone_and_employees_get_none(page: Page, artifacts_dir: Path) -> None:
    log_in(page, EMPLOYEE)
    assert page.goto("/analytics").status == 403  # type: ignore[union-attr]
    page.context.clear_cookies()
    log_in(page, HR)
    menu = page.get_by_role("navigation", name="Hauptnavigation")
    menu.locator("details.more-menu summary").click()  # the desktop header keeps it under "Mehr"
    menu.get_by_role("link", name="Auswertung").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Auswertung der Selbstbedienung")
    expect(page.locator("table").first).to_contain_text("Urlaubsantrag")
    expect(page.locator("table").first).not_to_contain_text("Passwort vergessen")
    assert_no_axe_violations(page)
    page.screenshot(path=str(artifacts_dir / "analytics-dashboard.png"), full_page=True)
    no_sideways_scroll(page, "the analytics dashboard")
