"""Use cases: read, write, publish and seed help articles; every save adds a version, every publish re-indexes."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.auth.model import Principal
from ess.domain.errors import InvalidInput, NotFound, PermissionDenied
from ess.domain.help.model import (
    LANGUAGES,
    Article,
    ArticleText,
    ArticleVersion,
    Category,
    IndexedText,
    can_edit,
    check_slug,
)
from ess.domain.help.ports import HelpDeps, HelpUnitOfWork
from ess.domain.help.text import terms

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_EMPHASIS = re.compile(r"[*_`]+")
_MARKUP = re.compile(r"[#>\[\]|]+|\(https?:[^)]*\)|\(mailto:[^)]*\)|:?-{3,}:?|^\s*[-*]\s+", re.MULTILINE)
SNIPPET_CHARS = 180
SEED_AUTHOR = "ess"


def fill(text: str, values: Mapping[str, str]) -> str:
    """Company values in a text: "{hr_email}" becomes the configured address; unknown names stay as written."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def plain(markdown: str) -> str:
    """Markdown without its markup, on one line: for snippets and the index."""
    return " ".join(_MARKUP.sub(" ", _EMPHASIS.sub("", markdown)).split())


def snippet(markdown: str, limit: int = SNIPPET_CHARS) -> str:
    text = plain(markdown)
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def indexed(article: Article, values: Mapping[str, str]) -> list[IndexedText]:
    """The published language versions of an article as the index holds them."""
    found: list[IndexedText] = []
    for lang in LANGUAGES:
        version = article.published(lang)
        if version is None:
            continue
        body = fill(version.body, values)
        found.append(
            IndexedText(
                slug=article.slug,
                lang=lang,
                category=article.category,
                title=version.title,
                snippet=snippet(body),
                title_terms=" ".join(terms(f"{version.title} {version.keywords}")),
                body_terms=" ".join(terms(plain(body))),
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class ArticleView:
    article: Article
    version: ArticleVersion
    html: str
    overdue: bool
    editable: bool


async def read_article(slug: str, lang: str, *, principal: Principal | None, deps: HelpDeps) -> ArticleView:
    """An article for a reader: the published text in their language (else the other one); editors of its topic
    also see one that is not published yet. Anybody else gets NotFound."""
    async with deps.new_uow() as uow:
        article = await uow.articles.get(slug)
    editable = article is not None and principal is not None and can_edit(principal, article.category)
    if article is None:
        raise NotFound("No such article.")
    version = article.shown(lang) or (article.latest(lang) if editable else None)
    if version is None:
        raise NotFound("No such article.")
    return ArticleView(
        article=article,
        version=version,
        html=deps.renderer(fill(version.body, deps.values)),
        overdue=article.review_overdue(deps.clock.today()),
        editable=editable,
    )


async def published_articles(*, deps: HelpDeps) -> list[Article]:
    """Every article with a published text, by category and slug."""
    async with deps.new_uow() as uow:
        articles = await uow.articles.all()
    return sorted((a for a in articles if a.is_published), key=lambda a: (list(Category).index(a.category), a.slug))


async def all_articles(principal: Principal, *, deps: HelpDeps) -> list[Article]:
    """Every article an editor may edit, drafts included."""
    async with deps.new_uow() as uow:
        articles = await uow.articles.all()
    return [a for a in articles if can_edit(principal, a.category)]


@dataclass(frozen=True, slots=True)
class SaveArticle:
    """Save the texts (any of the languages) of an article, new or existing, and publish them when asked."""

    principal: Principal
    slug: str
    category: Category
    review_due: date
    texts: Mapping[str, ArticleText]
    publish: bool = False


async def save_article(cmd: SaveArticle, *, deps: HelpDeps) -> Article:
    """A changed text becomes a new version (a draft until published); publishing makes the newest version of each
    language the published one and re-indexes the article. Checked: the editor may edit the topic it had and the
    one it gets."""
    check_slug(cmd.slug)
    unknown = set(cmd.texts) - set(LANGUAGES)
    if unknown:
        raise InvalidInput("Languages are de and en.", fields={"lang": "unknown"})
    for text in cmd.texts.values():
        text.check()
    now = deps.clock.now()
    async with deps.new_uow() as uow:
        current = await uow.articles.get(cmd.slug)
        if not can_edit(cmd.principal, cmd.category) or (
            current is not None and not can_edit(cmd.principal, current.category)
        ):
            await _audit(uow, cmd.principal, "help.article_save", cmd.slug, Outcome.DENIED, deps=deps)
            await uow.commit()
            raise PermissionDenied("Your roles do not allow editing this topic.")
        article = current or Article(slug=cmd.slug, category=cmd.category, review_due=cmd.review_due)
        if current is None and not cmd.texts:
            raise InvalidInput("A new article needs a text.", fields={"body": "missing"})
        versions = list(article.versions)
        for lang, text in cmd.texts.items():
            latest = article.latest(lang)
            if latest is not None and (latest.title, latest.body, latest.keywords) == (
                text.title,
                text.body,
                text.keywords,
            ):
                continue
            number = (latest.version if latest else 0) + 1
            versions.append(
                ArticleVersion(lang, number, text.title, text.body, text.keywords, cmd.principal.login, now)
            )
        article = replace(
            article, category=cmd.category, review_due=cmd.review_due, versions=tuple(versions), updated_at=now
        )
        if cmd.publish:
            article = _published(article, now)
        await uow.articles.save(article)
        await uow.help_index.replace(article.slug, indexed(article, deps.values))
        action = "help.article_published" if cmd.publish else "help.article_saved"
        await _audit(uow, cmd.principal, action, cmd.slug, Outcome.SUCCESS, deps=deps)
        await uow.commit()
    return article


def _published(article: Article, now: datetime) -> Article:
    latest = {lang: article.latest(lang) for lang in LANGUAGES}
    versions = tuple(
        replace(v, published_at=now) if v is latest[v.lang] and v.published_at is None else v for v in article.versions
    )
    return replace(article, versions=versions)


async def publish_article(principal: Principal, slug: str, *, deps: HelpDeps) -> Article:
    """Publish the newest text of each language of an article."""
    async with deps.new_uow() as uow:
        article = await uow.articles.get(slug)
        if article is None:
            raise NotFound("No such article.")
        if not can_edit(principal, article.category):
            await _audit(uow, principal, "help.article_publish", slug, Outcome.DENIED, deps=deps)
            await uow.commit()
            raise PermissionDenied("Your roles do not allow editing this topic.")
        article = _published(article, deps.clock.now())
        await uow.articles.save(article)
        await uow.help_index.replace(slug, indexed(article, deps.values))
        await _audit(uow, principal, "help.article_published", slug, Outcome.SUCCESS, deps=deps)
        await uow.commit()
    return article


async def article_history(principal: Principal, slug: str, *, deps: HelpDeps) -> Article:
    """An article with every version, for the editors of its topic."""
    async with deps.new_uow() as uow:
        article = await uow.articles.get(slug)
    if article is None:
        raise NotFound("No such article.")
    if not can_edit(principal, article.category):
        raise PermissionDenied("Your roles do not allow editing this topic.")
    return article


@dataclass(frozen=True, slots=True)
class SeedArticle:
    slug: str
    category: Category
    texts: Mapping[str, ArticleText]


async def seed_articles(seeds: Sequence[SeedArticle], *, review_due: date, deps: HelpDeps) -> int:
    """Add the shipped articles that are missing, published; articles that exist (perhaps edited) stay as they are."""
    now = deps.clock.now()
    added = 0
    async with deps.new_uow() as uow:
        for seed in seeds:
            if await uow.articles.get(seed.slug) is not None:
                continue
            versions = tuple(
                ArticleVersion(lang, 1, t.title, t.body, t.keywords, SEED_AUTHOR, now, published_at=now)
                for lang, t in seed.texts.items()
            )
            article = Article(seed.slug, seed.category, review_due, versions, updated_at=now)
            await uow.articles.save(article)
            await uow.help_index.replace(seed.slug, indexed(article, deps.values))
            added += 1
        if added:
            await uow.audit.add(
                AuditEvent(now, SEED_AUTHOR, "help.articles_seeded", Outcome.SUCCESS, details={"added": added})
            )
        await uow.commit()
    return added


async def _audit(
    uow: HelpUnitOfWork, principal: Principal, action: str, slug: str, outcome: Outcome, *, deps: HelpDeps
) -> None:
    await uow.audit.add(AuditEvent(deps.clock.now(), principal.login, action, outcome, target=slug))
