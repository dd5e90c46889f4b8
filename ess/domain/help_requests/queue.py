"""Use cases of HR and the IT helpdesk: their queue (only their team's topics), assign, internal notes, answer (with
an article), ask back, close; first-response and resolution times are recorded on the request."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import timedelta

from ess.domain.auth.model import Principal
from ess.domain.errors import Conflict, InvalidInput, PermissionDenied
from ess.domain.help_requests.model import (
    HelpRequest,
    Message,
    MessageKind,
    Status,
    check_message,
    teams_of,
    teams_with,
)
from ess.domain.help_requests.ports import HelpRequestsDeps, QueueFilter
from ess.domain.help_requests.records import audit_event, news_for_person, send, team_request

ARTICLE_SLUG = re.compile(r"^([a-z0-9]+(-[a-z0-9]+)*)?$")


@dataclass(frozen=True, slots=True)
class QueueQuery:
    statuses: frozenset[Status] = frozenset()
    topic: str = ""
    older_than_hours: int = 0


def _teams(principal: Principal) -> QueueFilter:
    teams = teams_of(principal)
    if not teams:
        raise PermissionDenied("Only HR and the IT helpdesk work help requests.")
    return QueueFilter(teams=teams)


async def queue(principal: Principal, query: QueueQuery, *, deps: HelpRequestsDeps) -> list[HelpRequest]:
    """The requests of the caller's teams, oldest first, filtered by status, topic and age."""
    wanted = _teams(principal)
    if query.older_than_hours < 0:
        raise InvalidInput("The age is a number of hours.", fields={"older_than_hours": "negative"})
    older = deps.clock.now() - timedelta(hours=query.older_than_hours) if query.older_than_hours else None
    wanted = replace(wanted, statuses=query.statuses, topic=query.topic, older_than=older)
    async with deps.new_uow().read_only() as uow:
        return await uow.help_requests.queue(wanted)


async def queue_item(principal: Principal, request_id: int, *, deps: HelpRequestsDeps) -> HelpRequest:
    """One request of the caller's teams with every message and internal note."""
    _teams(principal)
    async with deps.new_uow().read_only() as uow:
        return await team_request(uow, principal, request_id)


async def assign(
    principal: Principal, request_id: int, assignee: str, *, deps: HelpRequestsDeps, client: str = ""
) -> HelpRequest:
    """Assign to oneself or a colleague of the same team ("" takes the assignment back)."""
    _teams(principal)
    assignee = assignee.strip() or ""
    async with deps.new_uow() as uow:
        found = await team_request(uow, principal, request_id)
        if found.status is Status.CLOSED:
            raise Conflict("The request is closed.")
        if assignee and assignee != principal.login:
            colleague = await uow.employees.by_login(assignee)
            if colleague is None or found.team not in teams_with(colleague.roles):
                raise InvalidInput("Assign to a colleague of the same team.", fields={"assignee": "not in the team"})
        status = Status.IN_PROGRESS if found.status is Status.RECEIVED and assignee else found.status
        updated = replace(found, assignee=assignee, status=status, updated_at=deps.clock.now())
        await uow.help_requests.save(updated)
        await uow.audit.add(
            audit_event(deps, principal.login, "help_request.assigned", updated, client=client, to=assignee)
        )
        await uow.commit()
    return updated


async def add_note(
    principal: Principal, request_id: int, note: str, *, deps: HelpRequestsDeps, client: str = ""
) -> HelpRequest:
    """An internal note: seen by the team only; the person is not told."""
    _teams(principal)
    body = check_message(note)
    async with deps.new_uow() as uow:
        found = await team_request(uow, principal, request_id)
        updated = found.add(Message(MessageKind.NOTE, principal.login, body, deps.clock.now()), found.status)
        await uow.help_requests.save(updated)
        await uow.audit.add(audit_event(deps, principal.login, "help_request.noted", updated, client=client))
        await uow.commit()
    return updated


async def answer(
    principal: Principal,
    request_id: int,
    text: str,
    *,
    deps: HelpRequestsDeps,
    article: str = "",
    question: bool = False,
    close: bool = False,
    client: str = "",
) -> HelpRequest:
    """Answer the person (optionally pointing to a help article): "beantwortet", or "Rückfrage" when the team asks
    back, or closed at once. The first answer sets the first-response time."""
    _teams(principal)
    body = check_message(text)
    if not ARTICLE_SLUG.match(article):
        raise InvalidInput("Name the article by its short name.", fields={"article": "invalid"})
    if question and close:
        raise InvalidInput("A question back cannot close the request.", fields={"close": "conflicts with question"})
    now = deps.clock.now()
    async with deps.new_uow() as uow:
        found = await team_request(uow, principal, request_id)
        status = Status.QUESTION if question else Status.CLOSED if close else Status.ANSWERED
        updated = found.add(Message(MessageKind.ANSWER, principal.login, body, now, article=article), status)
        updated = replace(
            updated,
            assignee=found.assignee or principal.login,
            first_response_at=found.first_response_at or now,
            resolved_at=(found.resolved_at or now) if status in (Status.ANSWERED, Status.CLOSED) else None,
            closed_at=now if close else None,
        )
        await uow.help_requests.save(updated)
        await uow.audit.add(
            audit_event(deps, principal.login, "help_request.answered", updated, client=client, status=status.value)
        )
        notice = await news_for_person(deps, uow, updated)
        await uow.commit()
    await send(deps, notice)
    return updated


async def close(principal: Principal, request_id: int, *, deps: HelpRequestsDeps, client: str = "") -> HelpRequest:
    """Close the request; the person may still say whether it was solved, or reply to reopen it."""
    _teams(principal)
    now = deps.clock.now()
    async with deps.new_uow() as uow:
        found = await team_request(uow, principal, request_id)
        if found.status is Status.CLOSED:
            raise Conflict("The request is already closed.")
        updated = replace(
            found, status=Status.CLOSED, closed_at=now, resolved_at=found.resolved_at or now, updated_at=now
        )
        await uow.help_requests.save(updated)
        await uow.audit.add(audit_event(deps, principal.login, "help_request.closed", updated, client=client))
        notice = await news_for_person(deps, uow, updated)
        await uow.commit()
    await send(deps, notice)
    return updated
