"""Journey events and their per-journey summary in SQL; the dashboard aggregates the summary (one row per journey)
instead of the events, and suppression is the domain's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ess.adapters.sql.tables import AnnotationRow, HelpFeedbackRow, JourneyEventRow, JourneyRow
from ess.domain.analytics.model import (
    AnalyticsPolicy,
    Annotation,
    Flow,
    FlowFigures,
    JourneyEvent,
    JourneyId,
    Owner,
    Solved,
    Step,
)


class SqlJourneyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, event: JourneyEvent) -> None:
        at = event.at.astimezone(UTC)
        self._session.add(
            JourneyEventRow(
                flow=event.flow.value,
                journey=event.journey,
                step=event.step.value,
                error_code=event.error_code,
                detail=event.detail,
                at=at,
                day=at.date(),
            )
        )
        row = await self._journey(event.flow, event.journey)
        if row is None:
            # Any first event opens the journey (a reset link opened in another browser starts there).
            row = JourneyRow(
                flow=event.flow.value, journey=event.journey, started_at=at, started_day=at.date(), last_at=at,
                failures=0, escalated=False, comment="",
            )  # fmt: skip
            self._session.add(row)
        row.last_at = max(row.last_at, at)
        if event.step is Step.COMPLETED and row.completed_at is None:
            row.completed_at = at
            row.seconds = int((at - row.started_at).total_seconds())
        elif event.step is Step.FAILED:
            row.failures = (row.failures or 0) + 1
        elif event.step is Step.ESCALATED:
            row.escalated = True
        await self._session.flush()

    async def _journey(self, flow: Flow, journey: JourneyId) -> JourneyRow | None:
        found: JourneyRow | None = await self._session.scalar(
            select(JourneyRow).where(JourneyRow.flow == flow.value, JourneyRow.journey == journey)
        )
        return found

    async def last_step_at(self, flow: Flow, journey: JourneyId) -> datetime | None:
        row = await self._journey(flow, journey)
        return row.last_at if row is not None else None

    async def answer(self, flow: Flow, journey: JourneyId, solved: Solved, comment: str) -> bool:
        result = await self._session.execute(
            update(JourneyRow)
            .where(JourneyRow.flow == flow.value, JourneyRow.journey == journey)
            .values(solved=solved.value, comment=comment)
        )
        return bool(getattr(result, "rowcount", 0))

    async def figures(
        self, flows: Sequence[Flow], start: date, end: date, *, now: datetime, policy: AnalyticsPolicy
    ) -> list[FlowFigures]:
        j = JourneyRow
        abandoned_before = now - policy.abandon_after

        def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
            return func.sum(case((condition, 1), else_=0))

        statement = (
            select(
                j.flow,
                func.count(),
                func.count(j.completed_at),
                count_if(j.failures > 0),
                count_if(j.completed_at.is_(None) & (j.started_at <= abandoned_before)),
                count_if(j.escalated.is_(True)),
                count_if(j.solved == Solved.YES.value),
                count_if(j.solved == Solved.PARTLY.value),
                count_if(j.solved == Solved.NO.value),
            )
            .where(j.started_day.between(start, end), j.flow.in_([f.value for f in flows]))
            .group_by(j.flow)
        )
        found: list[FlowFigures] = []
        for flow, started, completed, failed, abandoned, escalated, yes, partly, no in await self._session.execute(
            statement
        ):
            found.append(
                FlowFigures(
                    flow=Flow(flow),
                    started=int(started),
                    completed=int(completed),
                    failed=int(failed or 0),
                    abandoned=int(abandoned or 0),
                    escalated=int(escalated or 0),
                    solved_yes=int(yes or 0),
                    solved_partly=int(partly or 0),
                    solved_no=int(no or 0),
                    median_seconds=await self._median(Flow(flow), start, end, int(completed)),
                )
            )
        return found

    async def _median(self, flow: Flow, start: date, end: date, completed: int) -> float | None:
        """The median time to complete, read as the one or two middle rows (no engine has MEDIAN in common)."""
        if completed == 0:
            return None
        middle = await self._session.scalars(
            select(JourneyRow.seconds)
            .where(
                JourneyRow.flow == flow.value,
                JourneyRow.started_day.between(start, end),
                JourneyRow.seconds.is_not(None),
            )
            .order_by(JourneyRow.seconds)
            .offset((completed - 1) // 2)
            .limit(2 - completed % 2)
        )
        values = [int(v) for v in middle if v is not None]
        return sum(values) / len(values) if values else None

    async def daily(self, flows: Sequence[Flow], start: date, end: date) -> list[tuple[date, int, int]]:
        j = JourneyRow
        rows = await self._session.execute(
            select(j.started_day, func.count(), func.count(j.completed_at))
            .where(j.started_day.between(start, end), j.flow.in_([f.value for f in flows]))
            .group_by(j.started_day)
            .order_by(j.started_day)
        )
        return [(day, int(started), int(completed)) for day, started, completed in rows]

    async def top_details(self, flow: Flow, step: str, start: date, end: date, limit: int) -> list[tuple[str, int]]:
        e = JourneyEventRow
        rows = await self._session.execute(
            select(e.detail, func.count().label("n"))
            .where(e.day.between(start, end), e.flow == flow.value, e.step == step, e.detail != "")
            .group_by(e.detail)
            .order_by(func.count().desc(), e.detail)
            .limit(limit)
        )
        return [(str(detail), int(n)) for detail, n in rows]

    async def top_errors(self, flows: Sequence[Flow], start: date, end: date, limit: int) -> list[tuple[str, int]]:
        e = JourneyEventRow
        rows = await self._session.execute(
            select(e.flow, e.error_code, func.count())
            .where(e.day.between(start, end), e.flow.in_([f.value for f in flows]), e.step == Step.FAILED.value)
            .group_by(e.flow, e.error_code)
            .order_by(func.count().desc(), e.flow, e.error_code)
            .limit(limit)
        )
        return [(f"{flow}: {code or '-'}", int(n)) for flow, code, n in rows]

    async def article_votes(self, start: date, end: date) -> list[tuple[str, int, int]]:
        f = HelpFeedbackRow
        begin = datetime(start.year, start.month, start.day, tzinfo=UTC)
        finish = datetime(end.year, end.month, end.day, 23, 59, 59, tzinfo=UTC)
        yes = func.sum(case((f.helpful, 1), else_=0))
        rows = await self._session.execute(
            select(f.key, yes, func.count())
            .where(f.kind == "article", f.created_at.between(begin, finish))
            .group_by(f.key)
            .order_by(func.count().desc(), f.key)
        )
        return [(str(key), int(y or 0), int(total) - int(y or 0)) for key, y, total in rows]

    async def delete_before(self, moment: datetime) -> int:
        result = await self._session.execute(delete(JourneyEventRow).where(JourneyEventRow.at < moment))
        await self._session.execute(delete(JourneyRow).where(JourneyRow.last_at < moment))
        await self._session.execute(delete(AnnotationRow).where(AnnotationRow.created_at < moment))
        return int(getattr(result, "rowcount", 0) or 0)

    async def add_annotation(self, annotation: Annotation, at: datetime) -> None:
        self._session.add(
            AnnotationRow(day=annotation.day, text=annotation.text, owner=annotation.owner.value, created_at=at)
        )
        await self._session.flush()

    async def annotations(self, owners: Sequence[Owner], start: date, end: date) -> list[Annotation]:
        rows = await self._session.scalars(
            select(AnnotationRow)
            .where(AnnotationRow.day.between(start, end), AnnotationRow.owner.in_([o.value for o in owners]))
            .order_by(AnnotationRow.day, AnnotationRow.id)
        )
        return [Annotation(day=r.day, text=r.text, owner=Owner(r.owner)) for r in rows]
