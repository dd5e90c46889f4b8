"""What the help center needs from outside: article storage, the search index, feedback and missed-query counts,
a Markdown renderer, and the other areas' dependencies for personal answers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ess.domain.directory.ports import Directory
from ess.domain.help.model import Article, FeedbackCount, IndexedText, IndexHit, IndexStats, MissedQuery
from ess.domain.help.text import Vocabulary
from ess.domain.profile.ports import ProfileDeps
from ess.domain.shared import Clock, UnitOfWork
from ess.domain.vacation.ports import VacationDeps


class ArticleRepository(Protocol):
    async def get(self, slug: str) -> Article | None:
        """The article with every version of both languages."""
        ...

    async def all(self) -> list[Article]:
        """Every article with its versions, by slug."""
        ...

    async def save(self, article: Article) -> None:
        """Insert or update the article's category and review date, and add its versions not stored yet (a stored
        version is never changed, except that publishing sets its `published_at`)."""
        ...


class SearchIndex(Protocol):
    """The full-text engine: SQLite FTS5 embedded, PostgreSQL full-text search in production. It receives terms
    already folded, stemmed and split by the domain, so both engines match the same words."""

    async def replace(self, slug: str, texts: Sequence[IndexedText]) -> None:
        """Make `texts` the indexed language versions of `slug` (none: drop it from the index)."""
        ...

    async def search(self, terms: Sequence[str], lang: str, limit: int) -> list[IndexHit]:
        """Texts in `lang` matching any of the terms (a term of 4 letters or more also matches as a prefix), the
        engine's best first, with the terms each was indexed under."""
        ...

    async def generation(self) -> int:
        """A number that changes whenever the index does (for caching its vocabulary)."""
        ...

    async def vocabulary(self) -> IndexStats:
        """Every term the index holds, with the number of texts holding it."""
        ...


class FeedbackRepository(Protocol):
    async def add(self, kind: str, key: str, *, helpful: bool, comment: str, at: datetime) -> None:
        """One vote, without anybody's id (works council: aggregate only)."""
        ...

    async def counts(self, keys: Sequence[str] | None = None) -> list[FeedbackCount]:
        """Votes per (kind, key), with the latest comments; only `keys` when given."""
        ...


class MissedQueryRepository(Protocol):
    async def record(self, query: str, lang: str, at: datetime) -> None:
        """Count a query that found nothing (normalised text only; no user id)."""
        ...

    async def top(self, limit: int) -> list[MissedQuery]: ...


class HelpUnitOfWork(UnitOfWork, Protocol):
    @property
    def articles(self) -> ArticleRepository: ...

    @property
    def help_index(self) -> SearchIndex: ...

    @property
    def help_feedback(self) -> FeedbackRepository: ...

    @property
    def missed_queries(self) -> MissedQueryRepository: ...


class Renderer(Protocol):
    def __call__(self, markdown: str) -> str:
        """Safe HTML from Markdown: raw HTML is escaped, links only to http(s) and mail, nothing executable."""
        ...


@dataclass
class VocabularyCache:
    """The index's vocabulary, rebuilt only when the index's generation changes."""

    generation: int = -1
    vocabulary: Vocabulary = field(default_factory=lambda: Vocabulary.of(()))
    stats: IndexStats = field(default_factory=lambda: IndexStats({}, 0))


@dataclass(frozen=True)
class HelpDeps:
    """What the help use cases run with, wired once by the composition root."""

    new_uow: Callable[[], HelpUnitOfWork]
    clock: Clock
    renderer: Renderer
    vacation: VacationDeps
    profile: ProfileDeps
    directory: Directory
    # Company values articles may show: {company}, {hr_email}, {hr_phone}, {hr_hours}, {it_email}, ...
    values: Mapping[str, str] = field(default_factory=dict)
    cache: VocabularyCache = field(default_factory=VocabularyCache)
