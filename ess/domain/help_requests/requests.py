"""Use cases of the person asking: send a request (logged in or not), see one's requests, reply, say whether it was
solved, and record a concern solved by self-service."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ess.domain.audit import Outcome
from ess.domain.auth.model import Principal
from ess.domain.errors import Conflict, InvalidInput, Throttled
from ess.domain.help_requests.model import (
    MAX_CALLBACK,
    MAX_NAME,
    Caller,
    HelpRequest,
    HelpRequestError,
    Message,
    MessageKind,
    Status,
    Team,
    check_message,
    check_text,
    clean_context,
)
from ess.domain.help_requests.ports import HelpRequestsDeps
from ess.domain.help_requests.records import (
    ESCALATED,
    SOLVED_BY_SELF_SERVICE,
    audit_event,
    own_request,
    tell_team,
)

logger = logging.getLogger("ess.help_requests")


@dataclass(frozen=True, slots=True)
class AskForHelp:
    principal: Principal
    topic: str
    subject: str
    message: str
    context: Mapping[str, str] = field(default_factory=dict)
    client: str = ""


@dataclass(frozen=True, slots=True)
class AskWithoutLogin:
    """From the login or forgot-password page: who it is, how to call back, what happened. No password is asked."""

    name: str
    callback: str
    message: str
    login: str = ""
    client: str = ""


def _topic(deps: HelpRequestsDeps, key: str) -> Team:
    topic = deps.topic(key)
    if topic is None:
        raise HelpRequestError("Please choose a topic.", fields={"topic": "unknown"})
    return topic.team


async def ask_for_help(cmd: AskForHelp, *, deps: HelpRequestsDeps) -> HelpRequest:
    """Store the request with the context the person kept, tell the team, and hand it over where configured."""
    team = _topic(deps, cmd.topic)
    subject, message = check_text(cmd.subject, cmd.message)
    context = clean_context(cmd.context)
    now = deps.clock.now()
    principal = cmd.principal
    request = HelpRequest(
        topic=cmd.topic,
        team=team,
        subject=subject,
        caller=Caller(login=principal.login, employee_id=principal.employee_id, name=principal.display_name),
        created_at=now,
        context=context,
        messages=(Message(MessageKind.REQUEST, principal.login, message, now),),
        updated_at=now,
    )
    async with deps.new_uow() as uow:
        request = await uow.help_requests.add(request)
        await uow.audit.add(
            audit_event(deps, principal.login, ESCALATED, request, client=cmd.client, with_context=bool(context))
        )
        await uow.commit()
    await _after_create(deps, request)
    return request


async def ask_without_login(cmd: AskWithoutLogin, *, deps: HelpRequestsDeps) -> None:
    """A request to IT from someone who cannot log in. Counted per client and in total before any work, and answered
    the same whatever the login names: ESS never looks the login up here, the helpdesk verifies the person."""
    policy = deps.policy
    over_client = await deps.attempts.hit("help-anon-client:" + _digest(cmd.client), 3600)
    over_all = await deps.attempts.hit("help-anon-global", 3600)
    if over_client > policy.anonymous_per_client_per_hour or over_all > policy.anonymous_per_hour:
        async with deps.new_uow() as uow:
            await uow.audit.add(
                audit_event(
                    deps, "anonymous", "help_request.throttled", None, outcome=Outcome.DENIED, client=cmd.client
                )
            )
            await uow.commit()
        raise Throttled("Too many requests. Please wait a while or call the IT service desk.", retry_after_seconds=3600)
    name = " ".join(cmd.name.split())
    callback = " ".join(cmd.callback.split())
    errors = {}
    if not name or len(name) > MAX_NAME:
        errors["name"] = "required" if not name else "too long"
    if not callback or len(callback) > MAX_CALLBACK:
        errors["callback"] = "required" if not callback else "too long"
    if errors:
        raise InvalidInput("Please check the request.", fields=errors)
    _, message = check_text("-", cmd.message)
    topic = next((t.key for t in deps.topics if t.team is Team.IT), "")
    now = deps.clock.now()
    caller = Caller(name=name, callback=callback, claimed_login=" ".join(cmd.login.split())[:MAX_NAME])
    request = HelpRequest(
        topic=topic,
        team=Team.IT,
        subject="Cannot log in",
        caller=caller,
        created_at=now,
        messages=(Message(MessageKind.REQUEST, "", message, now),),
        updated_at=now,
    )
    async with deps.new_uow() as uow:
        request = await uow.help_requests.add(request)
        await uow.audit.add(audit_event(deps, "anonymous", ESCALATED, request, client=cmd.client, logged_out=True))
        await uow.commit()
    await _after_create(deps, request)


async def _after_create(deps: HelpRequestsDeps, request: HelpRequest) -> None:
    await tell_team(deps, request)
    topic = deps.topic(request.topic)
    if topic is not None and topic.handover:
        try:
            await deps.handover.forward(topic.handover, request)
        except Exception as exc:  # the request is stored in ESS; the handover is retried by nobody, but audited
            logger.warning("Handover of %s to %s failed: %s", request.reference, topic.handover, type(exc).__name__)
            outcome, reason = Outcome.FAILURE, type(exc).__name__
        else:
            outcome, reason = Outcome.SUCCESS, ""
        async with deps.new_uow() as uow:
            event = audit_event(deps, "system", "help_request.handed_over", request, outcome=outcome, to=topic.handover)
            await uow.audit.add(
                replace(event, details={**event.details, "reason": reason} if reason else event.details)
            )
            await uow.commit()


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]


async def my_requests(principal: Principal, *, deps: HelpRequestsDeps) -> list[HelpRequest]:
    """The caller's requests, newest first, without internal notes."""
    if principal.employee_id is None:
        return []
    async with deps.new_uow().read_only() as uow:
        found = await uow.help_requests.of_employee(principal.employee_id)
    return [replace(r, messages=r.visible_messages()) for r in found]


async def my_request(principal: Principal, request_id: int, *, deps: HelpRequestsDeps) -> HelpRequest:
    """One of the caller's requests with the answers, without internal notes."""
    async with deps.new_uow().read_only() as uow:
        found = await own_request(uow, principal, request_id)
    return replace(found, messages=found.visible_messages())


async def reply(
    principal: Principal, request_id: int, message: str, *, deps: HelpRequestsDeps, client: str = ""
) -> HelpRequest:
    """The person writes again: the request goes back to the team (a closed one is reopened)."""
    body = check_message(message)
    now = deps.clock.now()
    async with deps.new_uow() as uow:
        found = await own_request(uow, principal, request_id)
        reopened = found.status is Status.CLOSED
        updated = found.add(Message(MessageKind.REQUEST, principal.login, body, now), Status.IN_PROGRESS)
        if reopened:
            updated = replace(updated, closed_at=None, resolved_at=None, solved=None)
        await uow.help_requests.save(updated)
        await uow.audit.add(
            audit_event(deps, principal.login, "help_request.replied", updated, client=client, reopened=reopened)
        )
        await uow.commit()
    return replace(updated, messages=updated.visible_messages())


async def rate(
    principal: Principal, request_id: int, *, solved: bool, deps: HelpRequestsDeps, client: str = ""
) -> HelpRequest:
    """ "Gelöst / nicht gelöst" on an answered or closed request; "not solved" sends it back to the team."""
    now = deps.clock.now()
    async with deps.new_uow() as uow:
        found = await own_request(uow, principal, request_id)
        if found.status not in (Status.ANSWERED, Status.CLOSED):
            raise Conflict("A request can be rated once it is answered or closed.")
        if solved:
            updated = replace(
                found,
                status=Status.CLOSED,
                solved=True,
                closed_at=found.closed_at or now,
                resolved_at=found.resolved_at or now,
                updated_at=now,
            )
        else:
            updated = replace(found, status=Status.IN_PROGRESS, solved=False, closed_at=None, updated_at=now)
        await uow.help_requests.save(updated)
        await uow.audit.add(
            audit_event(deps, principal.login, "help_request.rated", updated, client=client, solved=solved)
        )
        await uow.commit()
    return replace(updated, messages=updated.visible_messages())


async def solved_by_self_service(
    principal: Principal | None, article: str, topic: str, *, deps: HelpRequestsDeps
) -> None:
    """The person opened a suggested article and left the request unsent: counted for self-service analytics
    (aggregate: the audit event names the article and topic, not the person)."""
    if deps.topic(topic) is None:
        topic = ""
    async with deps.new_uow() as uow:
        event = audit_event(deps, "anonymous", SOLVED_BY_SELF_SERVICE, None, article=article[:80], topic=topic)
        await uow.audit.add(event)
        await uow.commit()
    del principal  # deliberately not recorded (BetrVG §87(1) no. 6)
