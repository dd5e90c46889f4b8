"""The help center in headless Chromium: "resturlaub" on the start page answers with one's own figure and leads to
the leave page that shows the same; articles, search and help pages pass axe and fit a phone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.test_browser import PHONE, assert_no_axe_violations, log_in, use_language

pytestmark = pytest.mark.browser

# Nobody else in the browser tests signs in as her, so no other test changes her balance.
USER = "sophie.becker"


def no_sideways_scroll(page: Page, what: str) -> None:
    page.set_viewport_size(PHONE)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{what} scrolls sideways by {overflow}px on a {PHONE['width']}px phone"
    page.set_viewport_size({"width": 1280, "height": 800})


def test_resturlaub_on_the_start_page_shows_the_number_and_leads_to_the_leave_page(
    page: Page, artifacts_dir: Path
) -> None:
    log_in(page, USER)
    expect(page).to_have_url(re.compile(r"/$"))
    page.get_by_role("main").get_by_role("searchbox").fill("resturlaub")
    page.get_by_role("main").get_by_role("button", name="Suchen").click()

    expect(page).to_have_url(re.compile(r"/search\?q=resturlaub"))
    answer = page.locator("li.result-answer").first
    expect(answer).to_contain_text("Ihr Resturlaub")
    sentence = answer.locator(".snippet").inner_text()
    days = re.search(r"Sie haben noch ([\d,.]+) Tage Urlaub", sentence)
    assert days is not None, sentence
    assert_no_axe_violations(page)
    page.screenshot(path=str(artifacts_dir / "search-resturlaub.png"), full_page=True)
    no_sideways_scroll(page, "the search page")

    answer.get_by_role("link", name="Ihr Resturlaub").click()
    expect(page).to_have_url(re.compile(r"/vacation$"))
    expect(page.locator("dl.balance dd.total")).to_have_text(f"{days.group(1)} Tage")


def test_the_header_search_finds_an_article_and_the_vote_is_counted(page: Page) -> None:
    log_in(page, USER)
    page.get_by_role("search").get_by_role("searchbox").fill("Kenwort vergesen")
    page.get_by_role("search").get_by_role("button", name="Suchen").click()
    results = page.locator("ol.results")
    expect(results).to_contain_text("Passwort vergessen")
    page.locator("li.result-article").filter(has_text="Passwort vergessen").first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Passwort vergessen")
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Ja").click()
    expect(page.get_by_role("status")).to_contain_text("Danke für Ihre Rückmeldung")


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize(
    "path",
    ["/help", "/help/bankverbindung-aendern", "/search?q=Ferien", "/", "/tour", "/tour?step=4", "/password/forgot"],
)
def test_help_pages_pass_axe_and_fit_a_phone(
    page: Page, context: BrowserContext, live_server: str, lang: str, path: str
) -> None:
    use_language(context, live_server, lang)
    log_in(page, USER)
    page.goto(path)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert_no_axe_violations(page)
    no_sideways_scroll(page, path)


def test_help_works_without_login_and_without_javascript(browser: Browser, live_server: str) -> None:
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_role("search").get_by_role("searchbox").fill("Konto gesperrt")
        page.get_by_role("search").get_by_role("button").click()
        expect(page.locator("li.result-action").first).to_contain_text(re.compile("Konto entsperren|Unlock account"))
        page.locator("li.result-action").first.get_by_role("link").click()
        expect(page).to_have_url(re.compile(r"/password/forgot\?purpose=unlock$"))
    finally:
        context.close()
