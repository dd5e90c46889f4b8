"""Help center API: the search (personal answers, actions, articles), articles, the editors' operations, feedback."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from ess.domain.help.articles import (
    ArticleView,
    SaveArticle,
    article_history,
    publish_article,
    published_articles,
    read_article,
    save_article,
)
from ess.domain.help.feedback import give_feedback, insights
from ess.domain.help.model import (
    LANGUAGES,
    MAX_BODY,
    MAX_COMMENT,
    MAX_KEYWORDS,
    MAX_QUERY,
    MAX_TITLE,
    Article,
    ArticleText,
    Category,
    HelpPage,
)
from ess.domain.help.ports import HelpDeps
from ess.domain.help.search import search
from ess.domain.shared import Link
from ess.i18n import translations
from ess.routes.guards import current_principal, requires_login
from ess.routes.help_text import link_url, shown
from ess.routes.rendering import locale_of, principal_of

Lang = Literal["de", "en"]
SLUG_PATTERN = "^[a-z0-9]+(-[a-z0-9]+)*$"


class SearchResultOut(msgspec.Struct):
    kind: Literal["answer", "action", "article"]
    title: str
    url: str
    snippet: str


class SearchOut(msgspec.Struct):
    query: str
    lang: str
    results: list[SearchResultOut]


class ArticleSummaryOut(msgspec.Struct):
    slug: str
    category: Category
    lang: str
    title: str
    url: str
    review_due: date
    review_overdue: bool


class ArticleOut(msgspec.Struct):
    slug: str
    category: Category
    lang: str
    title: str
    html: str
    markdown: str
    version: int
    published_at: datetime | None
    review_due: date
    review_overdue: bool
    languages: list[str]


class ArticleTextIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TITLE)]
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_BODY)]
    keywords: Annotated[str, msgspec.Meta(max_length=MAX_KEYWORDS)] = ""


class ArticleIn(msgspec.Struct, forbid_unknown_fields=True):
    """Texts of one or both languages; a changed text becomes a new version (a draft unless `publish`)."""

    category: Category
    review_due: date
    de: ArticleTextIn | None = None
    en: ArticleTextIn | None = None
    publish: bool = False


class VersionOut(msgspec.Struct):
    lang: str
    version: int
    title: str
    created_by: str
    created_at: datetime
    published_at: datetime | None


class FeedbackIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: Literal["article", "answer"]
    key: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    helpful: bool
    comment: Annotated[str, msgspec.Meta(max_length=MAX_COMMENT)] = ""


class FeedbackCountOut(msgspec.Struct):
    kind: str
    key: str
    helpful: int
    not_helpful: int
    comments: list[str]


class MissedQueryOut(msgspec.Struct):
    query: str
    lang: str
    count: int
    last_seen: datetime


class InsightsOut(msgspec.Struct):
    feedback: list[FeedbackCountOut]
    missed_queries: list[MissedQueryOut]
    overdue_reviews: list[str]
    drafts: list[str]


def article_out(view: ArticleView, today: date) -> ArticleOut:
    article, version = view.article, view.version
    return ArticleOut(
        slug=article.slug,
        category=article.category,
        lang=version.lang,
        title=version.title,
        html=view.html,
        markdown=version.body,
        version=version.version,
        published_at=version.published_at,
        review_due=article.review_due,
        review_overdue=article.review_overdue(today),
        languages=[lang for lang in LANGUAGES if article.published(lang)],
    )


def _lang(request: Request[Any, Any, Any], lang: str | None) -> str:
    return lang or locale_of(request)


class HelpApiController(Controller):
    path = "/api/v1"
    tags = ["help"]

    @get("/search", operation_id="search", name="api_search")
    async def search(
        self,
        request: Request[Any, Any, Any],
        help: NamedDependency[HelpDeps],
        q: Annotated[str, QueryParameter(max_length=MAX_QUERY)] = "",
        lang: FromQuery[Lang | None] = None,
    ) -> SearchOut:
        """One search: answers from the caller's own data (when authenticated), actions and help articles."""
        language = _lang(request, lang)
        answer = await search(q, language, principal=principal_of(request), deps=help)
        _ = translations(language).gettext
        results = [shown(r, links=lambda link: link_url(request, link), _=_, lang=language) for r in answer.results]
        return SearchOut(
            query=answer.query,
            lang=language,
            results=[SearchResultOut(r.kind, r.title, r.url, r.snippet) for r in results],  # type: ignore[arg-type]
        )

    @get("/help/articles", operation_id="listHelpArticles")
    async def list_articles(
        self, request: Request[Any, Any, Any], help: NamedDependency[HelpDeps], lang: FromQuery[Lang | None] = None
    ) -> list[ArticleSummaryOut]:
        """The published help articles, by category."""
        language, today = _lang(request, lang), help.clock.today()
        found: list[ArticleSummaryOut] = []
        for article in await published_articles(deps=help):
            version = article.shown(language)
            assert version is not None
            found.append(
                ArticleSummaryOut(
                    slug=article.slug,
                    category=article.category,
                    lang=version.lang,
                    title=version.title,
                    url=link_url(request, Link(HelpPage.ARTICLE, {"slug": article.slug})),
                    review_due=article.review_due,
                    review_overdue=article.review_overdue(today),
                )
            )
        return found

    @get("/help/articles/{slug:str}", operation_id="getHelpArticle", problems=["not_found"])
    async def get_article(
        self,
        request: Request[Any, Any, Any],
        help: NamedDependency[HelpDeps],
        slug: FromPath[str],
        lang: FromQuery[Lang | None] = None,
    ) -> ArticleOut:
        """One article as HTML (sanitised) and Markdown; editors of its topic also get an unpublished one."""
        view = await read_article(slug, _lang(request, lang), principal=principal_of(request), deps=help)
        return article_out(view, help.clock.today())

    @put(
        "/help/articles/{slug:str}",
        operation_id="saveHelpArticle",
        guards=[requires_login],
        status_code=HTTP_200_OK,
        problems=["invalid_input", "permission_denied"],
    )
    async def save(
        self,
        request: Request[Any, Any, Any],
        help: NamedDependency[HelpDeps],
        slug: FromPath[str],
        data: JSONBody[ArticleIn],
    ) -> list[VersionOut]:
        """Create or change an article (HR: leave, personal data, general; IT: password & account, general)."""
        texts = {
            lang: ArticleText(text.title, text.body, text.keywords)
            for lang, text in (("de", data.de), ("en", data.en))
            if text is not None
        }
        article = await save_article(
            SaveArticle(current_principal(request), slug, data.category, data.review_due, texts, data.publish),
            deps=help,
        )
        return _versions(article)

    @post(
        "/help/articles/{slug:str}/publish",
        operation_id="publishHelpArticle",
        guards=[requires_login],
        status_code=HTTP_200_OK,
        problems=["not_found", "permission_denied"],
    )
    async def publish(
        self, request: Request[Any, Any, Any], help: NamedDependency[HelpDeps], slug: FromPath[str]
    ) -> list[VersionOut]:
        """Publish the newest text of each language."""
        return _versions(await publish_article(current_principal(request), slug, deps=help))

    @get(
        "/help/articles/{slug:str}/versions",
        operation_id="listHelpArticleVersions",
        guards=[requires_login],
        problems=["not_found", "permission_denied"],
    )
    async def versions(
        self, request: Request[Any, Any, Any], help: NamedDependency[HelpDeps], slug: FromPath[str]
    ) -> list[VersionOut]:
        """Every version of an article, for its editors."""
        return _versions(await article_history(current_principal(request), slug, deps=help))

    @post(
        "/help/feedback", operation_id="giveHelpFeedback", status_code=HTTP_204_NO_CONTENT, problems=["invalid_input"]
    )
    async def feedback(self, help: NamedDependency[HelpDeps], data: JSONBody[FeedbackIn]) -> None:
        """'Was this helpful?' on an article or a personal answer; counted without anybody's id."""
        await give_feedback(data.kind, data.key, helpful=data.helpful, comment=data.comment, deps=help)

    @get("/help/insights", operation_id="getHelpInsights", guards=[requires_login], problems=["permission_denied"])
    async def insights(self, request: Request[Any, Any, Any], help: NamedDependency[HelpDeps]) -> InsightsOut:
        """For editors: votes, searches that found nothing, overdue reviews, drafts."""
        found = await insights(current_principal(request), deps=help)
        return InsightsOut(
            feedback=[
                FeedbackCountOut(f.kind, f.key, f.helpful, f.not_helpful, list(f.comments)) for f in found.feedback
            ],
            missed_queries=[MissedQueryOut(m.query, m.lang, m.count, m.last_seen) for m in found.missed],
            overdue_reviews=[a.slug for a in found.overdue],
            drafts=[a.slug for a in found.drafts],
        )


def _versions(article: Article) -> list[VersionOut]:
    return [
        VersionOut(v.lang, v.version, v.title, v.created_by, v.created_at, v.published_at)
        for v in sorted(article.versions, key=lambda v: (v.lang, -v.version))
    ]
