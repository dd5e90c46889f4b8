"""Self-service analytics API: the figures per flow and the savings, for HR (HR flows) and the IT helpdesk (IT
flows)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from ess.domain.analytics.ports import AnalyticsDeps
from ess.domain.analytics.report import self_service_figures
from ess.routes.guards import current_principal, requires_login

DEFAULT_DAYS = 30


class FlowFiguresOut(msgspec.Struct):
    flow: str
    started: int | None
    completed: int | None
    failed: int | None
    abandoned: int | None
    escalated: int | None
    solved_yes: int | None
    solved_partly: int | None
    solved_no: int | None
    median_seconds: float | None
    suppressed: bool


class SavingsOut(msgspec.Struct):
    hours: float
    amount: float
    currency: str
    formula: str


class SelfServiceOut(msgspec.Struct):
    flows: list[FlowFiguresOut]
    savings: SavingsOut


def _or_none(value: int, suppressed: bool) -> int | None:
    return None if suppressed else value


class AnalyticsApiController(Controller):
    path = "/api/v1/analytics"
    tags = ["analytics"]
    guards = [requires_login]

    @get(
        "/self-service",
        operation_id="getSelfServiceAnalytics",
        problems=["permission_denied", "invalid_input"],
    )
    async def self_service(
        self,
        request: Request[Any, Any, Any],
        analytics: NamedDependency[AnalyticsDeps],
        start: Annotated[
            date | None, QueryParameter(name="from", description="First day (default: 30 days ago)")
        ] = None,
        end: Annotated[
            date | None, QueryParameter(name="to", description="Last day, inclusive (default: today)")
        ] = None,
    ) -> SelfServiceOut:
        """Journeys per flow (started, completed, failed, abandoned, escalated, solved), savings; below k withheld."""
        last = end or analytics.clock.today()
        first = start or last - timedelta(days=DEFAULT_DAYS - 1)
        found = await self_service_figures(current_principal(request), first, last, deps=analytics)
        return SelfServiceOut(
            flows=[
                FlowFiguresOut(
                    flow=f.flow.value,
                    started=_or_none(f.started, f.suppressed),
                    completed=_or_none(f.completed, f.suppressed),
                    failed=_or_none(f.failed, f.suppressed),
                    abandoned=_or_none(f.abandoned, f.suppressed),
                    escalated=_or_none(f.escalated, f.suppressed),
                    solved_yes=_or_none(f.solved_yes, f.suppressed),
                    solved_partly=_or_none(f.solved_partly, f.suppressed),
                    solved_no=_or_none(f.solved_no, f.suppressed),
                    median_seconds=f.median_seconds,
                    suppressed=f.suppressed,
                )
                for f in found.flows
            ],
            savings=SavingsOut(
                hours=float(found.savings.hours),
                amount=float(found.savings.amount),
                currency=found.savings.currency,
                formula=found.savings.formula,
            ),
        )
