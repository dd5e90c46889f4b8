"""Analytics rules with fakes: suppression below k, the savings formula (the issue's example), abandonment,
escalation by a help request, retention, and who sees which flows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from ess.domain.analytics.model import (
    AnalyticsPolicy,
    Flow,
    FlowFigures,
    HelpRequested,
    JourneySummary,
    Period,
    Solved,
    Step,
    business_case,
    duration_bucket,
    figures_of,
    is_abandoned,
    is_escalation,
    median_of_counts,
    new_journey_id,
    savings,
    suppress,
    suppress_counts,
    trend,
)
from ess.domain.analytics.ports import AnalyticsDeps
from ess.domain.analytics.recording import answer_solved, delete_expired, note_help_request, record_step
from ess.domain.analytics.report import self_service_figures, visible_flows
from ess.domain.auth.model import Principal
from ess.domain.errors import InvalidInput, PermissionDenied
from ess.domain.hr.model import Role
from tests.fakes import FakeUnitOfWork, FixedClock

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def deps(**policy: object) -> tuple[AnalyticsDeps, FakeUnitOfWork, FixedClock]:
    uow, clock = FakeUnitOfWork(), FixedClock(NOW)
    return AnalyticsDeps(new_uow=lambda: uow, clock=clock, policy=AnalyticsPolicy(**policy)), uow, clock  # type: ignore[arg-type]


def principal(*roles: Role) -> Principal:
    return Principal("x", "X", frozenset({Role.EMPLOYEE, *roles}))


# --- Suppression below k ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("started", "suppressed"), [(0, False), (1, True), (4, True), (5, False), (50, False)])
def test_a_flow_resting_on_fewer_than_k_journeys_is_withheld_whole(started: int, suppressed: bool) -> None:
    figures = suppress(FlowFigures(Flow.LEAVE_REQUEST, started=started, completed=started, solved_no=1), k=5)
    assert figures.suppressed is suppressed
    if suppressed:
        assert (figures.started, figures.completed, figures.solved_no, figures.median_seconds) == (0, 0, 0, None)
        assert figures.completion_rate is None
    else:
        assert figures.started == started


def test_k_is_configurable_and_counts_below_it_are_left_out() -> None:
    assert suppress(FlowFigures(Flow.UNLOCK, started=2), k=2).suppressed is False
    assert suppress(FlowFigures(Flow.UNLOCK, started=2), k=3).suppressed is True
    rows = [("urlaub", 12), ("gehalt anna", 1), ("vpn", 5), ("x", 4)]
    assert suppress_counts(rows, 5) == [("urlaub", 12), ("vpn", 5)]


def test_trend_periods_below_k_are_suppressed() -> None:
    daily = [
        (date(2026, 11, 2), 3, 1),
        (date(2026, 11, 3), 3, 2),
        (date(2026, 11, 10), 2, 2),
        (date(2026, 12, 1), 9, 8),
    ]
    weekly = trend(daily, Period.WEEK, k=5)
    assert [(p.start, p.started, p.suppressed) for p in weekly] == [
        (date(2026, 11, 2), 6, False),
        (date(2026, 11, 9), 0, True),
        (date(2026, 11, 30), 9, False),
    ]
    monthly = trend(daily, Period.MONTH, k=5)
    assert [(p.start, p.started, p.completed) for p in monthly] == [
        (date(2026, 11, 1), 8, 5),
        (date(2026, 12, 1), 9, 8),
    ]


# --- Savings -------------------------------------------------------------------------------------------------------


def test_the_issues_business_case_saves_chf_720_a_day() -> None:
    # 3,000 calls a day x 1.5 minutes x CHF 30/h x 40 % simple x 80 % solved by self-service.
    assert business_case(3000, Decimal("1.5"), Decimal(30), Decimal("0.4"), Decimal("0.8")) == Decimal("720.00")


def test_savings_count_completions_not_escalated_with_the_formula_shown() -> None:
    policy = AnalyticsPolicy(minutes_per_flow={Flow.PASSWORD_RESET: Decimal("1.5")}, cost_per_hour=Decimal(30))
    # The business case as completions: 960 simple calls solved a day, none escalated.
    result = savings([FlowFigures(Flow.PASSWORD_RESET, started=1000, completed=1000, escalated=40)], policy)
    assert (result.hours, result.amount, result.currency) == (Decimal("24.00"), Decimal("720.00"), "CHF")
    assert "24.00 h x 30 CHF per hour = 720.00 CHF" in result.formula
    assert "(completed - escalated) x minutes per call" in result.formula


def test_savings_use_each_flows_minutes_and_skip_suppressed_flows() -> None:
    policy = AnalyticsPolicy(
        minutes_per_flow={Flow.LEAVE_REQUEST: Decimal(6)}, default_minutes=Decimal(3), cost_per_hour=Decimal(60)
    )
    result = savings(
        [
            FlowFigures(Flow.LEAVE_REQUEST, started=20, completed=10),  # 10 x 6 = 60 min
            FlowFigures(Flow.UNLOCK, started=30, completed=20, escalated=10),  # 10 x 3 = 30 min
            FlowFigures(Flow.BANK_CHANGE, suppressed=True),
        ],
        policy,
    )
    assert (result.hours, result.amount) == (Decimal("1.50"), Decimal("90.00"))


# --- Abandonment, escalation ---------------------------------------------------------------------------------------


def test_abandoned_means_started_and_not_completed_within_the_configured_time() -> None:
    hour = timedelta(hours=1)
    open_journey = JourneySummary(Flow.LEAVE_REQUEST, started_at=NOW - timedelta(minutes=59))
    assert not is_abandoned(open_journey, NOW, hour)
    assert is_abandoned(open_journey, NOW + timedelta(minutes=1), hour)
    done = JourneySummary(Flow.LEAVE_REQUEST, started_at=NOW - 2 * hour, completed_at=NOW - hour)
    assert not is_abandoned(done, NOW, hour)
    figures = figures_of(Flow.LEAVE_REQUEST, [open_journey, done], NOW + hour, AnalyticsPolicy(k=2))
    assert (figures.started, figures.completed, figures.abandoned, figures.median_seconds) == (2, 1, 1, 3600.0)


def test_escalation_window() -> None:
    window = timedelta(days=2)
    assert is_escalation(NOW, NOW + window, window)
    assert not is_escalation(NOW, NOW + window + timedelta(seconds=1), window)
    assert not is_escalation(NOW, NOW - timedelta(seconds=1), window)


async def test_a_help_request_on_the_same_topic_within_the_window_escalates_the_journey() -> None:
    analytics, uow, clock = deps(escalation_window=timedelta(hours=48), k=1)
    reset, leave, old = new_journey_id(), new_journey_id(), new_journey_id()
    await record_step(Flow.PASSWORD_RESET, old, Step.STARTED, deps=analytics)
    clock.advance(timedelta(days=3))
    await record_step(Flow.PASSWORD_RESET, reset, Step.STARTED, deps=analytics)
    await record_step(Flow.PASSWORD_RESET, reset, Step.FAILED, error_code="recovery_link_invalid", deps=analytics)
    await record_step(Flow.LEAVE_REQUEST, leave, Step.COMPLETED, deps=analytics)
    clock.advance(timedelta(hours=5))

    # The help-request flow (issue 16) hands over its topic and the browser's journeys; a fake event stands in.
    escalated = await note_help_request(
        HelpRequested(
            topic="password", at=clock.now(), journeys={Flow.PASSWORD_RESET: reset, Flow.LEAVE_REQUEST: leave}
        ),
        deps=analytics,
    )
    assert escalated == [Flow.PASSWORD_RESET]  # the leave journey is on another topic
    assert uow.journeys.journeys[(Flow.PASSWORD_RESET, reset)].escalated
    assert not uow.journeys.journeys[(Flow.LEAVE_REQUEST, leave)].escalated

    late = await note_help_request(
        HelpRequested(topic="password", at=clock.now(), journeys={Flow.PASSWORD_RESET: old}), deps=analytics
    )
    assert late == []  # its last step lies 3 days and 5 hours back: outside the window
    unknown = await note_help_request(
        HelpRequested(topic="password", at=clock.now(), journeys={Flow.UNLOCK: new_journey_id()}), deps=analytics
    )
    assert unknown == []


# --- Recording, answers, retention ---------------------------------------------------------------------------------


async def test_events_carry_a_random_journey_id_and_a_step_name_never_a_person() -> None:
    analytics, uow, _ = deps()
    journey = new_journey_id()
    assert len(journey) >= 20
    await record_step(Flow.PASSWORD_RESET, journey, "link_sent", deps=analytics)
    await record_step(Flow.PASSWORD_RESET, "anna.schmidt", Step.STARTED, deps=analytics)  # type: ignore[arg-type]
    [event] = uow.journeys.events
    assert (event.step, event.detail, event.journey) == (Step.REACHED, "link_sent", journey)


async def test_the_answer_to_did_it_solve_it_is_kept_on_a_known_journey_only() -> None:
    analytics, uow, _ = deps()
    journey = new_journey_id()
    await record_step(Flow.LEAVE_REQUEST, journey, Step.COMPLETED, deps=analytics)
    await answer_solved(Flow.LEAVE_REQUEST, journey, "partly", "Halbtage fehlen", deps=analytics)
    assert uow.journeys.journeys[(Flow.LEAVE_REQUEST, journey)].solved is Solved.PARTLY
    with pytest.raises(InvalidInput):
        await answer_solved(Flow.LEAVE_REQUEST, journey, "maybe", deps=analytics)
    with pytest.raises(InvalidInput):
        await answer_solved(Flow.LEAVE_REQUEST, new_journey_id(), "yes", deps=analytics)
    with pytest.raises(InvalidInput):
        await answer_solved(Flow.LEAVE_REQUEST, journey, "yes", "x" * 501, deps=analytics)


async def test_retention_deletes_events_and_journeys_older_than_the_limit() -> None:
    analytics, uow, clock = deps(retention=timedelta(days=30))
    old, recent = new_journey_id(), new_journey_id()
    await record_step(Flow.UNLOCK, old, Step.STARTED, deps=analytics)
    await record_step(Flow.UNLOCK, old, Step.COMPLETED, deps=analytics)
    clock.advance(timedelta(days=20))
    await record_step(Flow.UNLOCK, recent, Step.STARTED, deps=analytics)
    clock.advance(timedelta(days=11))
    assert await delete_expired(deps=analytics) == 2
    assert [e.journey for e in uow.journeys.events] == [recent]
    assert set(uow.journeys.journeys) == {(Flow.UNLOCK, recent)}


# --- Who sees what ---------------------------------------------------------------------------------------------------


def test_hr_sees_hr_flows_it_sees_it_flows_employees_nothing() -> None:
    hr = set(visible_flows(principal(Role.HR)))
    it = set(visible_flows(principal(Role.HELPDESK)))
    assert Flow.LEAVE_REQUEST in hr and Flow.BANK_CHANGE in hr and Flow.PASSWORD_RESET not in hr
    assert Flow.PASSWORD_RESET in it and Flow.UNLOCK in it and Flow.LEAVE_REQUEST not in it
    assert Flow.SEARCH in hr and Flow.SEARCH in it
    assert set(visible_flows(principal(Role.ADMIN))) == set(Flow)
    with pytest.raises(PermissionDenied):
        visible_flows(principal())
    with pytest.raises(PermissionDenied):
        visible_flows(principal(Role.MANAGER))


async def test_the_report_suppresses_and_scopes() -> None:
    analytics, _, clock = deps()
    for _ in range(5):
        await record_step(Flow.LEAVE_REQUEST, new_journey_id(), Step.COMPLETED, deps=analytics)
    await record_step(Flow.BANK_CHANGE, new_journey_id(), Step.COMPLETED, deps=analytics)
    report = await self_service_figures(principal(Role.HR), clock.today(), clock.today(), deps=analytics)
    by_flow = {f.flow: f for f in report.flows}
    assert by_flow[Flow.LEAVE_REQUEST].completed == 5 and not by_flow[Flow.LEAVE_REQUEST].suppressed
    assert by_flow[Flow.BANK_CHANGE].suppressed
    assert Flow.PASSWORD_RESET not in by_flow
    with pytest.raises(InvalidInput):
        await self_service_figures(principal(Role.HR), clock.today(), clock.today() - timedelta(days=1), deps=analytics)


@pytest.mark.parametrize(
    ("seconds", "bucket"),
    [(0, 0), (9.4, 9), (11, 10), (37.4, 40), (99, 100), (137, 150), (1234, 1200), (2700, 2500), (86399, 80000)],
)
def test_completion_times_are_kept_to_ten_steps_a_decade(seconds: float, bucket: int) -> None:
    assert duration_bucket(seconds) == bucket


def test_the_median_from_counts_per_value() -> None:
    assert median_of_counts([]) is None
    assert median_of_counts([(10, 1)]) == 10
    assert median_of_counts([(30, 1), (10, 1)]) == 20
    assert median_of_counts([(10, 2), (20, 1), (90, 2)]) == 20
    assert median_of_counts([(10, 3), (20, 3)]) == 15
