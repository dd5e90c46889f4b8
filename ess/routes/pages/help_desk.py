"""The HR and IT queues: filter by status, topic and age; assign, internal notes, answer (with an article), close.
HR sees HR topics only, the helpdesk IT topics only; anybody else is refused by the use cases."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from ess.domain.errors import DomainError
from ess.domain.help_requests.model import HelpRequest, Status, teams_of
from ess.domain.help_requests.ports import HelpRequestsDeps
from ess.domain.help_requests.queue import QueueQuery, add_note, answer, assign, close, queue, queue_item
from ess.routes.guards import current_principal, requires_login
from ess.routes.pages.help_requests import STATUS_NAMES, field_errors, request_page_context
from ess.routes.rendering import client_of, locale_of, page_context, url_to


class AssignForm(msgspec.Struct):
    assignee: str = ""


class NoteForm(msgspec.Struct):
    note: str = ""


class AnswerForm(msgspec.Struct):
    message: str = ""
    article: str = ""
    action: str = "answer"  # answer, question, close


def _query(request: Request[Any, Any, Any]) -> QueueQuery:
    params = request.query_params
    statuses = frozenset(Status(s) for s in params.getall("status", []) if s in Status.__members__.values())
    hours = str(params.get("older_than_hours", "0"))
    return QueueQuery(statuses, str(params.get("topic", ""))[:40], int(hours) if hours.isdigit() else 0)


class HelpDeskPagesController(Controller):
    path = "/help-desk"
    include_in_schema = False
    guards = [requires_login]

    @get("", operation_id="helpDeskPage", name="help_desk")
    async def index(
        self, request: Request[Any, Any, Any], help_requests: NamedDependency[HelpRequestsDeps]
    ) -> Template:
        """The queue of the caller's team(s)."""
        principal = current_principal(request)
        wanted = _query(request)
        found = await queue(principal, wanted, deps=help_requests)
        lang, teams = locale_of(request), teams_of(principal)
        context = page_context(
            request,
            requests=found,
            wanted=wanted,
            status_names=STATUS_NAMES,
            topics=[(t.key, t.label(lang)) for t in help_requests.topics if t.team in teams],
            topic_labels={t.key: t.label(lang) for t in help_requests.topics},
            now=help_requests.clock.now(),
        )
        return Template("help_desk.html", context=context)

    @get("/{request_id:int}", operation_id="helpDeskRequestPage", name="help_desk_request")
    async def detail(
        self,
        request: Request[Any, Any, Any],
        help_requests: NamedDependency[HelpRequestsDeps],
        request_id: FromPath[int],
    ) -> Template:
        """One request with notes, the answer form and the verification checklist for logged-out requests."""
        found = await queue_item(current_principal(request), request_id, deps=help_requests)
        return self._detail(request, help_requests, found)

    def _detail(
        self,
        request: Request[Any, Any, Any],
        deps: HelpRequestsDeps,
        found: HelpRequest,
        *,
        errors: dict[str, list[str]] | None = None,
        status_code: int = 200,
    ) -> Template:
        context = request_page_context(request, deps, found, errors=errors)
        return Template("help_desk_request.html", context=context, status_code=status_code)

    async def _act(
        self, request: Request[Any, Any, Any], deps: HelpRequestsDeps, request_id: int, action: Any
    ) -> Template | Redirect:
        principal = current_principal(request)
        try:
            await action(principal, client_of(request))
        except DomainError as exc:
            if exc.code in ("not_found", "permission_denied"):
                raise
            status, errors = field_errors(request, exc)
            found = await queue_item(principal, request_id, deps=deps)
            return self._detail(request, deps, found, errors=errors, status_code=status)
        return Redirect(url_to(request, "help_desk_request", request_id=request_id), status_code=303)

    @post("/{request_id:int}/assign", operation_id="helpDeskAssign", name="help_desk_assign")
    async def assign(
        self,
        request: Request[Any, Any, Any],
        help_requests: NamedDependency[HelpRequestsDeps],
        request_id: FromPath[int],
        data: URLEncodedBody[AssignForm],
    ) -> Template | Redirect:
        """Assign to oneself (empty: oneself) or a colleague."""
        who = data.assignee.strip() or current_principal(request).login

        async def act(principal: Any, client: str) -> None:
            await assign(principal, request_id, who, deps=help_requests, client=client)

        return await self._act(request, help_requests, request_id, act)

    @post("/{request_id:int}/note", operation_id="helpDeskNote", name="help_desk_note")
    async def note(
        self,
        request: Request[Any, Any, Any],
        help_requests: NamedDependency[HelpRequestsDeps],
        request_id: FromPath[int],
        data: URLEncodedBody[NoteForm],
    ) -> Template | Redirect:
        """An internal note."""

        async def act(principal: Any, client: str) -> None:
            await add_note(principal, request_id, data.note, deps=help_requests, client=client)

        return await self._act(request, help_requests, request_id, act)

    @post("/{request_id:int}/answer", operation_id="helpDeskAnswer", name="help_desk_answer")
    async def answer(
        self,
        request: Request[Any, Any, Any],
        help_requests: NamedDependency[HelpRequestsDeps],
        request_id: FromPath[int],
        data: URLEncodedBody[AnswerForm],
    ) -> Template | Redirect:
        """Answer, ask back, or answer and close."""

        async def act(principal: Any, client: str) -> None:
            await answer(
                principal,
                request_id,
                data.message,
                deps=help_requests,
                article=data.article.strip(),
                question=data.action == "question",
                close=data.action == "close",
                client=client,
            )

        return await self._act(request, help_requests, request_id, act)

    @post("/{request_id:int}/close", operation_id="helpDeskClose", name="help_desk_close")
    async def close(
        self,
        request: Request[Any, Any, Any],
        help_requests: NamedDependency[HelpRequestsDeps],
        request_id: FromPath[int],
    ) -> Template | Redirect:
        """Close without a further answer."""

        async def act(principal: Any, client: str) -> None:
            await close(principal, request_id, deps=help_requests, client=client)

        return await self._act(request, help_requests, request_id, act)
