"""What analytics needs from outside: a store of journey events and their per-journey summary, the aggregates read
from it, and annotations; plus the port every flow records its steps through."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from ess.domain.analytics.model import (
    AnalyticsPolicy,
    Annotation,
    Flow,
    FlowFigures,
    JourneyEvent,
    JourneyId,
    Owner,
    Solved,
)
from ess.domain.shared import Clock, UnitOfWork


class JourneyRecorder(Protocol):
    """The port every self-service flow calls: (flow, journey id, step, error code). Recording never fails a flow."""

    async def __call__(
        self, flow: Flow, journey: JourneyId, step: str, *, error_code: str = "", detail: str = ""
    ) -> None: ...


class JourneyRepository(Protocol):
    async def add(self, event: JourneyEvent) -> None:
        """Store the event and fold it into its journey's summary row (created by the journey's first event)."""
        ...

    async def last_step_at(self, flow: Flow, journey: JourneyId) -> datetime | None:
        """When the journey's latest event happened (None: unknown journey)."""
        ...

    async def answer(self, flow: Flow, journey: JourneyId, solved: Solved, comment: str) -> bool:
        """Keep the answer to "did it solve it?" on a known journey (the latest answer wins); False if unknown."""
        ...

    async def figures(
        self, flows: Sequence[Flow], start: date, end: date, *, now: datetime, policy: AnalyticsPolicy
    ) -> list[FlowFigures]:
        """Unsuppressed figures per flow for journeys started from `start` to `end` (inclusive)."""
        ...

    async def daily(self, flows: Sequence[Flow], start: date, end: date) -> list[tuple[date, int, int]]:
        """(day, journeys started, of them completed) over the given flows."""
        ...

    async def top_searches(self, kind: str, start: date, end: date, limit: int) -> list[tuple[str, int]]:
        """The most frequent search words (`query`) or words of searches without results (`missed`)."""
        ...

    async def top_errors(self, flows: Sequence[Flow], start: date, end: date, limit: int) -> list[tuple[str, int]]:
        """The most frequent "flow: error code" of failed steps."""
        ...

    async def article_votes(self, start: date, end: date) -> list[tuple[str, int, int]]:
        """(article slug, helpful, not helpful) of the help center's votes in the period."""
        ...

    async def delete_before(self, moment: datetime) -> int:
        """Delete events and journeys older than the moment; the number of events deleted."""
        ...

    async def add_annotation(self, annotation: Annotation, at: datetime) -> None: ...

    async def annotations(self, owners: Sequence[Owner], start: date, end: date) -> list[Annotation]: ...


class AnalyticsUnitOfWork(UnitOfWork, Protocol):
    @property
    def journeys(self) -> JourneyRepository: ...


@dataclass(frozen=True)
class AnalyticsDeps:
    """What the analytics use cases run with; `observers` hear of every recorded step (Prometheus counters)."""

    new_uow: Callable[[], AnalyticsUnitOfWork]
    clock: Clock
    policy: AnalyticsPolicy = field(default_factory=AnalyticsPolicy)
    observers: list[Callable[[Flow, str], None]] = field(default_factory=list)
