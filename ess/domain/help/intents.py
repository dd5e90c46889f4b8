"""What a query asks for beyond articles: a personal answer from the person's own data, or an action (a form).
Each intent lists patterns of canonical terms; a pattern matches when all its terms are in the query."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from ess.domain.auth.model import Principal
from ess.domain.help.model import ActionKind, AnswerTopic, HelpPage
from ess.domain.help.text import canonical, words
from ess.domain.hr.model import Role
from ess.domain.passwords.model import PasswordPage
from ess.domain.recovery.model import RecoveryPage
from ess.domain.shared import Link
from ess.domain.vacation.model import VacationPage


def _patterns(*texts: str) -> tuple[frozenset[str], ...]:
    return tuple(frozenset(canonical(w) for w in words(text)) for text in texts)


ANSWER_PATTERNS: Final[Mapping[AnswerTopic, tuple[frozenset[str], ...]]] = {
    AnswerTopic.BALANCE: _patterns(
        "resturlaub",
        "urlaub",
        "urlaub anspruch",
        "anspruch",
        "urlaub tag",
        "urlaub saldo",
        "saldo",
        "urlaub verfall",
        "tag verfall",
        "urlaub uebertrag",
        "viele tag",
        "tag noch",
        "urlaub noch",
        "urlaub left",
        "tag left",
        "urlaub remaining",
        "remaining tag",
        "urlaubskonto",
    ),
    AnswerTopic.NEXT_LEAVE: _patterns(
        "naechster urlaub", "next urlaub", "wann urlaub", "genehmig urlaub", "upcoming urlaub", "geplant urlaub"
    ),
    AnswerTopic.CHANGE_REQUESTS: _patterns(
        "aenderung antrag",
        "aenderungsantrag",
        "status antrag",
        "offen antrag",
        "change request",
        "mein antrag",
        "antrag status",
    ),
    AnswerTopic.MANAGER: _patterns("vorgesetzter", "wer vorgesetzter", "my manager", "mein chef", "genehmigt wer"),
    AnswerTopic.PASSWORD_EXPIRY: _patterns(
        "passwort ablauf",
        "passwort laeuft ab",
        "passwort verfall",
        "passwort gueltig",
        "password expiry",
        "passwort wann",
        "ablauf",
    ),
}

ACTION_PATTERNS: Final[Mapping[ActionKind, tuple[frozenset[str], ...]]] = {
    ActionKind.REQUEST_LEAVE: _patterns(
        "urlaub beantragen", "urlaub eintragen", "urlaub nehmen", "book urlaub", "urlaubsantrag", "urlaub"
    ),
    ActionKind.CHANGE_ADDRESS: _patterns("adresse", "adresse aendern", "umzug", "neue adresse"),
    ActionKind.CHANGE_BANK: _patterns("bank", "bank aendern", "iban", "bankverbindung"),
    ActionKind.CHANGE_CONTACT: _patterns("telefon", "telefonnummer", "notfallkontakt", "emergency contact", "handy"),
    ActionKind.CHANGE_NAME: _patterns("name aendern", "nachname", "heirat"),
    ActionKind.CHANGE_PASSWORD: _patterns("passwort aendern", "passwort", "neues passwort"),
    ActionKind.FORGOT_PASSWORD: _patterns(
        "passwort vergessen", "vergessen", "passwort zuruecksetzen", "reset passwort"
    ),
    ActionKind.UNLOCK_ACCOUNT: _patterns("gesperrt", "konto gesperrt", "entsperren", "konto entsperren"),
    ActionKind.SECOND_FACTOR: _patterns("faktor", "zwei faktor", "zweiter faktor", "authenticator"),
    ActionKind.TEAM_LEAVE: _patterns("genehmigen", "team urlaub", "urlaub genehmigen", "teamkalender"),
    ActionKind.CONTACT: _patterns("kontakt", "hotline", "personalabteilung", "servicedesk", "ansprechpartner"),
}

ACTION_LINKS: Final[Mapping[ActionKind, Link]] = {
    ActionKind.REQUEST_LEAVE: Link(VacationPage.OWN),
    ActionKind.CHANGE_ADDRESS: Link(HelpPage.PROFILE_EDIT, {"section": "address"}),
    ActionKind.CHANGE_BANK: Link(HelpPage.PROFILE_EDIT, {"section": "bank"}),
    ActionKind.CHANGE_CONTACT: Link(HelpPage.PROFILE_EDIT, {"section": "contact"}),
    ActionKind.CHANGE_NAME: Link(HelpPage.PROFILE_EDIT, {"section": "name"}),
    ActionKind.CHANGE_PASSWORD: Link(PasswordPage.CHANGE),
    ActionKind.FORGOT_PASSWORD: Link(HelpPage.FORGOT_PASSWORD),
    ActionKind.UNLOCK_ACCOUNT: Link(HelpPage.UNLOCK),
    ActionKind.SECOND_FACTOR: Link(RecoveryPage.SECURITY),
    ActionKind.TEAM_LEAVE: Link(VacationPage.TEAM),
    ActionKind.CONTACT: Link(HelpPage.CONTACT),
}

# Actions only some roles can take; the others need a login and nothing more.
ACTION_ROLES: Final[Mapping[ActionKind, frozenset[Role]]] = {
    ActionKind.TEAM_LEAVE: frozenset({Role.MANAGER, Role.HR}),
}
# What a person who is not logged in can still do.
ANONYMOUS_ACTIONS: Final = frozenset({ActionKind.FORGOT_PASSWORD, ActionKind.UNLOCK_ACCOUNT, ActionKind.CONTACT})


@dataclass(frozen=True, slots=True)
class Match:
    """How well an intent matched: the number of query terms its best pattern covers."""

    size: int
    covers_query: bool


def best_match(
    patterns: Iterable[frozenset[str]], query: frozenset[str], words: Mapping[str, frozenset[str]]
) -> Match | None:
    """`query` holds every term; `words` each typed content word with the parts it splits into: a word is covered
    when it or all its parts are in a matching pattern ("Urlaubstage" by "urlaub tag")."""
    matching = [p for p in patterns if p <= query]
    if not matching:
        return None
    matched = set().union(*matching)
    covered = all(word in matched or (parts and parts <= matched) for word, parts in words.items())
    return Match(size=max(len(p) for p in matching), covers_query=covered)


def allowed_action(action: ActionKind, principal: Principal | None) -> bool:
    if principal is None:
        return action in ANONYMOUS_ACTIONS
    roles = ACTION_ROLES.get(action)
    return roles is None or bool(roles & principal.roles)


def intent_words() -> set[str]:
    """Every term an intent knows (for typo correction)."""
    found: set[str] = set()
    for table in (ANSWER_PATTERNS, ACTION_PATTERNS):
        for patterns in table.values():
            for pattern in patterns:
                found |= pattern
    return found
