"""Journey events in SQL: each event is stored, folded into its journey's summary row and counted into daily
counters (per day and flow; per day, flow and label), so the dashboard sums a few rows per day instead of reading
every event. Suppression below k is the domain's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Final

from sqlalchemy import ColumnElement, Date, bindparam, case, delete, func, insert, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ess.adapters.sql.tables import (
    AnnotationRow,
    HelpFeedbackRow,
    JourneyDailyDetailRow,
    JourneyDailyRow,
    JourneyEventRow,
    JourneyRow,
)
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
    duration_bucket,
    median_of_counts,
)

COUNTERS: Final = ("started", "completed", "failed", "escalated", "solved_yes", "solved_partly", "solved_no")
# One statement on both dialects: concurrent events of one day count twice, never fail on the unique key.
_COUNT: Final = {
    column: text(
        f"INSERT INTO analytics_daily (day, flow, {', '.join(COUNTERS)}) "  # noqa: S608 - fixed column names
        f"VALUES (:day, :flow, {', '.join(':by' if c == column else '0' for c in COUNTERS)}) "
        f"ON CONFLICT (day, flow) DO UPDATE SET {column} = analytics_daily.{column} + :by"
    ).bindparams(bindparam("day", type_=Date()))
    for column in COUNTERS
}
_DETAIL: Final = text(
    "INSERT INTO analytics_daily_details (day, flow, kind, label, count) VALUES (:day, :flow, :kind, :label, :by) "
    "ON CONFLICT (day, flow, kind, label) DO UPDATE SET count = analytics_daily_details.count + :by"
).bindparams(bindparam("day", type_=Date()))


class SqlJourneyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _count(self, day: date, flow: Flow, column: str, by: int = 1) -> None:
        await self._session.execute(_COUNT[column], {"day": day, "flow": flow.value, "by": by})

    async def _detail(self, day: date, flow: Flow, kind: str, label: str) -> None:
        await self._session.execute(_DETAIL, {"day": day, "flow": flow.value, "kind": kind, "label": label, "by": 1})

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
            row = JourneyRow(flow=event.flow.value, journey=event.journey, started_at=at, started_day=at.date())
            row.last_at, row.failures, row.escalated, row.comment = at, 0, False, ""
            self._session.add(row)
            await self._count(row.started_day, event.flow, "started")
        await self._fold(row, event, at)
        await self._session.flush()

    async def _fold(self, row: JourneyRow, event: JourneyEvent, at: datetime) -> None:
        """The event's effect on its journey and on the counters of the day the journey started."""
        row.last_at = max(row.last_at, at)
        day, flow = row.started_day, event.flow
        if event.step is Step.COMPLETED and row.completed_at is None:
            row.completed_at = at
            row.seconds = int((at - row.started_at).total_seconds())
            await self._count(day, flow, "completed")
            await self._detail(day, flow, "seconds", str(duration_bucket(row.seconds)))
        elif event.step is Step.FAILED:
            if not row.failures:
                await self._count(day, flow, "failed")
            row.failures = (row.failures or 0) + 1
            await self._detail(at.date(), flow, "error", event.error_code or "-")
            if flow is Flow.SEARCH and event.detail:
                await self._detail(at.date(), flow, "missed", event.detail)
        elif event.step is Step.ESCALATED and not row.escalated:
            row.escalated = True
            await self._count(day, flow, "escalated")
        elif event.step is Step.STARTED and flow is Flow.SEARCH and event.detail:
            await self._detail(at.date(), flow, "query", event.detail)

    async def _journey(self, flow: Flow, journey: JourneyId) -> JourneyRow | None:
        found: JourneyRow | None = await self._session.scalar(
            select(JourneyRow).where(JourneyRow.flow == flow.value, JourneyRow.journey == journey)
        )
        return found

    async def last_step_at(self, flow: Flow, journey: JourneyId) -> datetime | None:
        row = await self._journey(flow, journey)
        return row.last_at if row is not None else None

    async def answer(self, flow: Flow, journey: JourneyId, solved: Solved, comment: str) -> bool:
        row = await self._journey(flow, journey)
        if row is None:
            return False
        if row.solved != solved.value:
            if row.solved is not None:
                await self._count(row.started_day, flow, f"solved_{row.solved}", -1)
            await self._count(row.started_day, flow, f"solved_{solved.value}")
        row.solved, row.comment = solved.value, comment
        await self._session.flush()
        return True

    async def figures(
        self, flows: Sequence[Flow], start: date, end: date, *, now: datetime, policy: AnalyticsPolicy
    ) -> list[FlowFigures]:
        names = [f.value for f in flows]
        d = JourneyDailyRow
        sums = await self._session.execute(
            select(d.flow, *(func.sum(getattr(d, c)) for c in COUNTERS))
            .where(d.day.between(start, end), d.flow.in_(names))
            .group_by(d.flow)
        )
        abandoned = await self._abandoned(names, start, end, now - policy.abandon_after)
        medians = await self._medians(names, start, end)
        found: list[FlowFigures] = []
        for flow, *values in sums:
            started, completed, failed, escalated, yes, partly, no = (int(v or 0) for v in values)
            found.append(
                FlowFigures(
                    flow=Flow(flow),
                    started=started,
                    completed=completed,
                    failed=failed,
                    abandoned=abandoned.get(flow, 0),
                    escalated=escalated,
                    solved_yes=yes,
                    solved_partly=partly,
                    solved_no=no,
                    median_seconds=medians.get(flow),
                )
            )
        return found

    async def _abandoned(self, names: list[str], start: date, end: date, cutoff: datetime) -> dict[str, int]:
        """Journeys started before the cutoff and never completed: the days wholly before it from the counters, the
        days since from the journeys themselves (a day or two of rows)."""
        settled_end = min(end, cutoff.date() - timedelta(days=1))
        d, j = JourneyDailyRow, JourneyRow
        found: dict[str, int] = {}
        if settled_end >= start:
            rows = await self._session.execute(
                select(d.flow, func.sum(d.started - d.completed))
                .where(d.day.between(start, settled_end), d.flow.in_(names))
                .group_by(d.flow)
            )
            found = {flow: int(n or 0) for flow, n in rows}
        live = await self._session.execute(
            select(j.flow, func.count())
            .where(
                j.started_day.between(max(start, cutoff.date()), end),
                j.flow.in_(names),
                j.completed_at.is_(None),
                j.started_at <= cutoff,
            )
            .group_by(j.flow)
        )
        for flow, n in live:
            found[flow] = found.get(flow, 0) + int(n)
        return found

    async def _medians(self, names: list[str], start: date, end: date) -> dict[str, float | None]:
        x = JourneyDailyDetailRow
        rows = await self._session.execute(
            select(x.flow, x.label, func.sum(x.count))
            .where(x.kind == "seconds", x.day.between(start, end), x.flow.in_(names))
            .group_by(x.flow, x.label)
        )
        buckets: dict[str, list[tuple[int, int]]] = {}
        for flow, label, n in rows:
            buckets.setdefault(flow, []).append((int(label), int(n or 0)))
        return {flow: median_of_counts(counts) for flow, counts in buckets.items()}

    async def daily(self, flows: Sequence[Flow], start: date, end: date) -> list[tuple[date, int, int]]:
        d = JourneyDailyRow
        rows = await self._session.execute(
            select(d.day, func.sum(d.started), func.sum(d.completed))
            .where(d.day.between(start, end), d.flow.in_([f.value for f in flows]))
            .group_by(d.day)
            .order_by(d.day)
        )
        return [(day, int(started or 0), int(completed or 0)) for day, started, completed in rows]

    async def top_searches(self, kind: str, start: date, end: date, limit: int) -> list[tuple[str, int]]:
        x = JourneyDailyDetailRow
        total = func.sum(x.count)
        rows = await self._session.execute(
            select(x.label, total)
            .where(x.kind == kind, x.day.between(start, end), x.flow == Flow.SEARCH.value)
            .group_by(x.label)
            .order_by(total.desc(), x.label)
            .limit(limit)
        )
        return [(str(label), int(n or 0)) for label, n in rows]

    async def top_errors(self, flows: Sequence[Flow], start: date, end: date, limit: int) -> list[tuple[str, int]]:
        x = JourneyDailyDetailRow
        total = func.sum(x.count)
        rows = await self._session.execute(
            select(x.flow, x.label, total)
            .where(x.kind == "error", x.day.between(start, end), x.flow.in_([f.value for f in flows]))
            .group_by(x.flow, x.label)
            .order_by(total.desc(), x.flow, x.label)
            .limit(limit)
        )
        return [(f"{flow}: {code}", int(n or 0)) for flow, code, n in rows]

    async def article_votes(self, start: date, end: date) -> list[tuple[str, int, int]]:
        f = HelpFeedbackRow
        begin = datetime(start.year, start.month, start.day, tzinfo=UTC)
        finish = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
        yes = func.sum(case((f.helpful, 1), else_=0))
        rows = await self._session.execute(
            select(f.key, yes, func.count())
            .where(f.kind == "article", f.created_at >= begin, f.created_at < finish)
            .group_by(f.key)
            .order_by(func.count().desc(), f.key)
        )
        return [(str(key), int(y or 0), int(total) - int(y or 0)) for key, y, total in rows]

    async def delete_before(self, moment: datetime) -> int:
        result = await self._session.execute(delete(JourneyEventRow).where(JourneyEventRow.at < moment))
        await self._session.execute(delete(JourneyRow).where(JourneyRow.last_at < moment))
        await self._session.execute(delete(JourneyDailyRow).where(JourneyDailyRow.day < moment.date()))
        await self._session.execute(delete(JourneyDailyDetailRow).where(JourneyDailyDetailRow.day < moment.date()))
        await self._session.execute(delete(AnnotationRow).where(AnnotationRow.created_at < moment))
        return int(getattr(result, "rowcount", 0) or 0)

    async def rebuild_counters(self) -> None:
        """Recount the daily counters from the journeys and events (after a bulk load, or to check them): what the
        events recorded one by one would have counted."""
        j, e = JourneyRow, JourneyEventRow
        await self._session.execute(delete(JourneyDailyRow))
        await self._session.execute(delete(JourneyDailyDetailRow))

        def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        per_day = select(
            j.started_day, j.flow, func.count(), func.count(j.completed_at), count_if(j.failures > 0),
            count_if(j.escalated.is_(True)), *(count_if(j.solved == s.value) for s in Solved),
        ).group_by(j.started_day, j.flow)  # fmt: skip
        await self._session.execute(insert(JourneyDailyRow).from_select(["day", "flow", *COUNTERS], per_day))
        labels = [
            select(e.day, e.flow, literal("error"), e.error_code, func.count())
            .where(e.step == Step.FAILED.value)
            .group_by(e.day, e.flow, e.error_code),
            select(e.day, e.flow, literal("missed"), e.detail, func.count())
            .where(e.step == Step.FAILED.value, e.flow == Flow.SEARCH.value, e.detail != "")
            .group_by(e.day, e.flow, e.detail),
            select(e.day, e.flow, literal("query"), e.detail, func.count())
            .where(e.step == Step.STARTED.value, e.flow == Flow.SEARCH.value, e.detail != "")
            .group_by(e.day, e.flow, e.detail),
        ]
        for statement in labels:
            await self._session.execute(
                insert(JourneyDailyDetailRow).from_select(["day", "flow", "kind", "label", "count"], statement)
            )
        times: dict[tuple[date, str, int], int] = {}
        for day, flow, seconds in await self._session.execute(
            select(j.started_day, j.flow, j.seconds).where(j.seconds.is_not(None))
        ):
            key = (day, flow, duration_bucket(seconds))
            times[key] = times.get(key, 0) + 1
        if times:
            await self._session.execute(
                insert(JourneyDailyDetailRow),
                [
                    {"day": day, "flow": flow, "kind": "seconds", "label": str(bucket), "count": n}
                    for (day, flow, bucket), n in times.items()
                ],
            )

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
