"""Help center pages: the help index, articles with "Was this helpful?", the search page, and the editors' pages.
Reading and searching need no login (a locked-out person needs help most); personal answers appear once logged in."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from ess.domain.analytics.model import Flow, Step
from ess.domain.analytics.ports import AnalyticsDeps
from ess.domain.analytics.recording import record_step
from ess.domain.errors import DomainError, NotFound, PermissionDenied
from ess.domain.help.articles import (
    SaveArticle,
    all_articles,
    article_history,
    published_articles,
    read_article,
    save_article,
)
from ess.domain.help.feedback import give_feedback, insights
from ess.domain.help.model import LANGUAGES, MAX_SLUG, SLUG, ArticleText, Category, can_edit, is_editor
from ess.domain.help.ports import HelpDeps
from ess.domain.help.search import search
from ess.routes import journeys
from ess.routes.errors import form_errors
from ess.routes.guards import current_principal, requires_login
from ess.routes.help_text import CATEGORY_LABELS, link_url, shown
from ess.routes.rendering import gettext_for, locale_of, page_context, principal_of, url_to

REVIEW_DAYS = 365


class FeedbackForm(msgspec.Struct):
    kind: str = ""
    key: str = ""
    helpful: str = ""
    comment: str = ""
    q: str = ""


class ArticleForm(msgspec.Struct):
    category: str = ""
    review_due: str = ""
    title_de: str = ""
    body_de: str = ""
    keywords_de: str = ""
    title_en: str = ""
    body_en: str = ""
    keywords_en: str = ""
    publish: str = ""


class HelpPagesController(Controller):
    path = "/"
    include_in_schema = False

    @get("/help", operation_id="helpPage", name="help")
    async def index(self, request: Request[Any, Any, Any], help: NamedDependency[HelpDeps]) -> Template:
        """Categories with their articles, and the search."""
        lang = locale_of(request)
        articles = await published_articles(deps=help)
        by_category = {
            category: [(a, a.shown(lang)) for a in articles if a.category is category] for category in Category
        }
        principal = principal_of(request)
        return Template(
            template_name="help_index.html",
            context=page_context(
                request,
                by_category=by_category,
                category_labels=CATEGORY_LABELS,
                editor=principal is not None and is_editor(principal),
            ),
        )

    @get("/help/{slug:str}", operation_id="helpArticlePage", name="help_article")
    async def article(
        self,
        request: Request[Any, Any, Any],
        help: NamedDependency[HelpDeps],
        analytics: NamedDependency[AnalyticsDeps],
        slug: FromPath[str],
    ) -> Template:
        """One article, with "Was this helpful?"."""
        try:
            view = await read_article(slug, locale_of(request), principal=principal_of(request), deps=help)
        except NotFound as exc:
            raise NotFoundException() from exc
        if "thanks" not in request.query_params:
            await _article_journey(request, analytics, slug)
        return Template(
            template_name="help_article.html",
            context=page_context(
                request,
                view=view,
                category_labels=CATEGORY_LABELS,
                thanks="thanks" in request.query_params,
            ),
        )

    @get("/search", operation_id="searchPage", name="search")
    async def search_page(
        self,
        request: Request[Any, Any, Any],
        help: NamedDependency[HelpDeps],
        analytics: NamedDependency[AnalyticsDeps],
    ) -> Template:
        """Answers, actions and articles for what was typed."""
        lang = locale_of(request)
        query = request.query_params.get("q", "")[:200]
        answer = await search(query, lang, principal=principal_of(request), deps=help) if query.strip() else None
        if answer is not None and "thanks" not in request.query_params:
            await _search_journey(request, analytics, query, found=bool(answer.results))
        _ = gettext_for(request)
        results = (
            [shown(r, links=lambda link: link_url(request, link), _=_, lang=lang) for r in answer.results]
            if answer
            else []
        )
        return Template(
            template_name="search.html",
            context=page_context(request, q=query, results=results, thanks="thanks" in request.query_params),
        )

    @post("/help/feedback", operation_id="helpFeedbackPage", name="help_feedback", status_code=303)
    async def feedback(
        self,
        request: Request[Any, Any, Any],
        help: NamedDependency[HelpDeps],
        analytics: NamedDependency[AnalyticsDeps],
        data: URLEncodedBody[FeedbackForm],
    ) -> Redirect:
        """Count a vote, then back to where it was given."""
        try:
            await give_feedback(data.kind, data.key, helpful=data.helpful == "yes", comment=data.comment, deps=help)
        except DomainError as exc:
            raise NotFoundException() from exc
        if data.kind == "article":
            # "War das hilfreich?" ends the article's journey: yes completes it, no is its failure.
            if data.helpful == "yes":
                await journeys.complete(request, Flow.HELP_ARTICLE, analytics, ask=False)
            else:
                await journeys.fail(request, Flow.HELP_ARTICLE, analytics, "not_helpful")
        if data.kind == "article":
            return Redirect(url_to(request, "help_article", slug=data.key) + "?thanks=1", status_code=303)
        return Redirect(
            url_to(request, "search") + "?" + urlencode({"q": data.q[:200], "thanks": "1"}), status_code=303
        )


async def _article_journey(request: Request[Any, Any, Any], analytics: AnalyticsDeps, slug: str) -> None:
    """Each reading of an article is a journey; one reached from the search page completes the search's
    (click-through: the browser's same-origin Referer names the search page)."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.path == url_to(request, "search"):
        journey, done = journeys.current(request, Flow.SEARCH)
        if journey is not None and not done:
            await journeys.complete(request, Flow.SEARCH, analytics, ask=False)
    await journeys.start(request, Flow.HELP_ARTICLE, analytics, detail=slug, fresh=True)


async def _search_journey(
    request: Request[Any, Any, Any], analytics: AnalyticsDeps, query: str, *, found: bool
) -> None:
    """Each search is a journey, with its words folded (lower case, single spaces) and cut to 80 characters; one
    that finds nothing fails with the words kept, for the "queries without results" list."""
    words = " ".join(query.casefold().split())
    journey = await journeys.start(request, Flow.SEARCH, analytics, detail=words, fresh=True)
    if not found:
        await record_step(Flow.SEARCH, journey, Step.FAILED, error_code="no_results", detail=words, deps=analytics)


class HelpEditorPagesController(Controller):
    """Editing in the app: the roles are checked per article's topic in the use cases."""

    path = "/help-editor"
    include_in_schema = False
    guards = [requires_login]

    @get("", operation_id="helpEditorPage", name="help_edit_index")
    async def overview(self, request: Request[Any, Any, Any], help: NamedDependency[HelpDeps]) -> Response[Any]:
        """Votes, searches that found nothing, overdue reviews, drafts, and every article one may edit."""
        principal = current_principal(request)
        new_slug = request.query_params.get("slug", "").strip().lower()
        if new_slug and SLUG.match(new_slug) and len(new_slug) <= MAX_SLUG:
            return Redirect(url_to(request, "help_edit", slug=new_slug), status_code=303)
        try:
            found = await insights(principal, deps=help)
        except PermissionDenied as exc:
            raise PermissionDeniedException() from exc
        articles = await all_articles(principal, deps=help)
        return Template(
            template_name="help_edit_index.html",
            context=page_context(
                request, insights=found, articles=articles, category_labels=CATEGORY_LABELS, today=help.clock.today()
            ),
        )

    @get("/articles/{slug:str}", operation_id="helpEditPage", name="help_edit")
    async def edit(
        self, request: Request[Any, Any, Any], help: NamedDependency[HelpDeps], slug: FromPath[str]
    ) -> Template:
        """The form for an article (a new one under a slug nobody uses yet)."""
        principal = current_principal(request)
        if not is_editor(principal):
            raise PermissionDeniedException()
        form = ArticleForm(review_due=(help.clock.today() + timedelta(days=REVIEW_DAYS)).isoformat())
        try:
            article = await article_history(principal, slug, deps=help)
        except NotFound:
            article = None
        except PermissionDenied as exc:
            raise PermissionDeniedException() from exc
        if article is not None:
            values: dict[str, str] = {"category": article.category.value, "review_due": article.review_due.isoformat()}
            for lang in LANGUAGES:
                latest = article.latest(lang)
                if latest is not None:
                    values |= {
                        f"title_{lang}": latest.title,
                        f"body_{lang}": latest.body,
                        f"keywords_{lang}": latest.keywords,
                    }
            form = msgspec.convert(values, ArticleForm)
        return self._form(request, slug, form, article=article, principal_categories=self._categories(request))

    def _categories(self, request: Request[Any, Any, Any]) -> list[Category]:
        principal = current_principal(request)
        return [c for c in Category if can_edit(principal, c)]

    def _form(
        self, request: Request[Any, Any, Any], slug: str, form: ArticleForm, *, status_code: int = 200, **extra: Any
    ) -> Template:
        extra.setdefault("errors", {})
        extra.setdefault("article", None)
        extra.setdefault("saved", "saved" in request.query_params)
        return Template(
            template_name="help_edit.html",
            context=page_context(
                request,
                slug=slug,
                form=form,
                category_labels=CATEGORY_LABELS,
                principal_categories=self._categories(request),
                **{k: v for k, v in extra.items() if k != "principal_categories"},
            ),
            status_code=status_code,
        )

    @post("/articles/{slug:str}", operation_id="helpSavePage", name="help_save", status_code=303)
    async def save(
        self,
        request: Request[Any, Any, Any],
        help: NamedDependency[HelpDeps],
        slug: FromPath[str],
        data: URLEncodedBody[ArticleForm],
    ) -> Response[Any]:
        """Save a new version (and publish it when asked)."""
        if not is_editor(current_principal(request)):
            raise PermissionDeniedException()
        _ = gettext_for(request)
        try:
            category = Category(data.category)
            review_due = date.fromisoformat(data.review_due)
        except ValueError:
            errors = {"category": [_("Please choose a topic and a review date.")]}
            return self._form(request, slug, data, status_code=422, errors=errors)
        texts = {
            lang: ArticleText(
                getattr(data, f"title_{lang}"), getattr(data, f"body_{lang}"), getattr(data, f"keywords_{lang}")
            )
            for lang in LANGUAGES
            if getattr(data, f"title_{lang}").strip() or getattr(data, f"body_{lang}").strip()
        }
        try:
            await save_article(
                SaveArticle(current_principal(request), slug, category, review_due, texts, publish=bool(data.publish)),
                deps=help,
            )
        except PermissionDenied as exc:
            raise PermissionDeniedException() from exc
        except DomainError as exc:
            status, errors = form_errors(exc, _)
            return self._form(request, slug, data, status_code=status, errors=errors)
        return Redirect(url_to(request, "help_edit", slug=slug) + "?saved=1", status_code=303)
