"""The help search's quality set (tests/data/help_search_quality.toml): each expected result is among the first
three, on SQLite FTS5 and on PostgreSQL full-text search."""

from __future__ import annotations

from ess.domain.auth.model import Principal
from tests.help_world import HelpWorld, help_world, quality_queries

__all__ = ["help_world"]


def test_the_quality_set_is_large_and_mixed() -> None:
    queries = quality_queries()
    assert len(queries) >= 60
    assert {q["lang"] for q in queries} == {"de", "en"}
    assert sum(1 for q in queries if q.get("login")) >= 10


async def test_every_expected_result_is_in_the_top_three(help_world: HelpWorld) -> None:
    principals: dict[str, Principal] = {}
    misses = []
    for query in quality_queries():
        principal = None
        if login := query.get("login"):
            principal = principals.get(login) or await help_world.principal(login)
            principals[login] = principal
        top = (await help_world.keys(query["q"], query["lang"], principal))[:3]
        if query["expect"] not in top:
            misses.append(f"{query['q']!r} ({query['lang']}, {'as ' + login if login else 'anonymous'}): {top}")
    assert misses == [], "\n".join(misses)
