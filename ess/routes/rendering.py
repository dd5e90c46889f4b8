"""Template context shared by every page (translations, the caller, number and date formats) and URLs by route name.

What is the same on every page of an app (the company, the offered languages) is a template global set by `create_app`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from babel import Locale
from babel.numbers import format_decimal
from litestar import Litestar, Request

from ess.domain.auth.model import Principal
from ess.i18n import translations
from ess.routes.journeys import question
from ess.routes.middleware import NO_REFERRER_PATHS

# Times are shown as the company's offices see them (see ess.adapters.clock).
COMPANY_ZONE: Final = ZoneInfo("Europe/Berlin")


def locale_of(request: Request[Any, Any, Any]) -> str:
    return str(request.scope.get("state", {}).get("locale", "de"))


def client_of(request: Request[Any, Any, Any]) -> str:
    return str(request.scope.get("state", {}).get("client", ""))


def principal_of(request: Request[Any, Any, Any]) -> Principal | None:
    user = request.scope.get("user")
    return user if isinstance(user, Principal) else None


def gettext_for(request: Request[Any, Any, Any]) -> Any:
    return translations(locale_of(request)).gettext


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Marks a string for extraction; it is translated where it is shown."""
    return message


WEEKDAY_NAMES: tuple[tuple[str, str], ...] = (
    (N_("Mon"), N_("Monday")),
    (N_("Tue"), N_("Tuesday")),
    (N_("Wed"), N_("Wednesday")),
    (N_("Thu"), N_("Thursday")),
    (N_("Fri"), N_("Friday")),
    (N_("Sat"), N_("Saturday")),
    (N_("Sun"), N_("Sunday")),
)
STATUS_LABELS: dict[str, str] = {
    "pending": N_("pending"),
    "approved": N_("approved"),
    "rejected": N_("rejected"),
    "withdrawn": N_("withdrawn"),
    "cancellation_requested": N_("cancellation requested"),
    "cancelled": N_("cancelled"),
}
ENTRY_LABELS: dict[str, str] = {
    "grant": N_("annual entitlement"),
    "pro_rata_grant": N_("entitlement for part of the year"),
    "carry_in": N_("carried over"),
    "carry_out": N_("carried into the next year"),
    "expire": N_("lapsed"),
    "take": N_("leave taken"),
    "reverse": N_("cancelled leave"),
    "adjust": N_("correction by HR"),
    "recalc": N_("recalculated from the HR data"),
}
MONTH_NAMES: tuple[str, ...] = (
    N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"),
    N_("July"), N_("August"), N_("September"), N_("October"), N_("November"), N_("December"),
)  # fmt: skip
ROLE_LABELS: dict[str, str] = {
    "employee": N_("Employee"),
    "manager": N_("Manager"),
    "hr": N_("HR"),
    "helpdesk": N_("IT helpdesk"),
    "admin": N_("Administrator"),
    "auditor": N_("Data-protection officer"),
}


def zip_days(values: Any) -> list[tuple[tuple[str, str], Any]]:
    return list(zip(WEEKDAY_NAMES, values, strict=True))


# Paths by route name and parameters, kept in the app's state: Litestar's `route_reverse` searches and joins the
# route's path on every call, and a page asks for some fifty (the header's navigation alone for a dozen). Bounded:
# path parameters can come from a request (a slug, a token), and a client must not be able to grow it for ever.
_PATHS: Final = "ess_paths"
_PATHS_KEPT: Final = 2048


def reverse(app: Litestar, route_name: str, **path_params: Any) -> str:
    """`app.route_reverse`, remembered: the routing table of an app does not change once it serves."""
    known: dict[Any, str] = app.state.setdefault(_PATHS, {})
    if not path_params:  # most links: the name alone is the key
        found = known.get(route_name)
        if found is None:
            found = known[route_name] = app.route_reverse(route_name)
        return found
    try:
        key = (route_name, *sorted(path_params.items()))
        found = known.get(key)
    except TypeError:  # a parameter that cannot be a key
        return app.route_reverse(route_name, **path_params)
    if found is None:
        found = app.route_reverse(route_name, **path_params)
        if len(known) >= _PATHS_KEPT:
            known.clear()  # the fixed links of the pages come back within a request or two
        known[key] = found
    return found


def url_to(request: Request[Any, Any, Any], route_name: str, **path_params: Any) -> str:
    """The path of a page by its route name (the same names templates use with `url_for`)."""
    return reverse(request.app, route_name, **path_params)


def template_url_for(context: Mapping[str, Any], /, route_name: str, **path_params: Any) -> str:
    """Templates' `url_for` (replacing Litestar's own): the same path, remembered per app (see `reverse`)."""
    return reverse(context["request"].app, route_name, **path_params)


@functools.cache
def parsed_locale(lang: str) -> Locale:
    """Babel's locale, parsed once per language: parsing it for every number was most of a long table's time."""
    return Locale.parse(lang)


@functools.lru_cache(maxsize=4096)
def _formatted(text: str, lang: str) -> str:
    return str(format_decimal(Decimal(text), locale=parsed_locale(lang)))


def format_number(value: Any, lang: str) -> str:
    """A number as the language writes it; decimals and integers remembered by their text (babel takes about a
    tenth of a millisecond for each, and a page shows the same few figures again and again)."""
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return _formatted(str(value), lang)
    return str(format_decimal(value, locale=parsed_locale(lang)))


def page_for_help(request: Request[Any, Any, Any]) -> str:
    """The page's address as "I need help" sends it: a token in the path (reset, unlock and confirmation links, the
    calendar feed) is replaced by its name, so a help request never carries a live link."""
    path = request.url.path
    for prefix in (*NO_REFERRER_PATHS, "/calendar/"):
        if path.startswith(prefix):
            return prefix + "token"  # also where no route matched, e.g. a link with something appended
    try:
        params = request.path_params
    except Exception:  # an answer no route matched has no parameters
        return path
    for name, value in params.items():
        if "token" in name and isinstance(value, str) and value:
            path = path.replace(value, name)
    return path


def page_context(request: Request[Any, Any, Any], **extra: Any) -> dict[str, Any]:
    catalog = translations(locale_of(request))

    def _(message: str, **params: Any) -> str:
        text = catalog.gettext(message)
        return text % params if params else text

    lang = locale_of(request)
    locale = parsed_locale(lang)

    def number(value: Any) -> str:
        return format_number(value, lang)

    def country_name(code: str) -> str:
        return str(locale.territories.get(code.upper(), code))

    def local_time(moment: datetime) -> str:
        return moment.astimezone(COMPANY_ZONE).strftime("%d.%m.%Y %H:%M")

    return {
        "_": _,
        "number": number,
        "local_time": local_time,
        "country_name": country_name,
        "gettext": _,
        "ngettext": catalog.ngettext,
        "lang": locale_of(request),
        "principal": principal_of(request),
        "current_path": request.url.path,
        "help_page": page_for_help(request),
        # Quoted in "I need help" from an error, so the helpdesk finds the request in the logs.
        "request_id": str(request.scope.get("state", {}).get("request_id", "")),
        "zip_days": zip_days,
        "role_labels": ROLE_LABELS,
        "status_labels": STATUS_LABELS,
        "entry_labels": ENTRY_LABELS,
        "month_names": MONTH_NAMES,
        "weekday_names": WEEKDAY_NAMES,
        "journey_ask": question(request),
        **extra,
    }
