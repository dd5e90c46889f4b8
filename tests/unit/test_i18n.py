"""Languages: negotiation, and a German catalog that covers every string the code and templates use."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from ess.i18n import LOCALES_DIR, negotiate, translations

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "ess"


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        (None, None, "de"),
        ("en", "de-DE,de;q=0.9", "en"),
        ("fr", "en-US,en;q=0.9", "en"),
        (None, "fr-FR,fr;q=0.9,en;q=0.8,de;q=0.7", "en"),
        (None, "de;q=0.2,en;q=0.9", "en"),
        (None, "en;q=0,de;q=0.5", "de"),
        (None, "*", "de"),
        (None, "garbage;;q=x,,", "de"),
    ],
)
def test_the_users_choice_then_the_browser_then_german(cookie: str | None, header: str | None, expected: str) -> None:
    assert negotiate(cookie, header, ["de", "en"], "de") == expected


def _source_messages() -> set[str]:
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")]
    found: set[str] = set()
    for _, _, message, _, _ in extract_from_dir(
        str(PACKAGE_DIR), method_map=method_map, keywords={"_": None, "N_": None}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_source_string_has_a_german_translation() -> None:
    with (LOCALES_DIR / "de" / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        catalog = read_po(fp)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    used = _source_messages()
    assert len(used) > 50  # the extraction itself works
    missing = sorted(used - translated)
    assert missing == [], "untranslated (run `make messages` and translate): " + ", ".join(missing)


def test_the_catalog_keeps_placeholders() -> None:
    german = translations("de")
    assert german.gettext("Hello, %(name)s!") % {"name": "Anna"} != "Hello, Anna!"
    assert "Anna" in german.gettext("Hello, %(name)s!") % {"name": "Anna"}
