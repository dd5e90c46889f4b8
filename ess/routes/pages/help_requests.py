"""Help request pages: "Ich brauche Hilfe" (with the context the person may remove, and articles suggested for the
subject), the person's requests with answers, reply and "gelöst / nicht gelöst", the logged-out request to IT, and
the HR and IT queues."""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from ess.domain.analytics.model import HelpRequested
from ess.domain.analytics.ports import AnalyticsDeps
from ess.domain.analytics.recording import note_help_request
from ess.domain.errors import DomainError
from ess.domain.help.ports import HelpDeps
from ess.domain.help.search import search
from ess.domain.help_requests.model import CONTEXT_KEYS, HelpRequest, Status
from ess.domain.help_requests.ports import HelpRequestsDeps
from ess.domain.help_requests.requests import (
    AskForHelp,
    AskWithoutLogin,
    ask_for_help,
    ask_without_login,
    my_request,
    my_requests,
    rate,
    reply,
    solved_by_self_service,
)
from ess.routes.errors import form_errors
from ess.routes.guards import current_principal, requires_login
from ess.routes.help_text import link_url, shown
from ess.routes.journeys import recent_journeys
from ess.routes.rendering import N_, client_of, gettext_for, locale_of, page_context, principal_of, url_to

# The topic a page suggests (the person may change it): by the first part of its path.
PAGE_TOPICS: Final = {
    "vacation": "leave",
    "team": "leave",
    "profile": "personal_data",
    "password": "login",
    "security": "login",
    "login": "login",
    "mfa": "login",
}
FIELD_MESSAGES: Final = {
    "required": N_("Please fill in this field."),
    "too long": N_("This text is too long."),
    "contains a password": N_("Please never send a password or a code. Remove it; nobody at HR or IT will ask for it."),
    "unknown": N_("Please choose a topic."),
    "invalid": N_("This value cannot be sent; remove it."),
    "negative": N_("Please enter a number of hours."),
    "not in the team": N_("Assign to a colleague of the same team."),
    "conflicts with question": N_("A question back cannot close the request."),
}
STATUS_NAMES: Final = {
    Status.RECEIVED.value: N_("received"),
    Status.IN_PROGRESS.value: N_("in progress"),
    Status.QUESTION.value: N_("question for you"),
    Status.ANSWERED.value: N_("answered"),
    Status.CLOSED.value: N_("closed"),
}
CONTEXT_LABELS: Final = {
    "page": N_("Page"),
    "step": N_("Step"),
    "error_code": N_("Error code"),
    "request_id": N_("Request ID"),
    "search_terms": N_("Search terms that found nothing"),
}
SUGGESTIONS: Final = 5


class RequestForm(msgspec.Struct):
    topic: str = ""
    subject: str = ""
    message: str = ""
    action: str = "send"
    page: str = ""
    step: str = ""
    error_code: str = ""
    request_id: str = ""
    search_terms: str = ""
    # One checkbox per context item: only what stays ticked is sent (search terms only with consent).
    keep_page: str = ""
    keep_step: str = ""
    keep_error_code: str = ""
    keep_request_id: str = ""
    keep_search_terms: str = ""

    def kept(self) -> list[str]:
        return [key for key in CONTEXT_KEYS if getattr(self, f"keep_{key}")]


class TextForm(msgspec.Struct):
    message: str = ""


class RateForm(msgspec.Struct):
    solved: str = ""


class LoggedOutForm(msgspec.Struct):
    name: str = ""
    callback: str = ""
    login: str = ""
    message: str = ""


def field_errors(request: Request[Any, Any, Any], exc: DomainError) -> tuple[int, dict[str, list[str]]]:
    """Per-field messages for the help request forms; other errors as the app words them."""
    _ = gettext_for(request)
    status, errors = form_errors(exc, _)
    if exc.fields:
        errors = {name.removeprefix("context."): [_(FIELD_MESSAGES.get(v, v))] for name, v in exc.fields.items()}
    return status, errors


def topic_for(page: str) -> str:
    return PAGE_TOPICS.get(page.strip("/").split("/", 1)[0], "")


def _context_of(form: RequestForm) -> dict[str, str]:
    return {key: getattr(form, key) for key in CONTEXT_KEYS if getattr(form, key)}


class HelpRequestPagesController(Controller):
    path = "/help-requests"
    include_in_schema = False

    @get("", operation_id="helpRequestsPage", name="help_requests", guards=[requires_login])
    async def index(
        self, request: Request[Any, Any, Any], help_requests: NamedDependency[HelpRequestsDeps]
    ) -> Template:
        """The person's requests with their status."""
        found = await my_requests(current_principal(request), deps=help_requests)
        return Template("help_requests.html", context=page_context(request, requests=found, status_names=STATUS_NAMES))

    @get("/new", operation_id="helpRequestFormPage", name="help_request_new")
    async def new(
        self, request: Request[Any, Any, Any], help_requests: NamedDependency[HelpRequestsDeps]
    ) -> Template | Redirect:
        """ "Ich brauche Hilfe": the form, with the context of the page the person came from."""
        query = request.query_params
        form = RequestForm()
        for key in CONTEXT_KEYS:
            setattr(form, key, str(query.get(key, ""))[:200])
        if principal_of(request) is None:
            return Redirect(url_to(request, "help_request_logged_out") + "?" + urlencode(_context_of(form)))
        form.topic = str(query.get("topic", "")) or topic_for(form.page)
        for key in CONTEXT_KEYS:
            setattr(form, f"keep_{key}", "1" if key != "search_terms" else "")
        return self._form(request, help_requests, form)

    def _form(
        self,
        request: Request[Any, Any, Any],
        deps: HelpRequestsDeps,
        form: RequestForm,
        *,
        errors: dict[str, list[str]] | None = None,
        suggestions: list[Any] | None = None,
        status_code: int = 200,
    ) -> Template:
        lang = locale_of(request)
        context = page_context(
            request,
            form=form,
            errors=errors or {},
            topics=[(t.key, t.label(lang)) for t in deps.topics],
            context_items=[(key, getattr(form, key)) for key in CONTEXT_KEYS if getattr(form, key)],
            context_labels=CONTEXT_LABELS,
            suggestions=suggestions,
        )
        return Template("help_request_new.html", context=context, status_code=status_code)

    @post("/new", operation_id="helpRequestSubmit", name="help_request_create", guards=[requires_login])
    async def create(
        self,
        request: Request[Any, Any, Any],
        help_requests: NamedDependency[HelpRequestsDeps],
        help: NamedDependency[HelpDeps],
        analytics: NamedDependency[AnalyticsDeps],
        data: URLEncodedBody[RequestForm],
    ) -> Template | Redirect:
        """Suggest articles for the subject, or send the request with the context the person kept."""
        principal = current_principal(request)
        if data.action == "suggest":
            lang, _ = locale_of(request), gettext_for(request)
            answer = await search(data.subject[:200], lang, principal=principal, deps=help)
            found = [shown(r, links=lambda link: link_url(request, link), _=_, lang=lang) for r in answer.results]
            suggestions = [r for r in found if r.kind == "article"][:SUGGESTIONS]
            return self._form(request, help_requests, data, suggestions=suggestions)
        # Only what is ticked is sent: each context item can be removed, search terms only with consent.
        context = {key: value for key, value in _context_of(data).items() if key in data.kept()}
        try:
            created = await ask_for_help(
                AskForHelp(principal, data.topic, data.subject, data.message, context, client_of(request)),
                deps=help_requests,
            )
        except DomainError as exc:
            status, errors = field_errors(request, exc)
            return self._form(request, help_requests, data, errors=errors, status_code=status)
        # Self-service journeys on the topic this browser went through lately count as escalated (no person named).
        await note_help_request(
            HelpRequested(created.topic, created.created_at, recent_journeys(request)), deps=analytics
        )
        return Redirect(url_to(request, "help_request", request_id=created.id) + "?created=1", status_code=303)

    @get("/solved-by-article", operation_id="helpRequestArticleOpened", name="help_request_article")
    async def article_opened(
        self, request: Request[Any, Any, Any], help_requests: NamedDependency[HelpRequestsDeps]
    ) -> Redirect:
        """A suggested article opened instead of sending the request: counted for the self-service figures."""
        slug, topic = str(request.query_params.get("slug", ""))[:80], str(request.query_params.get("topic", ""))
        target = url_to(request, "help_article", slug=slug) if slug else url_to(request, "help")
        await solved_by_self_service(principal_of(request), slug, topic[:40], deps=help_requests)
        return Redirect(target, status_code=303)

    @get("/{request_id:int}", operation_id="helpRequestPage", name="help_request", guards=[requires_login])
    async def detail(
        self,
        request: Request[Any, Any, Any],
        help_requests: NamedDependency[HelpRequestsDeps],
        request_id: FromPath[int],
    ) -> Template:
        """One request: status, answers, reply box, "gelöst / nicht gelöst"."""
        found = await my_request(current_principal(request), request_id, deps=help_requests)
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
        context = request_page_context(
            request, deps, found, errors=errors, created=request.query_params.get("created") == "1"
        )
        return Template("help_request.html", context=context, status_code=status_code)

    @post(
        "/{request_id:int}/reply", operation_id="helpRequestReply", name="help_request_reply", guards=[requires_login]
    )
    async def reply(
        self,
        request: Request[Any, Any, Any],
        help_requests: NamedDependency[HelpRequestsDeps],
        request_id: FromPath[int],
        data: URLEncodedBody[TextForm],
    ) -> Template | Redirect:
        """Write again (reopens a closed request)."""
        principal = current_principal(request)
        try:
            await reply(principal, request_id, data.message, deps=help_requests, client=client_of(request))
        except DomainError as exc:
            if exc.code == "not_found":
                raise
            status, errors = field_errors(request, exc)
            found = await my_request(principal, request_id, deps=help_requests)
            return self._detail(request, help_requests, found, errors=errors, status_code=status)
        return Redirect(url_to(request, "help_request", request_id=request_id), status_code=303)

    @post("/{request_id:int}/rate", operation_id="helpRequestRate", name="help_request_rate", guards=[requires_login])
    async def rate(
        self,
        request: Request[Any, Any, Any],
        help_requests: NamedDependency[HelpRequestsDeps],
        request_id: FromPath[int],
        data: URLEncodedBody[RateForm],
    ) -> Redirect:
        """ "Gelöst" closes the request; "nicht gelöst" sends it back to the team."""
        principal = current_principal(request)
        solved = data.solved == "yes"
        await rate(principal, request_id, solved=solved, deps=help_requests, client=client_of(request))
        return Redirect(url_to(request, "help_request", request_id=request_id), status_code=303)

    @get("/logged-out", operation_id="helpRequestLoggedOutPage", name="help_request_logged_out")
    async def logged_out(self, request: Request[Any, Any, Any]) -> Template:
        """For someone who cannot log in: a request to IT, without a password."""
        return Template("help_request_logged_out.html", context=page_context(request, form=LoggedOutForm(), errors={}))

    @post(
        "/logged-out", operation_id="helpRequestLoggedOutSubmit", name="help_request_logged_out_send", status_code=200
    )
    async def logged_out_send(
        self,
        request: Request[Any, Any, Any],
        help_requests: NamedDependency[HelpRequestsDeps],
        analytics: NamedDependency[AnalyticsDeps],
        data: URLEncodedBody[LoggedOutForm],
    ) -> Template:
        """The same answer whatever login is named; limited per client and in total."""
        cmd = AskWithoutLogin(data.name, data.callback, data.message, data.login, client_of(request))
        try:
            await ask_without_login(cmd, deps=help_requests)
        except DomainError as exc:
            status, errors = field_errors(request, exc)
            context = page_context(request, form=data, errors=errors)
            return Template("help_request_logged_out.html", context=context, status_code=status)
        await note_help_request(
            HelpRequested("login", help_requests.clock.now(), recent_journeys(request)), deps=analytics
        )
        return Template("help_request_logged_out_sent.html", context=page_context(request))


def request_page_context(
    request: Request[Any, Any, Any],
    deps: HelpRequestsDeps,
    found: HelpRequest,
    *,
    errors: dict[str, list[str]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """What the pages of one request show, for the person who asked and for HR/IT: the request, its topic in the
    reader's language, the status and context names, and the form's errors."""
    topic = deps.topic(found.topic)
    return page_context(
        request,
        item=found,
        topic_label=topic.label(locale_of(request)) if topic else found.topic,
        status_names=STATUS_NAMES,
        context_labels=CONTEXT_LABELS,
        errors=errors or {},
        **extra,
    )
