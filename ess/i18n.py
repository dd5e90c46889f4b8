"""Languages: gettext catalogs from ess/locales (pages and mails), and choosing one from a cookie or Accept-Language."""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path
from typing import Final

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES_DIR: Final = Path(__file__).resolve().parent / "locales"
LANGUAGE_COOKIE: Final = "ess_lang"
# The source strings are English: "en" needs no catalog.
SOURCE_LOCALE: Final = "en"


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """The catalog for a locale, compiled in memory from its .po file (no build step, no stale .mo)."""
    if locale == SOURCE_LOCALE:
        return gettext.NullTranslations()
    po_file = LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"
    with po_file.open("rb") as fp:
        catalog = read_po(fp, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def negotiate(cookie_value: str | None, accept_language: str | None, available: list[str], default: str) -> str:
    """The user's explicit choice wins; then the browser's preference order; then the default."""
    if cookie_value in available:
        return cookie_value
    for lang in _accept_language_order(accept_language or ""):
        if lang in available:
            return lang
    return default


def _accept_language_order(header: str) -> list[str]:
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        if not tag or tag == "*":
            continue
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        try:
            language = Locale.parse(tag.replace("-", "_")).language
        except (ValueError, UnknownLocaleError):
            continue
        weighted.append((-quality, index, language))
    return [lang for negative_q, _index, lang in sorted(weighted) if negative_q != 0]
