"""Use cases: record a journey's step, keep the answer to "Hat das Ihr Anliegen gelöst?", mark journeys escalated
by a help request, and delete events past the retention limit."""

from __future__ import annotations

import logging

from ess.domain.analytics.model import (
    MAX_COMMENT,
    MAX_DETAIL,
    TOPIC_FLOWS,
    Flow,
    HelpRequested,
    JourneyEvent,
    JourneyId,
    Solved,
    Step,
    is_escalation,
    plausible_journey_id,
)
from ess.domain.analytics.ports import AnalyticsDeps, JourneyRecorder
from ess.domain.errors import InvalidInput

_log = logging.getLogger("ess.analytics")


async def record_step(
    flow: Flow, journey: JourneyId, step: str, *, error_code: str = "", detail: str = "", deps: AnalyticsDeps
) -> None:
    """Store one step of a journey. `step` is a `Step` or the name of a step reached (stored as `reached` with the
    name as detail). Analytics must never break the flow it watches: a storage failure is logged and dropped."""
    if not plausible_journey_id(journey):
        return
    kind = Step(step) if step in Step.__members__.values() else Step.REACHED
    if kind is Step.REACHED and not detail:
        detail = step
    event = JourneyEvent(
        flow=flow,
        journey=journey,
        step=kind,
        at=deps.clock.now(),
        error_code=error_code[:40],
        detail=" ".join(detail.split())[:MAX_DETAIL],
    )
    try:
        async with deps.new_uow() as uow:
            await uow.journeys.add(event)
            await uow.commit()
    except Exception:  # a lost analytics event must not cost anyone their leave request
        _log.warning("journey event not recorded", extra={"flow": flow.value, "step": kind.value})
        return
    for observe in deps.observers:
        observe(flow, kind.value)


async def answer_solved(flow: Flow, journey: JourneyId, solved: str, comment: str = "", *, deps: AnalyticsDeps) -> None:
    """Keep the one-click answer (ja / teilweise / nein) with an optional comment on the journey it ends."""
    try:
        answer = Solved(solved)
    except ValueError as exc:
        raise InvalidInput("Choose yes, partly or no.", fields={"solved": "invalid"}) from exc
    comment = " ".join(comment.split())
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(f"A comment has at most {MAX_COMMENT} characters.", fields={"comment": "too long"})
    if not plausible_journey_id(journey):
        raise InvalidInput("This question has expired.", fields={"journey": "unknown"})
    async with deps.new_uow() as uow:
        known = await uow.journeys.answer(flow, journey, answer, comment)
        if not known:
            raise InvalidInput("This question has expired.", fields={"journey": "unknown"})
        await uow.commit()
    for observe in deps.observers:
        observe(flow, f"solved_{answer.value}")


async def note_help_request(event: HelpRequested, *, deps: AnalyticsDeps) -> list[Flow]:
    """A help request arrived: each journey of a flow on its topic whose last step lies within the escalation
    window before it is marked escalated. Returns the flows escalated. (Called by the help-request flow.)"""
    escalated: list[Flow] = []
    window = deps.policy.escalation_window
    for flow in TOPIC_FLOWS.get(event.topic, ()):
        journey = event.journeys.get(flow)
        if journey is None or not plausible_journey_id(journey):
            continue
        async with deps.new_uow() as uow:
            last = await uow.journeys.last_step_at(flow, journey)
        if last is not None and is_escalation(last, event.at, window):
            await record_step(flow, journey, Step.ESCALATED, deps=deps)
            escalated.append(flow)
    return escalated


async def delete_expired(*, deps: AnalyticsDeps) -> int:
    """The retention job: delete every event and journey older than the retention limit; the events deleted."""
    cutoff = deps.clock.now() - deps.policy.retention
    async with deps.new_uow() as uow:
        deleted = await uow.journeys.delete_before(cutoff)
        await uow.commit()
    return deleted


def recorder(deps: AnalyticsDeps) -> JourneyRecorder:
    """The `JourneyRecorder` port bound to these deps, for flows that hold no analytics deps of their own."""

    async def record(flow: Flow, journey: JourneyId, step: str, *, error_code: str = "", detail: str = "") -> None:
        await record_step(flow, journey, step, error_code=error_code, detail=detail, deps=deps)

    return record
