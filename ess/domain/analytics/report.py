"""Use cases: the self-service report for HR (HR flows) and IT (IT flows): figures per flow, savings, trends, search
and article figures, annotations; every figure below k suppressed. Employees see nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ess.domain.analytics.model import (
    FLOW_OWNERS,
    Annotation,
    Flow,
    FlowFigures,
    Owner,
    Period,
    Savings,
    TrendPoint,
    savings,
    suppress,
    suppress_counts,
    trend,
)
from ess.domain.analytics.ports import AnalyticsDeps
from ess.domain.audit import AuditEvent, Outcome
from ess.domain.auth.model import Principal
from ess.domain.errors import InvalidInput, PermissionDenied
from ess.domain.hr.model import Role

MAX_DAYS = 731
TOP_SHOWN = 10


def visible_owners(principal: Principal) -> tuple[Owner, ...]:
    """HR sees the HR flows, the IT helpdesk the IT flows, an administrator both; search and help serve both."""
    owners: list[Owner] = []
    if principal.has(Role.HR) or principal.has(Role.ADMIN):
        owners.append(Owner.HR)
    if principal.has(Role.HELPDESK) or principal.has(Role.ADMIN):
        owners.append(Owner.IT)
    if not owners:
        raise PermissionDenied("Only HR and the IT helpdesk see the self-service figures.")
    return (*owners, Owner.SHARED)


def visible_flows(principal: Principal) -> list[Flow]:
    owners = visible_owners(principal)
    return [flow for flow in Flow if FLOW_OWNERS[flow] in owners]


def check_period(start: date, end: date) -> None:
    if end < start:
        raise InvalidInput("The end lies before the start.", fields={"to": "before from"})
    if (end - start).days > MAX_DAYS:
        raise InvalidInput(f"A report covers at most {MAX_DAYS} days.", fields={"to": "too far"})


@dataclass(frozen=True, slots=True)
class SelfServiceFigures:
    flows: list[FlowFigures]
    savings: Savings


async def self_service_figures(
    principal: Principal, start: date, end: date, *, deps: AnalyticsDeps
) -> SelfServiceFigures:
    """Per visible flow: started, completed, failed, abandoned, escalated, solved, median time; and the savings."""
    flows = visible_flows(principal)
    check_period(start, end)
    async with deps.new_uow().read_only() as uow:
        raw = await uow.journeys.figures(flows, start, end, now=deps.clock.now(), policy=deps.policy)
    by_flow = {f.flow: f for f in raw}
    figures = [suppress(by_flow.get(flow, FlowFigures(flow=flow)), deps.policy.k) for flow in flows]
    return SelfServiceFigures(flows=figures, savings=savings(figures, deps.policy))


@dataclass(frozen=True, slots=True)
class Dashboard:
    start: date
    end: date
    figures: SelfServiceFigures
    weekly: list[TrendPoint]
    monthly: list[TrendPoint]
    top_errors: list[tuple[str, int]]
    top_queries: list[tuple[str, int]]
    missed_queries: list[tuple[str, int]]
    searches: int
    click_through: float | None
    article_votes: list[tuple[str, int, int]]
    annotations: list[Annotation]
    k: int


async def dashboard(principal: Principal, start: date, end: date, *, deps: AnalyticsDeps) -> Dashboard:
    """Everything the dashboard page shows, each figure resting on k journeys or more."""
    figures = await self_service_figures(principal, start, end, deps=deps)
    owners = visible_owners(principal)
    flows = [f.flow for f in figures.flows]
    k = deps.policy.k
    async with deps.new_uow().read_only() as uow:
        repo = uow.journeys
        daily = await repo.daily([f for f in flows if f.owner is not Owner.SHARED], start, end)
        errors = await repo.top_errors(flows, start, end, TOP_SHOWN)
        queries = await repo.top_searches("query", start, end, TOP_SHOWN)
        missed = await repo.top_searches("missed", start, end, TOP_SHOWN)
        votes = await repo.article_votes(start, end)
        notes = await repo.annotations(owners, start - timedelta(days=366), end)
    search = next(f for f in figures.flows if f.flow is Flow.SEARCH)
    return Dashboard(
        start=start,
        end=end,
        figures=figures,
        weekly=trend(daily, Period.WEEK, k),
        monthly=trend(daily, Period.MONTH, k),
        top_errors=suppress_counts(errors, k),
        top_queries=suppress_counts(queries, k),
        missed_queries=suppress_counts(missed, k),
        searches=search.started,
        click_through=search.completion_rate,
        article_votes=[(slug, yes, no) for slug, yes, no in votes if yes + no >= k],
        annotations=notes,
        k=k,
    )


async def annotate(principal: Principal, day: date, text: str, *, deps: AnalyticsDeps) -> Annotation:
    """Note an event on the timeline ("new article published") to compare before and after; audited."""
    owners = [o for o in visible_owners(principal) if o is not Owner.SHARED]
    text = " ".join(text.split())
    if not text or len(text) > 200:
        raise InvalidInput("An annotation has 1 to 200 characters.", fields={"text": "length"})
    annotation = Annotation(day=day, text=text, owner=owners[0] if len(owners) == 1 else Owner.SHARED)
    async with deps.new_uow() as uow:
        await uow.journeys.add_annotation(annotation, deps.clock.now())
        await uow.audit.add(
            AuditEvent(
                occurred_at=deps.clock.now(),
                actor=principal.login,
                action="analytics.annotate",
                outcome=Outcome.SUCCESS,
                details={"day": day.isoformat()},
            )
        )
        await uow.commit()
    return annotation
