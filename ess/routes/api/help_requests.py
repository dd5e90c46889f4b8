"""Help requests API: the caller's own requests (create, list, read, reply, rate) and the HR and IT queues."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from ess.domain.help_requests.model import (
    MAX_CONTEXT_VALUE,
    MAX_MESSAGE,
    MAX_SUBJECT,
    HelpRequest,
    Status,
)
from ess.domain.help_requests.ports import HelpRequestsDeps
from ess.domain.help_requests.queue import QueueQuery, add_note, answer, assign, close, queue, queue_item
from ess.domain.help_requests.requests import AskForHelp, ask_for_help, my_request, my_requests, rate, reply
from ess.routes.guards import current_principal, requires_login
from ess.routes.rendering import client_of

StatusName = Literal["received", "in_progress", "question", "answered", "closed"]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_MESSAGE)]
ContextValue = Annotated[str, msgspec.Meta(max_length=MAX_CONTEXT_VALUE)]
OWN_PROBLEMS = ["not_found", "invalid_input", "invalid_help_request"]
DESK_PROBLEMS = ["not_found", "permission_denied", "invalid_input", "invalid_help_request", "conflict"]


class HelpContextIn(msgspec.Struct, forbid_unknown_fields=True):
    """What the person kept of the context: the page and step, the error code and request id, search terms."""

    page: ContextValue = ""
    step: ContextValue = ""
    error_code: ContextValue = ""
    request_id: ContextValue = ""
    search_terms: ContextValue = ""


class HelpRequestIn(msgspec.Struct, forbid_unknown_fields=True):
    topic: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    subject: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_SUBJECT)]
    message: Text
    context: HelpContextIn | None = None


class HelpMessageIn(msgspec.Struct, forbid_unknown_fields=True):
    message: Text


class HelpRatingIn(msgspec.Struct, forbid_unknown_fields=True):
    solved: bool


class HelpMessageOut(msgspec.Struct):
    kind: str
    author: str
    body: str
    article: str
    created_at: datetime


class HelpRequestOut(msgspec.Struct):
    id: int
    reference: str
    topic: str
    team: str
    subject: str
    status: StatusName
    context: dict[str, str]
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    solved: bool | None
    messages: list[HelpMessageOut]


class HelpCallerOut(msgspec.Struct):
    login: str
    name: str
    callback: str
    claimed_login: str
    logged_out: bool


class QueueItemOut(msgspec.Struct):
    id: int
    reference: str
    topic: str
    team: str
    subject: str
    status: StatusName
    assignee: str
    caller: HelpCallerOut
    context: dict[str, str]
    created_at: datetime
    updated_at: datetime
    first_response_seconds: int | None
    resolution_seconds: int | None
    messages: list[HelpMessageOut]


class AssignIn(msgspec.Struct, forbid_unknown_fields=True):
    """The colleague's login; empty takes the assignment back."""

    assignee: Annotated[str, msgspec.Meta(max_length=256)] = ""


class NoteIn(msgspec.Struct, forbid_unknown_fields=True):
    note: Text


class AnswerIn(msgspec.Struct, forbid_unknown_fields=True):
    message: Text
    article: Annotated[str, msgspec.Meta(max_length=80)] = ""
    question: bool = False
    close: bool = False


def _messages(request: HelpRequest) -> list[HelpMessageOut]:
    return [HelpMessageOut(m.kind.value, m.author, m.body, m.article, m.created_at) for m in request.messages]


def request_out(request: HelpRequest) -> HelpRequestOut:
    assert request.id is not None
    return HelpRequestOut(
        id=request.id,
        reference=request.reference,
        topic=request.topic,
        team=request.team.value,
        subject=request.subject,
        status=request.status.value,
        context=dict(request.context),
        created_at=request.created_at,
        updated_at=request.last_activity,
        closed_at=request.closed_at,
        solved=request.solved,
        messages=_messages(request),
    )


def _seconds(value: Any) -> int | None:
    return None if value is None else int(value.total_seconds())


def queue_out(request: HelpRequest) -> QueueItemOut:
    assert request.id is not None
    caller = request.caller
    return QueueItemOut(
        id=request.id,
        reference=request.reference,
        topic=request.topic,
        team=request.team.value,
        subject=request.subject,
        status=request.status.value,
        assignee=request.assignee,
        caller=HelpCallerOut(caller.login, caller.name, caller.callback, caller.claimed_login, caller.anonymous),
        context=dict(request.context),
        created_at=request.created_at,
        updated_at=request.last_activity,
        first_response_seconds=_seconds(request.first_response_time()),
        resolution_seconds=_seconds(request.resolution_time()),
        messages=_messages(request),
    )


class HelpRequestsApiController(Controller):
    path = "/api/v1/me/help-requests"
    tags = ["help requests"]
    guards = [requires_login]

    @post("", operation_id="createHelpRequest", status_code=HTTP_201_CREATED, problems=OWN_PROBLEMS)
    async def create(
        self,
        request: Request[Any, Any, Any],
        help_requests: NamedDependency[HelpRequestsDeps],
        data: JSONBody[HelpRequestIn],
    ) -> HelpRequestOut:
        """Ask HR or IT for help; the topic decides who answers. Never include a password."""
        context = msgspec.structs.asdict(data.context) if data.context is not None else {}
        created = await ask_for_help(
            AskForHelp(current_principal(request), data.topic, data.subject, data.message, context, client_of(request)),
            deps=help_requests,
        )
        return request_out(created)

    @get("", operation_id="listHelpRequests")
    async def list(
        self, request: Request[Any, Any, Any], help_requests: NamedDependency[HelpRequestsDeps]
    ) -> list[HelpRequestOut]:
        """The caller's help requests with their answers, newest first."""
        return [request_out(r) for r in await my_requests(current_principal(request), deps=help_requests)]

    @get("/{request_id:int}", operation_id="getHelpRequest", problems=["not_found"])
    async def get(
        self,
        request: Request[Any, Any, Any],
        help_requests: NamedDependency[HelpRequestsDeps],
        request_id: FromPath[int],
    ) -> HelpRequestOut:
        """One of the caller's help requests with the answers."""
        return request_out(await my_request(current_principal(request), request_id, deps=help_requests))

    @post(
        "/{request_id:int}/messages",
        operation_id="replyToHelpRequest",
        status_code=HTTP_201_CREATED,
        problems=OWN_PROBLEMS,
    )
    async def reply(
        self,
        request: Request[Any, Any, Any],
        help_requests: NamedDependency[HelpRequestsDeps],
        request_id: FromPath[int],
        data: JSONBody[HelpMessageIn],
    ) -> HelpRequestOut:
        """Write again; a closed request is reopened."""
        principal = current_principal(request)
        return request_out(
            await reply(principal, request_id, data.message, deps=help_requests, client=client_of(request))
        )

    @post(
        "/{request_id:int}/rating",
        operation_id="rateHelpRequest",
        status_code=HTTP_200_OK,
        problems=["not_found", "conflict"],
    )
    async def rate(
        self,
        request: Request[Any, Any, Any],
        help_requests: NamedDependency[HelpRequestsDeps],
        request_id: FromPath[int],
        data: JSONBody[HelpRatingIn],
    ) -> HelpRequestOut:
        """ "Gelöst / nicht gelöst" once answered or closed; not solved sends it back to the team."""
        principal = current_principal(request)
        rated = await rate(principal, request_id, solved=data.solved, deps=help_requests, client=client_of(request))
        return request_out(rated)


class HelpDeskApiController(Controller):
    path = "/api/v1/help-desk/requests"
    tags = ["help requests"]
    guards = [requires_login]

    @get("", operation_id="listHelpDeskRequests", problems=["permission_denied", "invalid_input"])
    async def list(
        self,
        request: Request[Any, Any, Any],
        help_requests: NamedDependency[HelpRequestsDeps],
        status: Annotated[list[StatusName] | None, QueryParameter()] = None,
        topic: Annotated[str, QueryParameter(max_length=40)] = "",
        older_than_hours: Annotated[int, QueryParameter(ge=0, le=100_000)] = 0,
    ) -> list[QueueItemOut]:
        """The queue of the caller's team (HR: HR topics, helpdesk: IT topics), oldest first."""
        query = QueueQuery(frozenset(Status(s) for s in status or ()), topic, older_than_hours)
        return [queue_out(r) for r in await queue(current_principal(request), query, deps=help_requests)]

    @get("/{request_id:int}", operation_id="getHelpDeskRequest", problems=["permission_denied", "not_found"])
    async def get(
        self,
        request: Request[Any, Any, Any],
        help_requests: NamedDependency[HelpRequestsDeps],
        request_id: FromPath[int],
    ) -> QueueItemOut:
        """One request of the caller's team, with internal notes."""
        return queue_out(await queue_item(current_principal(request), request_id, deps=help_requests))

    @post(
        "/{request_id:int}/assignment",
        operation_id="assignHelpRequest",
        status_code=HTTP_200_OK,
        problems=DESK_PROBLEMS,
    )
    async def assign(
        self,
        request: Request[Any, Any, Any],
        help_requests: NamedDependency[HelpRequestsDeps],
        request_id: FromPath[int],
        data: JSONBody[AssignIn],
    ) -> QueueItemOut:
        """Assign to oneself or a colleague of the same team."""
        principal = current_principal(request)
        done = await assign(principal, request_id, data.assignee, deps=help_requests, client=client_of(request))
        return queue_out(done)

    @post(
        "/{request_id:int}/notes", operation_id="noteHelpRequest", status_code=HTTP_201_CREATED, problems=DESK_PROBLEMS
    )
    async def note(
        self,
        request: Request[Any, Any, Any],
        help_requests: NamedDependency[HelpRequestsDeps],
        request_id: FromPath[int],
        data: JSONBody[NoteIn],
    ) -> QueueItemOut:
        """An internal note, seen only by the team."""
        principal = current_principal(request)
        done = await add_note(principal, request_id, data.note, deps=help_requests, client=client_of(request))
        return queue_out(done)

    @post(
        "/{request_id:int}/answers",
        operation_id="answerHelpRequest",
        status_code=HTTP_201_CREATED,
        problems=DESK_PROBLEMS,
    )
    async def answer(
        self,
        request: Request[Any, Any, Any],
        help_requests: NamedDependency[HelpRequestsDeps],
        request_id: FromPath[int],
        data: JSONBody[AnswerIn],
    ) -> QueueItemOut:
        """Answer the person (optionally with an article), ask back, or answer and close."""
        done = await answer(
            current_principal(request),
            request_id,
            data.message,
            deps=help_requests,
            article=data.article,
            question=data.question,
            close=data.close,
            client=client_of(request),
        )
        return queue_out(done)

    @post("/{request_id:int}/close", operation_id="closeHelpRequest", status_code=HTTP_200_OK, problems=DESK_PROBLEMS)
    async def close(
        self,
        request: Request[Any, Any, Any],
        help_requests: NamedDependency[HelpRequestsDeps],
        request_id: FromPath[int],
    ) -> QueueItemOut:
        """Close the request; the person may still rate or reopen it."""
        principal = current_principal(request)
        return queue_out(await close(principal, request_id, deps=help_requests, client=client_of(request)))
