"""Flows, journey steps, and the pure rules of analytics: suppression below k, abandonment, escalation, savings."""

from __future__ import annotations

import secrets
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Final, NewType

JourneyId = NewType("JourneyId", str)


class Owner(StrEnum):
    """Who looks after a flow and sees its figures (search and help articles serve both)."""

    HR = "hr"
    IT = "it"
    SHARED = "shared"


class Flow(StrEnum):
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a flow's name, not a password
    UNLOCK = "unlock"
    PASSWORD_CHANGE = "password_change"  # noqa: S105 - a flow's name, not a password
    RECOVERY_ENROLMENT = "recovery_enrolment"
    LEAVE_REQUEST = "leave_request"
    PROFILE_CONTACT = "profile_contact"
    PROFILE_ADDRESS = "profile_address"
    PROFILE_EMERGENCY = "profile_emergency"
    PROFILE_NAME = "profile_name"
    BANK_CHANGE = "bank_change"
    SEARCH = "search"
    HELP_ARTICLE = "help_article"
    HELP_REQUEST = "help_request"

    @property
    def owner(self) -> Owner:
        return FLOW_OWNERS[self]


FLOW_OWNERS: Final[Mapping[Flow, Owner]] = {
    Flow.PASSWORD_RESET: Owner.IT,
    Flow.UNLOCK: Owner.IT,
    Flow.PASSWORD_CHANGE: Owner.IT,
    Flow.RECOVERY_ENROLMENT: Owner.IT,
    Flow.LEAVE_REQUEST: Owner.HR,
    Flow.PROFILE_CONTACT: Owner.HR,
    Flow.PROFILE_ADDRESS: Owner.HR,
    Flow.PROFILE_EMERGENCY: Owner.HR,
    Flow.PROFILE_NAME: Owner.HR,
    Flow.BANK_CHANGE: Owner.HR,
    Flow.SEARCH: Owner.SHARED,
    Flow.HELP_ARTICLE: Owner.SHARED,
    Flow.HELP_REQUEST: Owner.SHARED,
}


class Step(StrEnum):
    """What a journey event says. `reached` carries the step's name in `detail` (e.g. `link_sent`)."""

    STARTED = "started"
    REACHED = "reached"
    COMPLETED = "completed"
    FAILED = "failed"
    ESCALATED = "escalated"


class Solved(StrEnum):
    """The answer to "Hat das Ihr Anliegen gelöst?"."""

    YES = "yes"
    PARTLY = "partly"
    NO = "no"


MAX_DETAIL: Final = 80
MAX_COMMENT: Final = 500
DEFAULT_K: Final = 5


def new_journey_id() -> JourneyId:
    """A random id for one journey: it names no person and cannot be traced back to one."""
    return JourneyId(secrets.token_urlsafe(16))


def plausible_journey_id(value: str) -> bool:
    return 16 <= len(value) <= 32 and all(c.isalnum() or c in "-_" for c in value)


@dataclass(frozen=True, slots=True)
class JourneyEvent:
    """One step of one journey: no employee id, no login, no address; `detail` is a step name or a search's
    folded words, never free text a person typed about themselves."""

    flow: Flow
    journey: JourneyId
    step: Step
    at: datetime
    error_code: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class AnalyticsPolicy:
    """What the works agreement fixes: k, the windows, how long events are kept, and the savings' inputs."""

    k: int = DEFAULT_K
    abandon_after: timedelta = timedelta(hours=1)
    escalation_window: timedelta = timedelta(days=2)
    retention: timedelta = timedelta(days=395)
    minutes_per_flow: Mapping[Flow, Decimal] = field(default_factory=dict)
    default_minutes: Decimal = Decimal("5")
    cost_per_hour: Decimal = Decimal("30")
    currency: str = "CHF"
    # Per-agent figures for HR or IT staff stay off unless the works agreement switches them on (none exist yet).
    per_agent_figures: bool = False

    def minutes(self, flow: Flow) -> Decimal:
        return self.minutes_per_flow.get(flow, self.default_minutes)


@dataclass(frozen=True, slots=True)
class JourneySummary:
    """One journey as the store keeps it for aggregation (one row per journey, updated with each event)."""

    flow: Flow
    started_at: datetime
    completed_at: datetime | None = None
    failures: int = 0
    escalated: bool = False
    solved: Solved | None = None


def is_abandoned(journey: JourneySummary, now: datetime, abandon_after: timedelta) -> bool:
    """Started, not completed, and the configured time has passed."""
    return journey.completed_at is None and now - journey.started_at >= abandon_after


def is_escalation(last_step_at: datetime, help_requested_at: datetime, window: timedelta) -> bool:
    """A help request escalates a journey when it follows the journey's last step within the window."""
    return timedelta(0) <= help_requested_at - last_step_at <= window


@dataclass(frozen=True, slots=True)
class FlowFigures:
    """Aggregates of one flow over a period; every count is of journeys, never of people."""

    flow: Flow
    started: int = 0
    completed: int = 0
    failed: int = 0
    abandoned: int = 0
    escalated: int = 0
    solved_yes: int = 0
    solved_partly: int = 0
    solved_no: int = 0
    median_seconds: float | None = None
    suppressed: bool = False

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.started if self.started and not self.suppressed else None

    @property
    def escalation_rate(self) -> float | None:
        return self.escalated / self.started if self.started and not self.suppressed else None

    @property
    def solved_rate(self) -> float | None:
        answers = self.solved_yes + self.solved_partly + self.solved_no
        return self.solved_yes / answers if answers and not self.suppressed else None


def figures_of(flow: Flow, journeys: Sequence[JourneySummary], now: datetime, policy: AnalyticsPolicy) -> FlowFigures:
    """The figures of one flow from its journeys (the reference the SQL aggregation is tested against)."""
    durations = [(j.completed_at - j.started_at).total_seconds() for j in journeys if j.completed_at is not None]
    figures = FlowFigures(
        flow=flow,
        started=len(journeys),
        completed=len(durations),
        failed=sum(1 for j in journeys if j.failures),
        abandoned=sum(1 for j in journeys if is_abandoned(j, now, policy.abandon_after)),
        escalated=sum(1 for j in journeys if j.escalated),
        solved_yes=sum(1 for j in journeys if j.solved is Solved.YES),
        solved_partly=sum(1 for j in journeys if j.solved is Solved.PARTLY),
        solved_no=sum(1 for j in journeys if j.solved is Solved.NO),
        median_seconds=statistics.median(durations) if durations else None,
    )
    return suppress(figures, policy.k)


def suppress(figures: FlowFigures, k: int) -> FlowFigures:
    """Figures resting on fewer than k journeys are withheld whole: a small count can point to a person, and a rate
    beside it gives the count away. A flow nobody used (0) says nothing about anyone and stays visible."""
    if 0 < figures.started < k:
        return FlowFigures(flow=figures.flow, suppressed=True)
    return figures


# Ten steps a decade (like the E-series of resistors): a time is kept to within about 12 %.
_STEPS: Final = (10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100)


def duration_bucket(seconds: float) -> int:
    """A completion time rounded to ten steps a decade (37 s -> 40, 137 s -> 150, 1,234 s -> 1,200): enough for a
    median, and few enough distinct values that counting them per day keeps the dashboard from reading journeys."""
    value = max(round(seconds), 0)
    if value < 10:
        return value
    scale = int(10 ** (len(str(value)) - 2))
    mantissa = value / scale
    return min(_STEPS, key=lambda step: abs(step - mantissa)) * scale


def median_of_counts(counts: Sequence[tuple[int, int]]) -> float | None:
    """The median of values given as (value, how often)."""
    ordered = sorted((value, n) for value, n in counts if n > 0)
    total = sum(n for _, n in ordered)
    if total == 0:
        return None
    wanted = [(total - 1) // 2, total // 2]
    found: list[int] = []
    seen = 0
    for value, n in ordered:
        while wanted and wanted[0] < seen + n:
            found.append(value)
            wanted.pop(0)
        seen += n
    return sum(found) / len(found)


def suppress_counts(counts: Sequence[tuple[str, int]], k: int) -> list[tuple[str, int]]:
    """Rows of (label, count) with the ones below k left out (search words, failure reasons, votes)."""
    return [(label, count) for label, count in counts if count >= k]


@dataclass(frozen=True, slots=True)
class Savings:
    hours: Decimal
    amount: Decimal
    currency: str
    formula: str
    cost_per_hour: Decimal = Decimal(0)


def _hours(minutes: Decimal) -> Decimal:
    return (minutes / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def savings(figures: Sequence[FlowFigures], policy: AnalyticsPolicy) -> Savings:
    """Self-service completions that were not escalated x the minutes a call or ticket takes x the cost per hour.
    A flow withheld below k counts nothing: its count could be worked out from two totals."""
    minutes = sum(
        (Decimal(max(f.completed - f.escalated, 0)) * policy.minutes(f.flow) for f in figures if not f.suppressed),
        Decimal(0),
    )
    hours = _hours(minutes)
    amount = (minutes / 60 * policy.cost_per_hour).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    formula = (
        "Σ per flow (completed - escalated) x minutes per call ÷ 60 = "
        f"{hours} h; {hours} h x {policy.cost_per_hour} {policy.currency} per hour = {amount} {policy.currency}"
    )
    return Savings(
        hours=hours, amount=amount, currency=policy.currency, formula=formula, cost_per_hour=policy.cost_per_hour
    )


def business_case(
    calls: int, minutes: Decimal, cost_per_hour: Decimal, simple_share: Decimal, solved_share: Decimal
) -> Decimal:
    """The business case in calls: calls x share that is simple x share self-service solves x minutes x rate."""
    saved_minutes = Decimal(calls) * simple_share * solved_share * minutes
    return (saved_minutes / 60 * cost_per_hour).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class Period(StrEnum):
    WEEK = "week"
    MONTH = "month"


def period_start(day: date, period: Period) -> date:
    if period is Period.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


@dataclass(frozen=True, slots=True)
class TrendPoint:
    start: date
    started: int
    completed: int
    suppressed: bool = False


def trend(daily: Sequence[tuple[date, int, int]], period: Period, k: int) -> list[TrendPoint]:
    """(day, started, completed) summed by week or month; a period below k is suppressed."""
    buckets: dict[date, tuple[int, int]] = {}
    for day, started, completed in daily:
        key = period_start(day, period)
        s, c = buckets.get(key, (0, 0))
        buckets[key] = (s + started, c + completed)
    points = [TrendPoint(start, s, c) for start, (s, c) in sorted(buckets.items())]
    return [replace(p, started=0, completed=0, suppressed=True) if 0 < p.started < k else p for p in points]


@dataclass(frozen=True, slots=True)
class Annotation:
    day: date
    text: str
    owner: Owner


# Help request topics (the help-request area's words) and the flows a request on them escalates.
TOPIC_FLOWS: Final[Mapping[str, tuple[Flow, ...]]] = {
    # The help-request topics ESS ships (help_requests.model.DEFAULT_TOPICS) ...
    "login": (Flow.PASSWORD_RESET, Flow.UNLOCK, Flow.PASSWORD_CHANGE, Flow.RECOVERY_ENROLMENT),
    "personal_data": (
        Flow.PROFILE_CONTACT,
        Flow.PROFILE_ADDRESS,
        Flow.PROFILE_EMERGENCY,
        Flow.PROFILE_NAME,
        Flow.BANK_CHANGE,
    ),
    # ... and names a company's own topics may use.
    "password": (Flow.PASSWORD_RESET, Flow.UNLOCK, Flow.PASSWORD_CHANGE, Flow.RECOVERY_ENROLMENT),
    "account": (Flow.UNLOCK, Flow.PASSWORD_RESET, Flow.RECOVERY_ENROLMENT),
    "leave": (Flow.LEAVE_REQUEST,),
    "profile": (Flow.PROFILE_CONTACT, Flow.PROFILE_ADDRESS, Flow.PROFILE_EMERGENCY, Flow.PROFILE_NAME),
    "bank": (Flow.BANK_CHANGE,),
    "payroll": (Flow.BANK_CHANGE,),
}


@dataclass(frozen=True, slots=True)
class HelpRequested:
    """A help request as analytics hears of it: its topic, when, and the journeys the same browser had open or
    finished lately (their random ids from the browser, never who asked)."""

    topic: str
    at: datetime
    journeys: Mapping[Flow, JourneyId] = field(default_factory=dict)
