"""How articles are ranked, the same on every engine: the engine finds candidates, the domain weighs each query term
by how rare it is (BM25's idf) and counts a match in the title (and the editors' search words) thrice a match in
the text; votes of "Was this helpful?" tip the balance between close candidates."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Final

from ess.domain.help.model import IndexHit, IndexStats

TITLE_WEIGHT: Final = 3.0
PREFIX_FROM: Final = 4
# At most this share of an article's score comes from its votes (helpful - not helpful, over all votes).
USEFULNESS_WEIGHT: Final = 0.1


def idf(term: str, stats: IndexStats) -> float:
    documents = max(stats.documents, 1)
    frequency = stats.document_frequency.get(term, 1)
    return math.log(1 + (documents - frequency + 0.5) / (frequency + 0.5))


def _matches(term: str, words: Counter[str]) -> int:
    """How often a term occurs among words, also as a prefix for longer terms ("passwort" in "passwortregel")."""
    if len(term) < PREFIX_FROM:
        return words.get(term, 0)
    return sum(count for word, count in words.items() if word.startswith(term))


def relevance(hit: IndexHit, terms: Sequence[str], stats: IndexStats) -> float:
    title, body = Counter(hit.title_terms.split()), Counter(hit.body_terms.split())
    score = 0.0
    for term in dict.fromkeys(terms):
        weight = idf(term, stats)
        in_title, in_body = _matches(term, title), _matches(term, body)
        if in_title:
            score += TITLE_WEIGHT * weight
        if in_body:
            score += weight * (1 + math.log(in_body)) / 2
    return score


def rank(
    hits: Sequence[IndexHit], terms: Sequence[str], stats: IndexStats, votes: Mapping[str, tuple[int, int]]
) -> list[tuple[IndexHit, float]]:
    """Candidates best first, with their score; ties keep the engine's order."""
    scored = []
    for position, hit in enumerate(hits):
        score = relevance(hit, terms, stats)
        helpful, not_helpful = votes.get(hit.slug, (0, 0))
        if helpful + not_helpful:
            score *= 1 + USEFULNESS_WEIGHT * (helpful - not_helpful) / (helpful + not_helpful)
        scored.append((-score, position, hit))
    return [(hit, -score) for score, _, hit in sorted(scored, key=lambda item: (item[0], item[1]))]
