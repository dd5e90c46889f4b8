"""Use cases: "War das hilfreich?" votes, and what editors see: votes, searches that found nothing, overdue reviews,
drafts. Everything is counted in aggregate: no vote or search is stored with who made it (BetrVG §87(1) no. 6)."""

from __future__ import annotations

from dataclasses import dataclass

from ess.domain.auth.model import Principal
from ess.domain.errors import InvalidInput, PermissionDenied
from ess.domain.help.model import (
    LANGUAGES,
    MAX_COMMENT,
    AnswerTopic,
    Article,
    FeedbackCount,
    MissedQuery,
    ResultKind,
    can_edit,
    is_editor,
)
from ess.domain.help.ports import HelpDeps

MISSED_SHOWN = 50


async def give_feedback(kind: str, key: str, *, helpful: bool, comment: str = "", deps: HelpDeps) -> None:
    """Count one vote on an article (by slug) or a personal answer (by topic); an unknown one is refused."""
    comment = " ".join(comment.split())
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(
            "A comment has at most %(max)s characters.", fields={"comment": "too long"}, params={"max": MAX_COMMENT}
        )
    async with deps.new_uow() as uow:
        if kind == ResultKind.ARTICLE.value:
            article = await uow.articles.get(key)
            if article is None or not article.is_published:
                raise InvalidInput("No such article.", fields={"key": "unknown"})
        elif kind != ResultKind.ANSWER.value or key not in {t.value for t in AnswerTopic}:
            raise InvalidInput("Feedback is given on an article or an answer.", fields={"kind": "unknown"})
        await uow.help_feedback.add(kind, key, helpful=helpful, comment=comment, at=deps.clock.now())
        await uow.commit()


@dataclass(frozen=True, slots=True)
class Insights:
    feedback: list[FeedbackCount]
    missed: list[MissedQuery]
    overdue: list[Article]
    drafts: list[Article]


async def insights(principal: Principal, *, deps: HelpDeps) -> Insights:
    """What helps and what is missing, for editors: votes, unanswered searches, overdue reviews, unpublished texts."""
    if not is_editor(principal):
        raise PermissionDenied("Only the editors of the help center see this.")
    today = deps.clock.today()
    async with deps.new_uow() as uow:
        feedback = await uow.help_feedback.counts()
        missed = await uow.missed_queries.top(MISSED_SHOWN)
        articles = [a for a in await uow.articles.all() if can_edit(principal, a.category)]
    return Insights(
        feedback=sorted(feedback, key=lambda f: (-(f.helpful + f.not_helpful), f.kind, f.key)),
        missed=missed,
        overdue=[a for a in articles if a.review_overdue(today)],
        drafts=[a for a in articles if any(a.draft(lang) for lang in LANGUAGES)],
    )
