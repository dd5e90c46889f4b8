"""The SQL journey store on SQLite and PostgreSQL: events fold into journeys and daily counters; the figures, the
median, abandonment, failure reasons, search words and answers come out of the counters as a recount from the stored
rows gives them; retention deletes everything older than the limit. (The flows that record the events are tested
over HTTP in tests/e2e/test_analytics_http.py; here the recording use case is called as a flow would.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest

from ess.adapters.sql.analytics import SqlJourneyRepository
from ess.bootstrap import Container, build_container
from ess.domain.analytics.model import AnalyticsPolicy, Flow, Step, new_journey_id
from ess.domain.analytics.recording import answer_solved, delete_expired, record_step
from tests.conftest import make_settings
from tests.fakes import FixedClock

DAY = date(2026, 11, 23)


@pytest.fixture
async def container(database_url: str) -> AsyncIterator[tuple[Container, FixedClock]]:
    clock = FixedClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    built = build_container(make_settings(database_url), clock=clock)
    try:
        yield built, clock
    finally:
        await built.close()


async def figures(built: Container, clock: FixedClock) -> dict[Flow, tuple[object, ...]]:
    async with built.new_uow() as uow:
        found = await uow.journeys.figures(
            list(Flow), DAY - timedelta(days=3), DAY + timedelta(days=3), now=clock.now(), policy=AnalyticsPolicy()
        )
        errors = await uow.journeys.top_errors(list(Flow), DAY, DAY + timedelta(days=3), 10)
        missed = await uow.journeys.top_searches("missed", DAY, DAY, 10)
        queries = await uow.journeys.top_searches("query", DAY, DAY, 10)
        daily = await uow.journeys.daily(list(Flow), DAY, DAY + timedelta(days=3))
    return {
        **{
            f.flow: (
                f.started,
                f.completed,
                f.failed,
                f.abandoned,
                f.escalated,
                f.solved_yes,
                f.solved_no,
                f.median_seconds,
            )
            for f in found
        },
        Flow.HELP_REQUEST: (tuple(errors), tuple(missed), tuple(queries), tuple(daily)),
    }


async def test_counters_match_a_recount_and_retention_clears_them(container: tuple[Container, FixedClock]) -> None:
    built, clock = container
    deps = built.analytics
    leave = [new_journey_id() for _ in range(3)]
    for index, journey in enumerate(leave):
        await record_step(Flow.LEAVE_REQUEST, journey, Step.STARTED, deps=deps)
        clock.advance(timedelta(seconds=30 * (index + 1)))
        if index < 2:
            await record_step(Flow.LEAVE_REQUEST, journey, Step.FAILED, error_code="policy_violation", deps=deps)
            await record_step(Flow.LEAVE_REQUEST, journey, Step.COMPLETED, deps=deps)
    await answer_solved(Flow.LEAVE_REQUEST, leave[0], "no", deps=deps)
    await answer_solved(Flow.LEAVE_REQUEST, leave[0], "yes", "doch", deps=deps)  # the latest answer counts
    search = new_journey_id()
    await record_step(Flow.SEARCH, search, Step.STARTED, detail="dienstfahrrad", deps=deps)
    await record_step(Flow.SEARCH, search, Step.FAILED, error_code="no_results", detail="dienstfahrrad", deps=deps)
    await record_step(Flow.LEAVE_REQUEST, leave[1], Step.ESCALATED, deps=deps)
    clock.advance(timedelta(hours=2))

    live = await figures(built, clock)
    assert live[Flow.LEAVE_REQUEST] == (3, 2, 2, 1, 1, 1, 0, 45.0)  # median of 30 s and 60 s
    assert live[Flow.SEARCH][:4] == (1, 0, 1, 1)
    errors, missed, queries, daily = live[Flow.HELP_REQUEST]  # type: ignore[misc]
    assert errors == (("leave_request: policy_violation", 2), ("search: no_results", 1))
    assert missed == (("dienstfahrrad", 1),) and queries == (("dienstfahrrad", 1),)
    assert daily == ((DAY, 4, 2),)

    async with built.new_uow() as uow:
        assert isinstance(uow.journeys, SqlJourneyRepository)
        await uow.journeys.rebuild_counters()
        await uow.commit()
    assert await figures(built, clock) == live

    clock.advance(timedelta(days=396))
    assert await delete_expired(deps=deps) == 10
    after = await figures(built, clock)
    assert Flow.LEAVE_REQUEST not in after
