"""Help requests in headless Chromium: a refused leave request leads to "Ich brauche Hilfe", the request carries the
error code and the request id, HR answers from its queue, and the person reads the answer and marks it solved. The
pages pass axe and fit a phone; the logged-out request works without JavaScript."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.test_browser import assert_no_axe_violations, log_in
from tests.e2e.test_browser_help import no_sideways_scroll

pytestmark = pytest.mark.browser

# Nobody else in the browser tests signs in as her.
USER = "elif.demir"
HR = "hanna.berger"


def test_refused_leave_to_an_answer_from_hr_marked_solved(
    page: Page, context: BrowserContext, artifacts_dir: Path
) -> None:
    log_in(page, USER)
    page.goto("/vacation")
    # Far more working days than anybody has: the request is refused with a reason.
    page.locator("#start").fill("2027-01-04")
    page.locator("#end").fill("2027-06-30")
    page.get_by_role("button", name="Antrag senden").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("nicht gesendet")
    need_help = summary.get_by_role("link", name="Ich brauche Hilfe")
    query = parse_qs(urlsplit(need_help.get_attribute("href") or "").query)
    error_code, request_id = query["error_code"][0], query["request_id"][0]
    assert error_code and re.fullmatch(r"[0-9a-f]{24}", request_id), query
    need_help.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Ich brauche Hilfe")
    expect(page.locator("#topic")).to_have_value("leave")
    expect(page.locator("fieldset.context")).to_contain_text(error_code)
    expect(page.locator("fieldset.context")).to_contain_text(request_id)
    page.locator("#subject").fill("Urlaubsantrag abgelehnt")
    page.get_by_role("button", name="Artikel vorschlagen").click()
    expect(page.locator("section.suggestions")).to_be_visible()
    assert_no_axe_violations(page)
    no_sideways_scroll(page, "the help request form")
    page.locator("#message").fill("Warum reicht mein Urlaub nicht? Ich dachte, ich habe noch Tage.")
    page.get_by_role("button", name="Anfrage senden").click()
    expect(page.locator("[data-status]")).to_have_text("eingegangen")
    reference = page.locator("dl.facts dd").first.inner_text()
    page.screenshot(path=str(artifacts_dir / "help-request-sent.png"), full_page=True)

    context.clear_cookies()
    log_in(page, HR)
    page.goto("/help-desk")
    assert_no_axe_violations(page)
    no_sideways_scroll(page, "the help desk queue")
    page.get_by_role("link", name=reference).click()
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text(error_code)
    expect(facts).to_contain_text(request_id)
    assert_no_axe_violations(page)
    no_sideways_scroll(page, "a help desk request")
    page.locator("#message").fill("Für 2027 stehen Ihnen 30 Tage zu; der Antrag umfasst mehr Arbeitstage.")
    page.get_by_role("button", name="Antwort senden").click()
    expect(page.locator("[data-status]")).to_have_text("beantwortet")

    context.clear_cookies()
    log_in(page, USER)
    page.goto("/help-requests")
    assert_no_axe_violations(page)
    expect(page.locator("table")).to_contain_text("beantwortet")
    page.get_by_role("link", name=reference).click()
    expect(page.locator("li.message-answer")).to_contain_text("Für 2027 stehen Ihnen 30 Tage zu")
    assert_no_axe_violations(page)
    no_sideways_scroll(page, "a help request")
    page.get_by_role("button", name="Gelöst", exact=True).click()
    expect(page.locator("[data-status]")).to_have_text("geschlossen")
    expect(page.get_by_text("Sie haben diese Anfrage als gelöst markiert.")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "help-request-solved.png"), full_page=True)


def test_the_logged_out_request_works_without_javascript(browser: Browser, live_server: str) -> None:
    context = browser.new_context(base_url=live_server, java_script_enabled=False, locale="de-DE")
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_role("link", name="Anmeldung klappt nicht? IT fragen").click()
        page.locator("#name").fill("Elif Demir")
        page.locator("#callback").fill("+49 170 0000000")
        page.locator("#message").fill("Mein Konto ist gesperrt.")
        page.get_by_role("button", name="Anfrage senden").click()
        expect(page.locator("[data-outcome=help-request-sent]")).to_be_visible()
    finally:
        context.close()


def test_articles_appear_while_typing_the_subject(page: Page) -> None:
    log_in(page, USER)
    page.goto("/help-requests/new?page=/password")
    expect(page.locator("#topic")).to_have_value("login")
    page.locator("#subject").press_sequentially("Passwort vergessen", delay=20)
    suggestions = page.locator("#suggestions section.suggestions")
    expect(suggestions).to_be_visible()
    assert_no_axe_violations(page)
    suggestions.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/help/[a-z0-9-]+$"))


def test_every_page_offers_help(page: Page) -> None:
    log_in(page, USER)
    for path in ("/", "/profile", "/help", "/gibt-es-nicht"):
        page.goto(path)
        link = page.get_by_role("link", name="Ich brauche Hilfe").last
        assert f"page={path.replace('/', '%2F')}" in (link.get_attribute("href") or ""), path
    assert_no_axe_violations(page)  # the 404 page, with the error code in its help link
    page.goto("/help-requests/logged-out")
    assert_no_axe_violations(page)
    no_sideways_scroll(page, "the logged-out help request")
