"""Personal data in headless Chromium: anna changes her mobile number and submits a new IBAN, hanna approves it;
axe on the profile, edit, history and HR queue pages in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import DEMO_PASSWORD
from tests.e2e.test_browser import assert_no_axe_violations, log_in, use_language

pytestmark = pytest.mark.browser


def log_out(page: Page) -> None:
    page.locator("form.logout button").click()
    page.wait_for_url(re.compile(r"/login"))


def test_anna_changes_her_mobile_and_iban_and_hanna_approves(page: Page, artifacts_dir: Path) -> None:
    log_in(page, "anna.schmidt")
    page.get_by_role("link", name="Meine Daten").click()
    assert_no_axe_violations(page)

    page.get_by_role("link", name="Kontaktdaten ändern").click()
    mobile = page.get_by_label("Mobiltelefon")
    expect(mobile).to_have_value("0170 1234567")
    mobile.fill("+49 123")
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("alert")).to_contain_text("keine gültige Telefonnummer")
    expect(mobile).to_have_attribute("aria-invalid", "true")
    assert_no_axe_violations(page)
    mobile.fill("0151 23456789")
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("status")).to_contain_text("Ihre Änderung wurde gespeichert")
    expect(page.locator("#contact")).to_contain_text("01512 3456789")

    page.get_by_role("link", name="Bankverbindung ändern").click()
    page.get_by_label("IBAN").fill("DE89 3704 0044 0532 0130 01")
    page.get_by_label("Kontoinhaber/in").fill("Anna Schmidt")
    page.get_by_label("Ihr aktuelles Passwort, zur Bestätigung").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("alert")).to_contain_text("Prüfziffern stimmen nicht")
    assert_no_axe_violations(page)
    page.get_by_label("IBAN").fill("DE89 3704 0044 0532 0130 00")
    page.get_by_label("Ihr aktuelles Passwort, zur Bestätigung").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("status")).to_contain_text("an die Personalabteilung geschickt")
    bank = page.locator("#bank")
    expect(bank).to_contain_text("wartet auf die Personalabteilung")
    expect(bank).to_contain_text("DE89 3704 0044 0532 0130 00")
    assert_no_axe_violations(page)
    page.screenshot(path=str(artifacts_dir / "profile-bank-requested.png"), full_page=True)
    log_out(page)

    log_in(page, "hanna.berger")
    page.get_by_role("link", name="Änderungsanträge").click()
    card = page.locator("ul.decisions li").filter(has_text="Anna Schmidt")
    expect(card).to_contain_text("DE89 3704 0044 0532 0130 00")
    expect(card).to_contain_text("COBADEFFXXX")
    assert_no_axe_violations(page)
    page.screenshot(path=str(artifacts_dir / "profile-hr-queue.png"), full_page=True)
    card.get_by_role("button", name="Genehmigen").click()
    expect(page.get_by_role("status")).to_contain_text("genehmigt")
    expect(page.locator("ul.decisions li").filter(has_text="Anna Schmidt")).to_have_count(0)
    log_out(page)

    log_in(page, "anna.schmidt")
    page.goto("/profile")
    expect(page.locator("#bank")).to_contain_text("DE89 3704 0044 0532 0130 00")
    expect(page.locator("#bank")).not_to_contain_text("wartet")
    page.get_by_role("link", name="Verlauf meiner Änderungen").click()
    history = page.locator("table.requests")
    expect(history).to_contain_text("Bankverbindung")
    expect(history).to_contain_text("hanna.berger")
    expect(history).not_to_contain_text("0532 0130")  # masked for the employee
    expect(history).to_contain_text("Mobiltelefon")
    assert_no_axe_violations(page)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_profile_pages_have_no_axe_violations(page: Page, context: BrowserContext, live_server: str, lang: str) -> None:
    use_language(context, live_server, lang)
    log_in(page, "hanna.berger")
    for path in (
        "/profile",
        "/profile/edit/contact",
        "/profile/edit/address",
        "/profile/edit/emergency",
        "/profile/edit/bank",
        "/profile/edit/name",
        "/profile/history",
        "/hr/change-requests",
    ):
        page.goto(path)
        assert_no_axe_violations(page)


def test_profile_is_readable_on_a_phone(page: Page, artifacts_dir: Path) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "tobias.huber")
    page.goto("/profile/edit/emergency")
    page.get_by_label("Name").first.fill("Maria Huber")
    page.get_by_label("Beziehung, z. B. Partner/in, Mutter").first.fill("Mutter")
    page.get_by_label("Telefon").first.fill("0664 1234567")
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator("#emergency")).to_contain_text("Maria Huber (Mutter), 0664 1234567")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    page.screenshot(path=str(artifacts_dir / "profile-phone.png"), full_page=True)
