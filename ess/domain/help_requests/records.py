"""Shared steps of the help request use cases: audit events, notices, loading a request the caller may see."""

from __future__ import annotations

import logging

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.auth.model import Principal
from ess.domain.errors import NotFound
from ess.domain.help_requests.model import HelpRequest, HelpRequestPage, Team, teams_of
from ess.domain.help_requests.ports import HelpRequestsDeps, HelpRequestsUnitOfWork
from ess.domain.shared import Link, Notice

logger = logging.getLogger("ess.help_requests")

# Audit actions the self-service analytics read (issue 17): a request that was created is an escalation to a human;
# an article opened instead of sending one is a concern solved by self-service. Neither names the person in details.
ESCALATED = "help_request.escalated"
SOLVED_BY_SELF_SERVICE = "help_request.solved_by_self_service"


def audit_event(
    deps: HelpRequestsDeps,
    actor: str,
    action: str,
    request: HelpRequest | None,
    *,
    outcome: Outcome = Outcome.SUCCESS,
    client: str = "",
    **details: str | int | bool | None,
) -> AuditEvent:
    target = request.reference if request is not None and request.id is not None else ""
    if request is not None:
        details = {"topic": request.topic, "team": request.team.value, **details}
    return AuditEvent(deps.clock.now(), actor, action, outcome, target, client, details)


async def own_request(uow: HelpRequestsUnitOfWork, principal: Principal, request_id: int) -> HelpRequest:
    """The caller's own request; anybody else's is not found (never 403: ids are not to be probed)."""
    found = await uow.help_requests.get(request_id)
    if found is None or principal.employee_id is None or found.caller.employee_id != principal.employee_id:
        raise NotFound("No such help request.")
    return found


async def team_request(uow: HelpRequestsUnitOfWork, principal: Principal, request_id: int) -> HelpRequest:
    """A request of a team the caller works in; one of another team is not found."""
    found = await uow.help_requests.get(request_id)
    if found is None or found.team not in teams_of(principal):
        raise NotFound("No such help request.")
    return found


async def news_for_person(deps: HelpRequestsDeps, uow: HelpRequestsUnitOfWork, request: HelpRequest) -> Notice | None:
    """A mail that says only that there is news, with a link; no content of the request (it may be personal).
    Built inside the transaction, sent after its commit (`send`)."""
    if request.caller.employee_id is None or request.id is None:
        return None
    employee = await uow.employees.get(request.caller.employee_id)
    if employee is None or not employee.work_email:
        return None
    params = {"name": employee.preferred_name or employee.first_name, "reference": request.reference}
    if request.team is Team.IT and deps.policy.subject_in_it_mails:
        params["subject"] = request.subject
    return Notice("help_request_news", (employee.work_email,), params, _own_link(request))


async def send(deps: HelpRequestsDeps, notice: Notice | None) -> None:
    if notice is not None:
        await _notify(deps, notice)


async def tell_team(deps: HelpRequestsDeps, request: HelpRequest, kind: str = "help_request_new") -> None:
    """The team's mailbox hears of a new (or long waiting) request, by reference and topic only."""
    to = deps.team_addresses.get(request.team, ())
    if not to or request.id is None:
        return
    link = Link(HelpRequestPage.QUEUE_ITEM, {"request_id": request.id})
    await _notify(deps, Notice(kind, tuple(to), {"reference": request.reference, "topic": request.topic}, link))


def _own_link(request: HelpRequest) -> Link:
    return Link(HelpRequestPage.OWN, {"request_id": request.id or 0})


async def _notify(deps: HelpRequestsDeps, notice: Notice) -> None:
    try:
        await deps.notifier.notify(notice)
    except Exception:  # a mail is best effort; the request is saved
        logger.warning("Could not queue the %s notice", notice.kind)
