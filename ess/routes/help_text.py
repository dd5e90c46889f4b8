"""Search results in the reader's language: titles and sentences for personal answers and actions (gettext), and
each result's URL by route name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

from babel.numbers import format_decimal
from litestar import Request

from ess.domain.help.model import ActionKind, AnswerTopic, Category, HelpPage, Result, ResultKind
from ess.domain.shared import Link
from ess.routes.rendering import N_
from ess.routes.route_names import ROUTE_NAMES

ACTION_TITLES: Final[Mapping[str, str]] = {
    ActionKind.REQUEST_LEAVE: N_("Request leave"),
    ActionKind.CHANGE_ADDRESS: N_("Change address"),
    ActionKind.CHANGE_BANK: N_("Change bank account"),
    ActionKind.CHANGE_CONTACT: N_("Change phone numbers"),
    ActionKind.CHANGE_NAME: N_("Change name"),
    ActionKind.CHANGE_PASSWORD: N_("Change password"),
    ActionKind.FORGOT_PASSWORD: N_("Forgotten password"),
    ActionKind.UNLOCK_ACCOUNT: N_("Unlock account"),
    ActionKind.SECOND_FACTOR: N_("Set up a second factor"),
    ActionKind.TEAM_LEAVE: N_("Decide your team's leave requests"),
    ActionKind.CONTACT: N_("Contact HR / IT"),
}
ACTION_SNIPPETS: Final[Mapping[str, str]] = {
    ActionKind.REQUEST_LEAVE: N_("Open the leave form: choose the days, send, your manager decides."),
    ActionKind.CHANGE_ADDRESS: N_("Enter your new address, also with a date in the future."),
    ActionKind.CHANGE_BANK: N_("New IBAN: needs your password, HR approves."),
    ActionKind.CHANGE_CONTACT: N_("Work, mobile and private numbers; applies at once."),
    ActionKind.CHANGE_NAME: N_("Legal name after marriage or divorce; HR approves."),
    ActionKind.CHANGE_PASSWORD: N_("Set a new password with your current one."),
    ActionKind.FORGOT_PASSWORD: N_("Get a link to your private e-mail address and set a new password."),
    ActionKind.UNLOCK_ACCOUNT: N_("Get a link to your private e-mail address and unlock your account."),
    ActionKind.SECOND_FACTOR: N_("Authenticator app, recovery e-mail and mobile number."),
    ActionKind.TEAM_LEAVE: N_("Requests of your team waiting for your decision."),
    ActionKind.CONTACT: N_("Phone, e-mail and hours of HR and the IT service desk."),
}
ANSWER_TITLES: Final[Mapping[str, str]] = {
    AnswerTopic.BALANCE: N_("Your remaining leave"),
    AnswerTopic.NEXT_LEAVE: N_("Your next approved leave"),
    AnswerTopic.CHANGE_REQUESTS: N_("Your open change requests"),
    AnswerTopic.MANAGER: N_("Your manager"),
    AnswerTopic.PASSWORD_EXPIRY: N_("When your password expires"),
}
CATEGORY_LABELS: Final[Mapping[str, str]] = {
    Category.LEAVE: N_("Leave"),
    Category.PERSONAL: N_("Personal data"),
    Category.ACCOUNT: N_("Password & account"),
    Category.GENERAL: N_("General"),
}
FIELD_LABELS: Final[Mapping[str, str]] = {
    "address": N_("Address"),
    "bank_account": N_("Bank account"),
    "legal_name": N_("Name"),
    "preferred_name": N_("Preferred name"),
    "work_phone": N_("Work phone"),
    "mobile_phone": N_("Mobile phone"),
    "private_phone": N_("Private phone"),
    "emergency_contacts": N_("Emergency contacts"),
}
REQUEST_STATUS: Final[Mapping[str, str]] = {"pending": N_("waiting for HR"), "approved": N_("approved, not yet due")}
# The forgotten-password page serves both purposes; the unlock action opens it on "unlock".
LINK_QUERIES: Final[Mapping[HelpPage, str]] = {HelpPage.UNLOCK: "?purpose=unlock"}


@dataclass(frozen=True, slots=True)
class ShownResult:
    kind: str
    key: str
    title: str
    url: str
    snippet: str


def _day(value: Any) -> str:
    return value.strftime("%d.%m.%Y") if isinstance(value, date) else ""


def _days(value: Any, lang: str) -> str:
    return str(format_decimal(value if isinstance(value, Decimal) else Decimal(0), locale=lang))


def _balance(result: Result, _: Callable[[str], str], lang: str) -> str:
    facts = result.facts
    text = _("You have %(days)s days of leave left.") % {"days": _days(facts.get("remaining"), lang)}
    if facts.get("lapse_days"):
        text += " " + _("%(days)s of them lapse after %(day)s.") % {
            "days": _days(facts["lapse_days"], lang),
            "day": _day(facts.get("lapse_date")),
        }
    if facts.get("pending"):
        text += " " + _("%(days)s days are requested and not yet decided.") % {"days": _days(facts["pending"], lang)}
    return text


def _next_leave(result: Result, _: Callable[[str], str], lang: str) -> str:
    facts = result.facts
    if facts.get("start") is None:
        return _("You have no approved leave ahead.")
    return _("From %(start)s to %(end)s (%(days)s days), approved.") % {
        "start": _day(facts["start"]),
        "end": _day(facts.get("end")),
        "days": _days(facts.get("days"), lang),
    }


def _change_requests(result: Result, _: Callable[[str], str], lang: str) -> str:
    if not result.items:
        return _("You have no open change requests.")
    return "; ".join(
        f"{_(FIELD_LABELS.get(str(item['field']), str(item['field'])))}: "
        f"{_(REQUEST_STATUS.get(str(item['status']), str(item['status'])))}"
        for item in result.items
    )


def _manager(result: Result, _: Callable[[str], str], lang: str) -> str:
    facts = result.facts
    if facts.get("name") is None:
        return _("No manager is recorded for you.")
    return f"{facts['name']} ({facts.get('email') or ''})"


def _password_expiry(result: Result, _: Callable[[str], str], lang: str) -> str:
    if result.facts.get("expires_on") is None:
        return _("The directory sets no expiry date for your password.")
    return _("Your password expires on %(day)s.") % {"day": _day(result.facts["expires_on"])}


ANSWER_TEXTS: Final[Mapping[str, Callable[[Result, Callable[[str], str], str], str]]] = {
    AnswerTopic.BALANCE: _balance,
    AnswerTopic.NEXT_LEAVE: _next_leave,
    AnswerTopic.CHANGE_REQUESTS: _change_requests,
    AnswerTopic.MANAGER: _manager,
    AnswerTopic.PASSWORD_EXPIRY: _password_expiry,
}


def answer_text(result: Result, _: Callable[[str], str], lang: str) -> str:
    """The personal answer as one sentence, with the person's own figures."""
    return ANSWER_TEXTS[result.key](result, _, lang)


def shown(result: Result, *, links: Callable[..., str], _: Callable[[str], str], lang: str) -> ShownResult:
    """One result as pages and the API show it."""
    url = links(result.link)
    url += LINK_QUERIES.get(result.link.page, "") if isinstance(result.link.page, HelpPage) else ""
    if result.kind is ResultKind.ARTICLE:
        return ShownResult(result.kind.value, result.key, result.title, url, result.snippet)
    if result.kind is ResultKind.ACTION:
        title, text = _(ACTION_TITLES[result.key]), _(ACTION_SNIPPETS[result.key])
        return ShownResult(result.kind.value, result.key, title, url, text)
    return ShownResult(result.kind.value, result.key, _(ANSWER_TITLES[result.key]), url, answer_text(result, _, lang))


def link_url(request: Request[Any, Any, Any], link: Link) -> str:
    """A domain link as a path, by route name, through this app's routing table."""
    return request.app.route_reverse(ROUTE_NAMES[link.page], **link.ids)
