"""The portal in headless Chromium, per role: each start page, a refused leave request, the month calendar, the
helpdesk's search and confirmations, the phone menu. Every page passes axe at 1280 px and at 390 px, and none
scrolls sideways on the phone."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.test_browser import PHONE, assert_no_axe_violations, log_in, use_language

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 800}


def check(page: Page, what: str, artifacts_dir: Path) -> None:
    """axe at both widths, no sideways scroll on the phone, the phone menu folded into one line."""
    assert_no_axe_violations(page)
    page.set_viewport_size(PHONE)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{what} scrolls sideways by {overflow}px on a {PHONE['width']}px phone"
    header = page.locator("header.site-header").bounding_box()
    assert header is not None and header["height"] < 160, f"{what}: the header takes {header} on a phone"
    assert_no_axe_violations(page)
    page.screenshot(path=str(artifacts_dir / f"portal-{what}-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


# Every item of the desktop header that is shown: brand, each menu entry (with its count), "More", search, log out,
# language.
HEADER_ITEMS = """() => [...document.querySelectorAll(
    'header.site-header .bar > *, nav.main-nav > ul > li, nav.main-nav > form')]
  .filter(e => e.getClientRects().length > 0)
  .map(e => { const r = e.getBoundingClientRect();
              return {what: (e.className || e.textContent.trim()).slice(0, 40), top: r.top, bottom: r.bottom}; })"""
# One row of the header is about 48 px high; a second row would add at least another 25.
ONE_ROW_PX = 64


def assert_one_header_row(page: Page, what: str) -> None:
    items = page.evaluate(HEADER_ITEMS)
    assert len(items) >= 8, f"{what}: the header shows only {items}"
    lowest_top, highest_bottom = max(i["top"] for i in items), min(i["bottom"] for i in items)
    assert lowest_top < highest_bottom, f"{what}: the header items are not in one row: {items}"
    header = page.locator("header.site-header").bounding_box()
    assert header is not None and header["height"] <= ONE_ROW_PX, f"{what}: the header is {header} high"
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{what}: the page scrolls sideways by {overflow}px at {DESKTOP['width']}px"
    clipped = page.evaluate("(n => n.scrollWidth - n.clientWidth)(document.querySelector('nav.main-nav'))")
    assert clipped <= 0, f"{what}: the menu needs {clipped}px more than the row leaves it"


def test_the_desktop_header_is_one_row_for_every_role_in_both_languages(
    page: Page, context: BrowserContext, live_server: str, artifacts_dir: Path
) -> None:
    """At 1280 px brand, menu with its counts, "More", search, log out and the language switch share one row, for
    the role with the most menu entries too, in German (the longer words) and English; the "More" menu opens
    without JavaScript and passes axe; on a phone the folded menu stays."""
    for login in ("anna.schmidt", "markus.weber", "hanna.berger", "lukas.wagner", "admin"):
        context.clear_cookies()
        use_language(context, live_server, "de")
        log_in(page, login)
        for lang in ("de", "en"):
            use_language(context, live_server, lang)
            page.goto("/")  # the start page: the menu with its counts
            expect(page.locator("html")).to_have_attribute("lang", lang)
            assert_one_header_row(page, f"{login} ({lang})")
    # The admin's "More" (the most entries): a <details> that opens on a click, with the other pages.
    more = page.locator("details.more-menu")
    more.locator("summary").click()
    expect(more.get_by_role("link", name="Operations")).to_be_visible()
    expect(page.locator("nav.main-nav").get_by_role("searchbox")).to_be_visible()
    assert_no_axe_violations(page)
    page.screenshot(path=str(artifacts_dir / "portal-header-more-open.png"))
    page.set_viewport_size(PHONE)
    expect(page.locator("nav.main-nav")).to_be_hidden()
    expect(page.locator("details.phone-menu summary")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the start page scrolls sideways by {overflow}px on a {PHONE['width']}px phone"
    page.set_viewport_size(DESKTOP)


def log_out(page: Page) -> None:
    page.locator("nav.main-nav form.logout button").click()
    page.wait_for_url(re.compile(r"/login"))


def test_the_employee_sees_the_balance_first_and_a_refusal_beside_its_field(page: Page, artifacts_dir: Path) -> None:
    log_in(page, "sophie.becker")
    year = datetime.now(ZoneInfo("Europe/Berlin")).year
    expect(page.locator("#h-remaining")).to_have_text(f"Resturlaub {year}")
    expect(page.locator("#remaining-days")).to_contain_text("Tage")
    check(page, "start-employee", artifacts_dir)

    page.set_viewport_size(PHONE)  # the phone menu opens without JavaScript and leads to the leave page
    page.locator("details.phone-menu summary").click()
    page.locator("details.phone-menu").get_by_role("link", name="Urlaub", exact=True).click()
    expect(page).to_have_url(re.compile(r"/vacation$"))
    page.set_viewport_size(DESKTOP)

    monday = date(year + 1, 2, 1) + timedelta(days=(7 - date(year + 1, 2, 1).weekday()) % 7)
    page.locator("#start").fill(monday.isoformat())
    page.locator("#end").fill((monday - timedelta(days=2)).isoformat())
    page.get_by_role("button", name="Antrag senden").click()
    expect(page.locator("#end-error-1")).to_contain_text("Der letzte Urlaubstag liegt vor dem ersten")
    expect(page.locator(".error-summary a[href='#end']")).to_be_visible()
    check(page, "vacation-refused", artifacts_dir)

    page.get_by_role("link", name="Wer ist abwesend").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Wer ist abwesend")
    expect(page.locator("table.team-week").first).to_be_visible()
    check(page, "calendar-employee", artifacts_dir)
    page.get_by_role("link", name=re.compile("Nächster Monat")).click()
    check(page, "calendar-next-month", artifacts_dir)


def test_the_manager_sees_waiting_decisions_on_the_start_page(page: Page, artifacts_dir: Path) -> None:
    log_in(page, "elif.demir")
    monday = datetime.now(ZoneInfo("Europe/Berlin")).date() + timedelta(days=30)
    monday += timedelta(days=(7 - monday.weekday()) % 7)
    page.goto("/vacation")
    page.locator("#start").fill(monday.isoformat())
    page.locator("#end").fill(monday.isoformat())
    page.get_by_role("button", name="Antrag senden").click()
    expect(page.get_by_role("status").first).to_contain_text("an Ihre Führungskraft gesendet")
    details = page.locator("details.confirm").first
    details.locator("summary").click()  # withdrawing asks first
    expect(details.get_by_role("button", name="Ja, zurückziehen")).to_be_visible()
    check(page, "vacation-confirm", artifacts_dir)
    log_out(page)

    log_in(page, "markus.weber")
    card = page.locator("#h-decisions").locator("xpath=..")
    expect(card).to_contain_text("Elif Demir")
    expect(page.locator("nav.main-nav a[href='/vacation/team'] + .count")).to_be_visible()
    check(page, "start-manager", artifacts_dir)
    page.get_by_role("link", name="Jetzt entscheiden").click()
    expect(page).to_have_url(re.compile(r"/vacation/team"))
    check(page, "team", artifacts_dir)
    page.goto(f"/vacation/calendar?month={monday.year:04d}-{monday.month:02d}")
    expect(page.locator("td.cal-pending").first).to_be_visible()
    check(page, "calendar-manager", artifacts_dir)


def test_hr_sees_waiting_changes_and_the_whole_organisation(page: Page, artifacts_dir: Path) -> None:
    log_in(page, "hanna.berger")
    expect(page.locator("#h-changes")).to_contain_text("Wartende Änderungsanträge")
    check(page, "start-hr", artifacts_dir)
    page.goto("/vacation/calendar")
    page.get_by_label("Organisationseinheit").select_option(label="IT München")
    page.get_by_role("button", name="Anzeigen").click()
    expect(page.locator("table.team-week").first).to_contain_text("Markus Weber")
    expect(page.locator("table.team-week").first).not_to_contain_text("Katharina Vogt")
    check(page, "calendar-hr", artifacts_dir)


def test_the_helpdesk_searches_by_name_and_confirms_an_unlock(page: Page, artifacts_dir: Path) -> None:
    log_in(page, "lukas.wagner")
    expect(page.locator("#h-trouble")).to_be_visible()
    check(page, "start-helpdesk", artifacts_dir)
    page.goto("/helpdesk?login=Schmidt")
    expect(page.locator("#matches-heading, #account-heading").first).to_be_visible()
    check(page, "helpdesk-search", artifacts_dir)
    page.goto("/helpdesk?login=anna.schmidt%40example-ess.test")
    expect(page.locator("#account-heading")).to_contain_text("anna.schmidt")
    unlock = page.locator("details.confirm").filter(has_text="Entsperren").first
    unlock.locator("summary").click()
    expect(unlock).to_contain_text("Anna Schmidt")
    check(page, "helpdesk-confirm", artifacts_dir)
    unlock.get_by_role("button", name="Ja, entsperren").click()
    expect(page.locator(".notice").first).to_contain_text("entsperrt")


def test_pages_before_login_and_the_refusal_pages(page: Page, artifacts_dir: Path) -> None:
    page.goto("/login")
    help_links = page.locator("p.help")
    expect(help_links.first).to_contain_text("Passwort vergessen")  # self-service before the IT desk
    check(page, "login", artifacts_dir)
    page.goto("/password/forgot")
    page.get_by_role("button", name="Link senden").click()
    expect(page.locator(".field-error").first).to_be_visible()
    check(page, "forgot-empty", artifacts_dir)
    log_in(page, "sophie.becker")
    page.goto("/vacation/team")  # a manager's page
    expect(page.get_by_role("heading", level=1)).to_have_text("Nicht erlaubt")
    expect(page.locator("main")).to_contain_text("Rollen")
    check(page, "forbidden", artifacts_dir)
