"""The help center in SQL: articles and their versions, feedback and missed-query counts, and the full-text index
(SQLite FTS5 embedded; PostgreSQL tsvector + GIN in production, with pg_trgm similarity as the fallback)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import bindparam, case, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ess.adapters.sql.tables import (
    AwareDateTime,
    HelpArticleRow,
    HelpArticleVersionRow,
    HelpFeedbackRow,
    HelpMissedQueryRow,
)
from ess.domain.help.model import (
    Article,
    ArticleVersion,
    Category,
    FeedbackCount,
    IndexedText,
    IndexHit,
    IndexStats,
    MissedQuery,
)

COMMENTS_SHOWN: Final = 5
# Terms this long also match as a prefix ("passwort" finds "passwortrichtlinie").
PREFIX_FROM: Final = 4
# bm25 weights per column of help_search (slug, lang, category, title, snippet, title_terms, body_terms).
_SQLITE_RANK: Final = "bm25(help_search, 0, 0, 0, 0, 0, 8.0, 1.0)"
TRIGRAM_THRESHOLD: Final = 0.3


def _version(row: HelpArticleVersionRow) -> ArticleVersion:
    return ArticleVersion(
        lang=row.lang,
        version=row.version,
        title=row.title,
        body=row.body,
        keywords=row.keywords,
        created_by=row.created_by,
        created_at=row.created_at,
        published_at=row.published_at,
    )


def _article(row: HelpArticleRow, versions: Sequence[HelpArticleVersionRow]) -> Article:
    return Article(
        slug=row.slug,
        category=Category(row.category),
        review_due=row.review_due,
        versions=tuple(_version(v) for v in sorted(versions, key=lambda v: (v.lang, v.version))),
        updated_at=row.updated_at,
    )


class SqlArticleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, slug: str) -> Article | None:
        row = await self._session.scalar(select(HelpArticleRow).where(HelpArticleRow.slug == slug))
        if row is None:
            return None
        versions = await self._session.scalars(
            select(HelpArticleVersionRow).where(HelpArticleVersionRow.article_id == row.id)
        )
        return _article(row, list(versions))

    async def all(self) -> list[Article]:
        rows = list(await self._session.scalars(select(HelpArticleRow).order_by(HelpArticleRow.slug)))
        by_article: dict[int, list[HelpArticleVersionRow]] = {}
        for version in await self._session.scalars(select(HelpArticleVersionRow)):
            by_article.setdefault(version.article_id, []).append(version)
        return [_article(row, by_article.get(row.id, [])) for row in rows]

    async def save(self, article: Article) -> None:
        row = await self._session.scalar(select(HelpArticleRow).where(HelpArticleRow.slug == article.slug))
        updated_at = article.updated_at or max((v.created_at for v in article.versions), default=None)
        assert updated_at is not None, "an article is saved with a time"
        if row is None:
            row = HelpArticleRow(slug=article.slug)
            self._session.add(row)
        row.category = article.category.value
        row.review_due = article.review_due
        row.updated_at = updated_at
        await self._session.flush()
        stored = {
            (v.lang, v.version): v
            for v in await self._session.scalars(
                select(HelpArticleVersionRow).where(HelpArticleVersionRow.article_id == row.id)
            )
        }
        for version in article.versions:
            existing = stored.get((version.lang, version.version))
            if existing is None:
                self._session.add(
                    HelpArticleVersionRow(
                        article_id=row.id,
                        lang=version.lang,
                        version=version.version,
                        title=version.title,
                        body=version.body,
                        keywords=version.keywords,
                        created_by=version.created_by,
                        created_at=version.created_at,
                        published_at=version.published_at,
                    )
                )
            elif existing.published_at is None and version.published_at is not None:
                existing.published_at = version.published_at
        await self._session.flush()


def _match_sqlite(terms: Sequence[str]) -> str:
    """An FTS5 query: any of the terms in the title or the text; terms are [a-z0-9] only (the domain folded them)."""
    parts = [f'"{t}"*' if len(t) >= PREFIX_FROM else f'"{t}"' for t in terms if t.isalnum()]
    return "{title_terms body_terms} : (" + " OR ".join(parts) + ")" if parts else ""


def _match_postgres(terms: Sequence[str]) -> str:
    parts = [f"{t}:*" if len(t) >= PREFIX_FROM else t for t in terms if t.isalnum()]
    return " | ".join(parts)


class SqlSearchIndex:
    """One port, two engines; both receive the domain's terms and rank the title eight times above the text."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @property
    def _sqlite(self) -> bool:
        return self._session.get_bind().dialect.name == "sqlite"

    async def replace(self, slug: str, texts: Sequence[IndexedText]) -> None:
        await self._session.execute(text("DELETE FROM help_search WHERE slug = :slug"), {"slug": slug})
        if texts:
            await self._session.execute(
                text(
                    "INSERT INTO help_search (slug, lang, category, title, snippet, title_terms, body_terms) "
                    "VALUES (:slug, :lang, :category, :title, :snippet, :title_terms, :body_terms)"
                ),
                [
                    {
                        "slug": t.slug,
                        "lang": t.lang,
                        "category": t.category.value,
                        "title": t.title,
                        "snippet": t.snippet,
                        "title_terms": t.title_terms,
                        "body_terms": t.body_terms,
                    }
                    for t in texts
                ],
            )
        await self._session.execute(text("UPDATE help_index_state SET generation = generation + 1 WHERE id = 1"))

    async def search(self, terms: Sequence[str], lang: str, limit: int) -> list[IndexHit]:
        if self._sqlite:
            query = _match_sqlite(terms)
            if not query:
                return []
            rows = await self._session.execute(
                text(
                    f"SELECT slug, lang, title, snippet, -{_SQLITE_RANK} AS score, title_terms, body_terms "  # noqa: S608 - a constant
                    "FROM help_search "
                    "WHERE help_search MATCH :query AND lang = :lang ORDER BY score DESC, slug LIMIT :limit"
                ),
                {"query": query, "lang": lang, "limit": limit},
            )
            return [IndexHit(*row) for row in rows]
        query = _match_postgres(terms)
        if not query:
            return []
        rows = await self._session.execute(
            text(
                "SELECT slug, lang, title, snippet, ts_rank(document, q) AS score, title_terms, body_terms "
                "FROM help_search, to_tsquery('simple', :query) AS q "
                "WHERE document @@ q AND lang = :lang ORDER BY score DESC, slug LIMIT :limit"
            ),
            {"query": query, "lang": lang, "limit": limit},
        )
        hits = [IndexHit(*row) for row in rows]
        if hits or not await self._has_trigrams():
            return hits
        similar = await self._session.execute(
            text(
                "SELECT slug, lang, title, snippet, word_similarity(:words, title_terms) AS score, "
                "title_terms, body_terms "
                "FROM help_search "
                "WHERE lang = :lang AND word_similarity(:words, title_terms) > :threshold "
                "ORDER BY score DESC, slug LIMIT :limit"
            ),
            {"words": " ".join(terms), "lang": lang, "threshold": TRIGRAM_THRESHOLD, "limit": limit},
        )
        return [IndexHit(*row) for row in similar]

    async def _has_trigrams(self) -> bool:
        found = await self._session.scalar(text("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'"))
        return bool(found)

    async def generation(self) -> int:
        value = await self._session.scalar(text("SELECT generation FROM help_index_state WHERE id = 1"))
        return int(value or 0)

    async def vocabulary(self) -> IndexStats:
        if self._sqlite:
            rows = await self._session.execute(text("SELECT term, doc FROM help_search_vocab"))
        else:
            rows = await self._session.execute(
                text("SELECT word, ndoc FROM ts_stat('SELECT document FROM help_search')")
            )
        frequency = {str(word): int(count) for word, count in rows}
        documents = await self._session.scalar(text("SELECT count(*) FROM help_search"))
        return IndexStats(frequency, int(documents or 0))


class SqlFeedbackRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, kind: str, key: str, *, helpful: bool, comment: str, at: datetime) -> None:
        self._session.add(HelpFeedbackRow(kind=kind, key=key, helpful=helpful, comment=comment, created_at=at))
        await self._session.flush()

    async def counts(self, keys: Sequence[str] | None = None) -> list[FeedbackCount]:
        yes = func.sum(case((HelpFeedbackRow.helpful, 1), else_=0))
        statement = select(HelpFeedbackRow.kind, HelpFeedbackRow.key, yes, func.count()).group_by(
            HelpFeedbackRow.kind, HelpFeedbackRow.key
        )
        if keys is not None:
            statement = statement.where(HelpFeedbackRow.key.in_(list(keys)))
        found: list[FeedbackCount] = []
        for kind, key, helpful, total in await self._session.execute(statement):
            comments = await self._session.scalars(
                select(HelpFeedbackRow.comment)
                .where(HelpFeedbackRow.kind == kind, HelpFeedbackRow.key == key, HelpFeedbackRow.comment != "")
                .order_by(HelpFeedbackRow.id.desc())
                .limit(COMMENTS_SHOWN)
            )
            found.append(FeedbackCount(kind, key, int(helpful or 0), int(total) - int(helpful or 0), tuple(comments)))
        return found


class SqlMissedQueryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(self, query: str, lang: str, at: datetime) -> None:
        # One statement on both dialects: two concurrent misses of the same query count twice, never fail.
        await self._session.execute(
            text(
                "INSERT INTO help_missed_queries (query, lang, count, last_seen) VALUES (:query, :lang, 1, :at) "
                "ON CONFLICT (query, lang) DO UPDATE SET count = help_missed_queries.count + 1, last_seen = :at"
            ).bindparams(bindparam("at", type_=AwareDateTime())),
            {"query": query, "lang": lang, "at": at},
        )

    async def top(self, limit: int) -> list[MissedQuery]:
        rows = await self._session.scalars(
            select(HelpMissedQueryRow)
            .order_by(HelpMissedQueryRow.count.desc(), HelpMissedQueryRow.last_seen.desc())
            .limit(limit)
        )
        return [MissedQuery(r.query, r.lang, r.count, r.last_seen) for r in rows]
