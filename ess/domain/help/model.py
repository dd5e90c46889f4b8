"""The help center: articles in two linked language versions with their history, who may edit which topic, the
pages it links to, and what a search answers with."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Final

from ess.domain.auth.model import Principal
from ess.domain.errors import InvalidInput
from ess.domain.hr.model import Role
from ess.domain.shared import Link

LANGUAGES: Final = ("de", "en")
SLUG: Final = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG: Final = 80
MAX_TITLE: Final = 200
MAX_BODY: Final = 20_000
MAX_KEYWORDS: Final = 500
MAX_COMMENT: Final = 1000
MAX_QUERY: Final = 200


class Category(StrEnum):
    LEAVE = "leave"  # Urlaub
    PERSONAL = "personal"  # Persönliche Daten
    ACCOUNT = "account"  # Passwort & Konto
    GENERAL = "general"  # Allgemein


# HR writes about HR topics, IT (helpdesk, administrators) about accounts; both about general matters.
EDITORS: Final[Mapping[Category, frozenset[Role]]] = {
    Category.LEAVE: frozenset({Role.HR}),
    Category.PERSONAL: frozenset({Role.HR}),
    Category.ACCOUNT: frozenset({Role.HELPDESK, Role.ADMIN}),
    Category.GENERAL: frozenset({Role.HR, Role.HELPDESK, Role.ADMIN}),
}


def can_edit(principal: Principal, category: Category) -> bool:
    return bool(EDITORS[category] & principal.roles)


def is_editor(principal: Principal) -> bool:
    return any(can_edit(principal, category) for category in Category)


class HelpPage(StrEnum):
    """The pages the help center links to (the edge turns them into URLs)."""

    INDEX = "help.index"
    ARTICLE = "help.article"
    SEARCH = "help.search"
    EDIT = "help.edit"
    CONTACT = "help.contact"
    PROFILE_EDIT = "help.profile_edit"
    FORGOT_PASSWORD = "help.forgot_password"  # noqa: S105 - a page name, not a password
    UNLOCK = "help.unlock"


@dataclass(frozen=True, slots=True)
class ArticleVersion:
    """One saved text of one language version; published once `published_at` is set. Never changed afterwards."""

    lang: str
    version: int
    title: str
    body: str
    keywords: str
    created_by: str
    created_at: datetime
    published_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Article:
    slug: str
    category: Category
    review_due: date
    versions: tuple[ArticleVersion, ...] = ()
    updated_at: datetime | None = None

    def published(self, lang: str) -> ArticleVersion | None:
        """The newest published text in a language."""
        done = [v for v in self.versions if v.lang == lang and v.published_at is not None]
        return max(done, key=lambda v: v.version) if done else None

    def latest(self, lang: str) -> ArticleVersion | None:
        texts = [v for v in self.versions if v.lang == lang]
        return max(texts, key=lambda v: v.version) if texts else None

    def draft(self, lang: str) -> ArticleVersion | None:
        """A saved text newer than the published one, waiting to be published."""
        latest = self.latest(lang)
        return latest if latest is not None and latest.published_at is None else None

    @property
    def is_published(self) -> bool:
        return any(self.published(lang) for lang in LANGUAGES)

    def shown(self, lang: str) -> ArticleVersion | None:
        """What a reader gets: the published text in their language, else the other language's."""
        return self.published(lang) or next((self.published(other) for other in LANGUAGES if other != lang), None)

    def review_overdue(self, today: date) -> bool:
        return self.review_due < today


@dataclass(frozen=True, slots=True)
class ArticleText:
    """What an editor submits for one language."""

    title: str
    body: str
    keywords: str = ""

    def check(self) -> None:
        if not self.title.strip() or len(self.title) > MAX_TITLE:
            raise InvalidInput(
                "A title has 1 to %(max)s characters.", fields={"title": "invalid"}, params={"max": MAX_TITLE}
            )
        if not self.body.strip() or len(self.body) > MAX_BODY:
            raise InvalidInput(
                "A text has 1 to %(max)s characters.", fields={"body": "invalid"}, params={"max": MAX_BODY}
            )
        if len(self.keywords) > MAX_KEYWORDS:
            raise InvalidInput(
                "Keywords have at most %(max)s characters.",
                fields={"keywords": "invalid"},
                params={"max": MAX_KEYWORDS},
            )


def check_slug(slug: str) -> str:
    if not SLUG.match(slug) or len(slug) > MAX_SLUG:
        raise InvalidInput("A slug is lower-case letters, digits and single hyphens.", fields={"slug": "invalid"})
    return slug


@dataclass(frozen=True, slots=True)
class IndexedText:
    """One language version as the search index holds it: terms already folded, stemmed and split."""

    slug: str
    lang: str
    category: Category
    title: str
    snippet: str
    title_terms: str
    body_terms: str


@dataclass(frozen=True, slots=True)
class IndexHit:
    """A candidate from the engine, with the terms it was indexed under (the domain ranks candidates itself, the
    same way on every engine)."""

    slug: str
    lang: str
    title: str
    snippet: str
    score: float
    title_terms: str = ""
    body_terms: str = ""


@dataclass(frozen=True, slots=True)
class IndexStats:
    """How many indexed texts hold each term, and how many texts there are: for weighting rare words up."""

    document_frequency: Mapping[str, int]
    documents: int


class ResultKind(StrEnum):
    ANSWER = "answer"
    ACTION = "action"
    ARTICLE = "article"


class AnswerTopic(StrEnum):
    BALANCE = "balance"
    NEXT_LEAVE = "next_leave"
    CHANGE_REQUESTS = "change_requests"
    MANAGER = "manager"
    PASSWORD_EXPIRY = "password_expiry"  # noqa: S105 - a topic name, not a password


class ActionKind(StrEnum):
    REQUEST_LEAVE = "request_leave"
    CHANGE_ADDRESS = "change_address"
    CHANGE_BANK = "change_bank"
    CHANGE_CONTACT = "change_contact"
    CHANGE_NAME = "change_name"
    CHANGE_PASSWORD = "change_password"  # noqa: S105 - an action name
    FORGOT_PASSWORD = "forgot_password"  # noqa: S105 - an action name
    UNLOCK_ACCOUNT = "unlock_account"
    SECOND_FACTOR = "second_factor"
    TEAM_LEAVE = "team_leave"
    CONTACT = "contact"


@dataclass(frozen=True, slots=True)
class Result:
    """One line of the search's answer: what it is, where it leads, and what the edge needs to word it.

    Articles carry their title and snippet; answers and actions carry `topic` and `facts` (the person's own
    figures), worded in the reader's language at the edge."""

    kind: ResultKind
    key: str
    link: Link
    score: float
    title: str = ""
    snippet: str = ""
    facts: Mapping[str, str | Decimal | date | None] = field(default_factory=dict)
    items: Sequence[Mapping[str, str | Decimal | date | None]] = ()


@dataclass(frozen=True, slots=True)
class SearchAnswer:
    query: str
    lang: str
    results: tuple[Result, ...]


@dataclass(frozen=True, slots=True)
class FeedbackCount:
    kind: str
    key: str
    helpful: int
    not_helpful: int
    comments: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MissedQuery:
    query: str
    lang: str
    count: int
    last_seen: datetime
