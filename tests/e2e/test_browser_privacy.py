"""The audit trail, "my data" and the operator console in headless Chromium: axe finds nothing (German and English),
and none of them scrolls sideways on a phone (390 px)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.test_browser import PHONE, assert_no_axe_violations, log_in, use_language

pytestmark = pytest.mark.browser

PAGES = [
    ("anna.schmidt", "/my-data"),
    ("hanna.berger", "/audit"),
    ("admin", "/audit?action=auth."),
    ("admin", "/admin"),
    ("admin", "/admin/hr-import"),
]


def _fits_a_phone(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways on a phone ({width}px)"


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize(("login", "path"), PAGES)
def test_the_privacy_and_console_pages_have_no_axe_violations_and_fit_a_phone(  # noqa: PLR0917 - fixtures
    page: Page, context: BrowserContext, live_server: str, lang: str, login: str, path: str
) -> None:
    use_language(context, live_server, lang)
    log_in(page, login)
    page.goto(path)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert_no_axe_violations(page)
    page.set_viewport_size(PHONE)
    _fits_a_phone(page)


def test_my_data_records_open_and_the_console_shows_upload_errors(
    page: Page, tmp_path: Path, artifacts_dir: Path
) -> None:
    page.set_viewport_size(PHONE)
    log_in(page, "anna.schmidt")
    page.goto("/my-data")
    page.get_by_text("Einträge zeigen").first.click()
    assert_no_axe_violations(page)
    _fits_a_phone(page)
    page.screenshot(path=str(artifacts_dir / "my-data-phone.png"), full_page=True)

    page.context.clear_cookies()
    log_in(page, "admin")
    page.goto("/admin")
    page.get_by_role("button", name="Verzeichnis prüfen").click()
    expect(page.get_by_text("local directory")).to_be_visible()
    assert_no_axe_violations(page)
    broken = tmp_path / "broken.csv"
    broken.write_text("personnel_number,login\nP1,\n", encoding="utf-8")
    page.goto("/admin/hr-import")
    page.get_by_label("HR-Datei").set_input_files(str(broken))
    page.get_by_role("button", name="Vorschau").click()
    expect(page.get_by_role("heading", name="Fehler in broken.csv: nichts wurde importiert")).to_be_visible()
    assert_no_axe_violations(page)
    _fits_a_phone(page)
    page.screenshot(path=str(artifacts_dir / "console-import-errors-phone.png"), full_page=True)
    broken.unlink()
