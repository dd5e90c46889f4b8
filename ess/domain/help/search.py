"""Use case: one search box. Personal answers, actions and articles in one ranked list; a query that found nothing
is counted (its folded text only, never who asked)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ess.domain.auth.model import Principal
from ess.domain.help.answers import personal_answer
from ess.domain.help.intents import (
    ACTION_LINKS,
    ACTION_PATTERNS,
    ANSWER_PATTERNS,
    Match,
    allowed_action,
    best_match,
    intent_words,
)
from ess.domain.help.model import MAX_QUERY, AnswerTopic, HelpPage, IndexHit, Result, ResultKind, SearchAnswer
from ess.domain.help.ports import HelpDeps, HelpUnitOfWork
from ess.domain.help.ranking import rank
from ess.domain.help.text import (
    COMPOUND_PARTS,
    STOPWORDS,
    SYNONYMS,
    Vocabulary,
    canonical,
    fold,
    split_compound,
    terms,
    words,
)
from ess.domain.shared import Link

ARTICLE_LIMIT = 8
# The engine's best this many go into the domain's own ranking.
CANDIDATES = 40
# Ranking: an intent whose pattern covers the whole query (or two words of it) comes before the articles; a weaker one
# after the best article.
STRONG = 3.0
WEAK = 0.5


def normalise_query(query: str) -> str:
    return " ".join(fold(query).split())[:MAX_QUERY]


@dataclass(frozen=True, slots=True)
class Understood:
    """A query as the search reads it: content terms (compound parts included), every term (stopwords kept), and
    each typed content word with its parts."""

    content: list[str]
    everything: list[str]
    words: dict[str, frozenset[str]]


def understand(query: str, vocabulary: Vocabulary) -> Understood:
    """Each word split if it is a compound and corrected to the nearest known word when it is a typo."""
    known = COMPOUND_PARTS | vocabulary.known

    def resolve(found: list[str]) -> list[str]:
        resolved: list[str] = []
        for term in found:
            if term in vocabulary.known:
                resolved.append(term)
                continue
            parts = split_compound(term, known)
            if parts:
                resolved.extend([term, *(canonical(p) for p in parts)])
                continue
            better = vocabulary.correct(term)
            resolved.append(canonical(better))
            resolved.extend(canonical(p) for p in split_compound(better, known))
        return list(dict.fromkeys(resolved))

    typed: dict[str, frozenset[str]] = {}
    for word in words(query):
        if word in STOPWORDS:
            continue
        resolved = resolve([canonical(word)])
        typed[resolved[0]] = frozenset(resolved[1:])
    return Understood(resolve(terms(query)), resolve(terms(query, keep_stopwords=True)), typed)


async def vocabulary(uow: HelpUnitOfWork, deps: HelpDeps) -> Vocabulary:
    generation = await uow.help_index.generation()
    if generation != deps.cache.generation:
        stats = await uow.help_index.vocabulary()
        known = set(stats.document_frequency) | intent_words() | COMPOUND_PARTS
        deps.cache.vocabulary = Vocabulary.of(known | set(SYNONYMS) | set(SYNONYMS.values()))
        deps.cache.stats = stats
        deps.cache.generation = generation
    return deps.cache.vocabulary


def _score(match: Match) -> float:
    return STRONG + match.size if match.covers_query or match.size >= 2 else WEAK + match.size / 10


async def _articles(
    text: str, lang: str, understood: Understood, *, record_miss: bool, deps: HelpDeps
) -> list[tuple[IndexHit, float]]:
    """The ranked article hits; a query nothing answered (`record_miss` and no hit) is counted."""
    content = understood.content
    async with deps.new_uow() as uow:
        candidates = await uow.help_index.search(content, lang, CANDIDATES) if content else []
        votes = {
            count.key: (count.helpful, count.not_helpful)
            for count in (await uow.help_feedback.counts([h.slug for h in candidates]) if candidates else [])
            if count.kind == ResultKind.ARTICLE.value
        }
        hits = rank(candidates, content, deps.cache.stats, votes)[:ARTICLE_LIMIT]
        if text and record_miss and not hits:
            await uow.missed_queries.record(text, lang, deps.clock.now())
            await uow.commit()
    return hits


async def _answers(
    topics: list[tuple[AnswerTopic, float]], principal: Principal | None, deps: HelpDeps
) -> list[Result]:
    if principal is None:
        return []
    found = [await personal_answer(topic, principal, score, deps=deps) for topic, score in topics]
    return [answer for answer in found if answer is not None]


async def search(query: str, lang: str, *, principal: Principal | None, deps: HelpDeps) -> SearchAnswer:
    """Answers from the caller's own data (when logged in), actions they can take, and articles, best first.

    The article lookup and the personal answers run side by side: each has its own unit of work."""
    text = normalise_query(query)
    async with deps.new_uow() as uow:
        understood = understand(text, await vocabulary(uow, deps))
    query_terms, typed = frozenset(understood.everything), understood.words
    actions = [
        Result(ResultKind.ACTION, action.value, ACTION_LINKS[action], _score(match))
        for action, patterns in ACTION_PATTERNS.items()
        if allowed_action(action, principal) and (match := best_match(patterns, query_terms, typed))
    ]
    topics = [
        (topic, _score(match))
        for topic, patterns in ANSWER_PATTERNS.items()
        if principal is not None and (match := best_match(patterns, query_terms, typed))
    ]
    hits, answers = await asyncio.gather(
        _articles(text, lang, understood, record_miss=not actions and not topics, deps=deps),
        _answers(topics, principal, deps),
    )
    best = hits[0][1] if hits and hits[0][1] > 0 else 1.0
    articles = [
        Result(
            ResultKind.ARTICLE,
            hit.slug,
            Link(HelpPage.ARTICLE, {"slug": hit.slug}),
            # Articles keep their ranked order; the score only says how close each is to the best.
            score=score / best,
            title=hit.title,
            snippet=hit.snippet,
        )
        for hit, score in hits
    ]
    order = {ResultKind.ANSWER: 0, ResultKind.ACTION: 1, ResultKind.ARTICLE: 2}
    intents = sorted([*answers, *actions], key=lambda r: (-r.score, order[r.kind], r.key))
    strong, weak = [r for r in intents if r.score >= STRONG], [r for r in intents if r.score < STRONG]
    return SearchAnswer(query=text, lang=lang, results=(*strong, *articles[:1], *weak, *articles[1:]))
