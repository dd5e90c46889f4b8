"""Personal answers: figures from the logged-in person's own data, read through the other areas' own use cases
(which load the caller's record from the principal, so nobody else's data can appear)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from ess.domain.auth.model import Principal
from ess.domain.errors import NotFound, ServiceUnavailable
from ess.domain.help.model import AnswerTopic, Result, ResultKind
from ess.domain.help.ports import HelpDeps
from ess.domain.profile.model import ProfilePage
from ess.domain.profile.viewing import my_profile
from ess.domain.recovery.model import RecoveryPage
from ess.domain.shared import Link
from ess.domain.vacation.balance import balance
from ess.domain.vacation.model import RequestStatus, VacationPage
from ess.domain.vacation.requests import my_requests

Facts = Mapping[str, str | Decimal | date | None]


async def personal_answer(topic: AnswerTopic, principal: Principal, score: float, *, deps: HelpDeps) -> Result | None:
    """The answer on `topic` from the caller's own data, or None when there is nothing to tell (no HR record, the
    directory does not answer)."""
    try:
        if topic is AnswerTopic.BALANCE:
            return _result(topic, Link(VacationPage.OWN), score, await _balance(principal, deps))
        if topic is AnswerTopic.NEXT_LEAVE:
            return _result(topic, Link(VacationPage.OWN), score, await _next_leave(principal, deps))
        if topic is AnswerTopic.CHANGE_REQUESTS:
            facts, items = await _change_requests(principal, deps)
            return Result(ResultKind.ANSWER, topic.value, Link(ProfilePage.OWN), score, facts=facts, items=items)
        if topic is AnswerTopic.MANAGER:
            return _result(topic, Link(ProfilePage.OWN), score, await _manager(principal, deps))
        return _result(topic, Link(RecoveryPage.SECURITY), score, await _password_expiry(principal, deps))
    except (NotFound, ServiceUnavailable):
        return None


def _result(topic: AnswerTopic, link: Link, score: float, facts: Facts) -> Result:
    return Result(ResultKind.ANSWER, topic.value, link, score, facts=facts)


async def _balance(principal: Principal, deps: HelpDeps) -> Facts:
    today = deps.clock.today()
    figures = await balance(principal, today, deps=deps.vacation)
    lapse = figures.lapses[0] if figures.lapses else None
    return {
        "remaining": figures.remaining,
        "pending": figures.pending,
        "lapse_days": lapse.days if lapse else None,
        "lapse_date": lapse.last_day if lapse else None,
        "year": str(today.year),
    }


async def _next_leave(principal: Principal, deps: HelpDeps) -> Facts:
    today = deps.clock.today()
    ahead = sorted(
        (r for r in await my_requests(principal, deps=deps.vacation) if r.status is RequestStatus.APPROVED),
        key=lambda r: r.start,
    )
    upcoming = [r for r in ahead if r.end >= today]
    if not upcoming:
        return {"start": None, "end": None, "days": None}
    first = upcoming[0]
    return {"start": first.start, "end": first.end, "days": first.total}


async def _change_requests(principal: Principal, deps: HelpDeps) -> tuple[Facts, list[Facts]]:
    view = await my_profile(principal, deps=deps.profile)
    open_requests = [r for r in view.requests if r.status.is_open]
    items: list[Facts] = [
        {"field": r.field.value, "status": r.status.value, "effective_from": r.effective_from} for r in open_requests
    ]
    return {"count": str(len(open_requests))}, items


async def _manager(principal: Principal, deps: HelpDeps) -> Facts:
    view = await my_profile(principal, deps=deps.profile)
    if view.manager is None:
        return {"name": None, "email": None}
    return {"name": view.manager.display_name, "email": view.manager.work_email}


async def _password_expiry(principal: Principal, deps: HelpDeps) -> Facts:
    status = await deps.directory.account_status(principal.login)
    expires = status.password_expires_at
    return {"expires_on": expires.date() if expires else None}
