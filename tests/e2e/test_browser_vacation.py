"""Leave in headless Chromium: anna requests Christmas, markus approves, the balance follows; axe on every page."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import DEMO_PASSWORD
from tests.e2e.test_browser import assert_no_axe_violations, log_in, use_language

pytestmark = pytest.mark.browser


def remaining(page: Page) -> Decimal:
    """The remaining days the balance shows ("25 Tage", "7,5 Tage")."""
    text = page.locator("dl.balance dd.total").inner_text()
    figure = re.fullmatch(r"(-?[\d.]+(?:,\d+)?) Tage?", text)
    assert figure is not None, f"the balance shows {text!r}"
    return Decimal(figure.group(1).replace(".", "").replace(",", "."))


def api_balance(page: Page, login: str, as_of: str = "") -> dict[str, object]:
    """The same person's balance from the API (a bearer token of their own): what the page must agree with."""
    token = page.request.post("/api/v1/auth/token", data={"username": login, "password": DEMO_PASSWORD})
    assert token.ok, token.text()
    answer = page.request.get(
        "/api/v1/me/vacation/balance" + (f"?as_of={as_of}" if as_of else ""),
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
    )
    assert answer.ok, answer.text()
    figures: dict[str, object] = answer.json()
    return figures


def log_out(page: Page) -> None:
    page.locator("form.logout button").click()
    page.wait_for_url(re.compile(r"/login"))


def test_anna_requests_christmas_and_markus_approves_it(page: Page, artifacts_dir: Path) -> None:
    log_in(page, "anna.schmidt")
    page.goto("/vacation")
    assert_no_axe_violations(page)
    # The demo is lived in (leave taken this year, carry-over from last year, partly lapsed on 31 March): the page
    # shows what the API computes for anna from the same ledger, whatever the seeded history gives.
    before = remaining(page)
    assert before == Decimal(str(api_balance(page, "anna.schmidt")["remaining"]))

    page.locator("#start").fill("2026-12-22")
    page.locator("#end").fill("2027-01-09")
    page.get_by_role("button", name="Antrag senden").click()
    expect(page.get_by_role("status")).to_contain_text("an Ihre Führungskraft gesendet")
    row = page.locator("table.requests tbody tr").filter(has_text="22.12.2026 – 09.01.2027")
    expect(row).to_contain_text("11")  # working days in DE-BY: 25.12., 1.1. and 6.1. are holidays
    expect(row).to_contain_text("offen")
    expect(page.locator("dl.balance")).to_contain_text("7 Tage")  # waiting for approval in 2026
    assert remaining(page) == before - 7
    assert_no_axe_violations(page)
    page.screenshot(path=str(artifacts_dir / "vacation-requested.png"), full_page=True)
    log_out(page)

    log_in(page, "markus.weber")
    page.get_by_role("link", name="Team").click()
    # Other cards name Anna too (who else is away then): the card whose heading is hers.
    card = page.locator("ul.decisions li").filter(has=page.get_by_role("heading", name=re.compile("^Anna Schmidt:")))
    expect(card).to_contain_text("22.12.2026 – 09.01.2027")
    assert_no_axe_violations(page)
    card.get_by_label("Kommentar (optional)").fill("Schöne Feiertage!")
    card.get_by_role("button", name="Genehmigen").click()
    expect(page.get_by_role("status")).to_contain_text("gespeichert")
    expect(page.get_by_role("heading", name=re.compile("^Anna Schmidt:"))).to_have_count(0)
    log_out(page)

    log_in(page, "anna.schmidt")
    page.goto("/vacation")
    row = page.locator("table.requests tbody tr").filter(has_text="22.12.2026 – 09.01.2027")
    expect(row).to_contain_text("genehmigt")
    expect(row).to_contain_text("Schöne Feiertage!")
    assert remaining(page) == before - 7
    page.goto("/vacation?as_of=2027-01-10")
    expect(page.locator("dl.balance")).to_contain_text("Genommen")
    # 2027: its entitlement, plus what is left of 2026 that close-year will carry over (shown as projected), minus
    # 4., 5., 7. and 8. January.
    rest = before - 7
    rest_text = str(rest).replace(".", ",")
    expect(page.locator("dl.balance")).to_contain_text(f"voraussichtlich: {rest_text} Tage Rest aus dem Vorjahr")
    ahead = api_balance(page, "anna.schmidt", "2027-01-10")
    assert Decimal(str(ahead["projected_carried_over"])) == rest
    assert remaining(page) == Decimal(str(ahead["entitlement"])) + rest - 4
    assert remaining(page) == Decimal(str(ahead["remaining"]))
    assert_no_axe_violations(page)  # with the projected lines
    page.screenshot(path=str(artifacts_dir / "vacation-approved.png"), full_page=True)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_vacation_pages_have_no_axe_violations(
    page: Page, context: BrowserContext, live_server: str, lang: str
) -> None:
    use_language(context, live_server, lang)
    log_in(page, "markus.weber")
    for path in ("/vacation", "/vacation/team", "/vacation?as_of=2027-03-31", "/vacation/calendar"):
        page.goto(path)
        assert_no_axe_violations(page)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_hr_report_has_no_axe_violations(page: Page, context: BrowserContext, live_server: str, lang: str) -> None:
    use_language(context, live_server, lang)
    log_in(page, "hanna.berger")
    page.goto("/hr/vacation-report")
    expect(page.locator("table.requests")).to_contain_text("Anna Schmidt")
    assert_no_axe_violations(page)
    # Sorted by a figure, filtered by a unit, with its totals row: still no violation, and on a phone the table
    # scrolls inside its frame (the name column stays in view) while the page itself does not scroll sideways.
    page.goto("/hr/vacation-report?unit=IT+M%C3%BCnchen&sort=remaining&order=desc")
    expect(page.locator("table.report tfoot")).to_be_visible()
    assert_no_axe_violations(page)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/hr/vacation-report")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the report scrolls sideways on a phone ({width}px)"


def test_the_calendar_link_page_has_no_axe_violations(page: Page) -> None:
    log_in(page, "anna.schmidt")
    page.goto("/vacation")
    page.get_by_role("button", name="Kalenderlink erstellen").click()
    expect(page.locator("#feed-url")).to_have_value(re.compile(r"/calendar/ess_[A-Za-z0-9_-]+\.ics$"))
    assert_no_axe_violations(page)


def test_a_deputy_decides_while_the_manager_is_away(page: Page, artifacts_dir: Path) -> None:
    """Markus names Julia as deputy (a form without JavaScript); Max requests leave with a colleague picked as
    substitute; Julia sees the request marked as deputy and approves it; Markus ends the entry."""
    today = datetime.now(ZoneInfo("Europe/Berlin")).date()
    log_in(page, "markus.weber")
    page.goto("/vacation/team")
    page.locator("#deputy").select_option(label="Julia Schneider")
    page.locator("#first_day").fill(today.isoformat())
    page.locator("#last_day").fill(today.isoformat())
    page.get_by_role("button", name="Vertretung benennen").click()
    expect(page.get_by_role("status").first).to_contain_text("Vertretungen wurden gespeichert")
    expect(page.locator("ul.deputies")).to_contain_text("Julia Schneider vertritt Sie")
    assert_no_axe_violations(page)
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the team page scrolls sideways on a phone ({width}px)"
    page.screenshot(path=str(artifacts_dir / "team-deputy-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    log_out(page)

    log_in(page, "maximilian.fischer")
    page.goto("/vacation")
    wednesday = today + timedelta(weeks=23) + timedelta(days=(2 - today.weekday()) % 7)
    page.locator("#start").fill(wednesday.isoformat())
    page.locator("#end").fill(wednesday.isoformat())
    page.locator("#substitute").select_option(label="Sophie Becker")
    page.get_by_role("button", name="Antrag senden").click()
    expect(page.get_by_role("status").first).to_contain_text("an Ihre Führungskraft gesendet")
    log_out(page)

    log_in(page, "julia.schneider")
    page.goto("/vacation/team")
    heading = page.get_by_role("heading", name=re.compile(f"^Max Fischer: {wednesday.strftime('%d.%m.%Y')}"))
    card = page.locator("ul.decisions li").filter(has=heading)
    expect(card).to_contain_text("Als Vertretung für Markus Weber")
    expect(card).to_contain_text("Sophie Becker")  # the substitute
    assert_no_axe_violations(page)
    card.get_by_role("button", name="Genehmigen").click()
    expect(page.get_by_role("status").first).to_contain_text("gespeichert")
    expect(heading).to_have_count(0)
    log_out(page)

    log_in(page, "markus.weber")
    page.goto("/vacation/team")
    page.locator("ul.deputies").get_by_role("button", name="Jetzt beenden").click()
    expect(page.get_by_text("Es ist keine Vertretung benannt.")).to_be_visible()
