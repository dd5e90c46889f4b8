"""Journeys at the edge: each self-service page records its steps through analytics' `record_step`, with a random
journey id kept in a first-party cookie per flow (never the login), and asks "Hat das Ihr Anliegen gelöst?" on the
page that ends a flow."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from litestar import Request
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.types import Message, Scope

from ess.domain.analytics.model import Flow, JourneyId, Step, new_journey_id, plausible_journey_id
from ess.domain.analytics.ports import AnalyticsDeps
from ess.domain.analytics.recording import record_step
from ess.domain.errors import DomainError

COOKIE_PREFIX: Final = "ess_j_"
ASK_COOKIE: Final = "ess_ask"
_PENDING: Final = "journey_cookies"
_ASK: Final = "journey_ask"
# The question waits this long across a redirect; it is shown once.
ASK_SECONDS: Final = 900
_OPEN, _DONE = "o", "d"


def _state(request: Request[Any, Any, Any]) -> dict[str, Any]:
    state: dict[str, Any] = request.scope.setdefault("state", {})
    return state


def _queue(request: Request[Any, Any, Any], name: str, value: str, max_age: int) -> None:
    _state(request).setdefault(_PENDING, {})[name] = (value, max_age)


def _read(request: Request[Any, Any, Any], name: str) -> str:
    pending = _state(request).get(_PENDING, {})
    if name in pending:
        return str(pending[name][0])
    return str(request.cookies.get(name, ""))


def current(request: Request[Any, Any, Any], flow: Flow) -> tuple[JourneyId | None, bool]:
    """The browser's journey of this flow and whether it has ended (completed)."""
    journey, _, mark = _read(request, COOKIE_PREFIX + flow.value).partition(".")
    if not plausible_journey_id(journey):
        return None, False
    return JourneyId(journey), mark == _DONE


def recent_journeys(request: Request[Any, Any, Any]) -> dict[Flow, JourneyId]:
    """Every journey this browser holds (open or ended within the escalation window): what a help request passes
    to `note_help_request`."""
    found: dict[Flow, JourneyId] = {}
    for flow in Flow:
        journey, _ = current(request, flow)
        if journey is not None:
            found[flow] = journey
    return found


def _keep(request: Request[Any, Any, Any], flow: Flow, journey: JourneyId, mark: str, deps: AnalyticsDeps) -> None:
    # Kept as long as a help request could still escalate the journey.
    seconds = int(max(deps.policy.escalation_window, deps.policy.abandon_after).total_seconds())
    _queue(request, COOKIE_PREFIX + flow.value, f"{journey}.{mark}", seconds)


async def start(
    request: Request[Any, Any, Any], flow: Flow, deps: AnalyticsDeps, *, detail: str = "", fresh: bool = False
) -> JourneyId:
    """Begin a journey, or go on with this browser's open one (a form shown again counts once)."""
    journey, done = current(request, flow)
    if journey is None or done or fresh:
        journey = new_journey_id()
        _keep(request, flow, journey, _OPEN, deps)
        await record_step(flow, journey, Step.STARTED, detail=detail, deps=deps)
    return journey


async def reach(request: Request[Any, Any, Any], flow: Flow, deps: AnalyticsDeps, name: str) -> None:
    """A named step of the flow was reached (`link_sent`, `link_opened`)."""
    journey = await start(request, flow, deps)
    await record_step(flow, journey, name, deps=deps)


async def fail(request: Request[Any, Any, Any], flow: Flow, deps: AnalyticsDeps, error: DomainError | str) -> None:
    """A step failed: the error's stable code is kept, never its message or the input."""
    journey = await start(request, flow, deps)
    code = error if isinstance(error, str) else error.code
    await record_step(flow, journey, Step.FAILED, error_code=code, deps=deps)


async def complete(
    request: Request[Any, Any, Any], flow: Flow, deps: AnalyticsDeps, *, ask: bool = True, ask_now: bool = True
) -> JourneyId:
    """The flow reached its goal; this page (or with `ask_now=False` the next one: this page's forms belong to a
    session that just ended) asks whether that solved the concern."""
    journey = await start(request, flow, deps)
    await record_step(flow, journey, Step.COMPLETED, deps=deps)
    _keep(request, flow, journey, _DONE, deps)
    if ask and ask_now:
        _state(request)[_ASK] = (flow.value, journey)
    if ask:
        _queue(request, ASK_COOKIE, f"{flow.value}.{journey}", ASK_SECONDS)
    return journey


def question(request: Request[Any, Any, Any]) -> tuple[str, str] | None:
    """The (flow, journey) to ask about on this page, once: the cookie is dropped when the page shows it."""
    asked = _state(request).get(_ASK)
    if asked is not None:
        return (str(asked[0]), str(asked[1]))
    flow, _, journey = str(request.cookies.get(ASK_COOKIE, "")).partition(".")
    if flow not in Flow.__members__.values() or not plausible_journey_id(journey):
        return None
    _queue(request, ASK_COOKIE, "", 0)
    return flow, journey


def journey_cookies_hook(*, secure: bool) -> Callable[[Message, Scope], Awaitable[None]]:
    """A `before_send` hook writing the journey cookies the handler queued (HttpOnly, SameSite=Lax, first party)."""

    async def write(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        pending: dict[str, tuple[str, int]] = scope.get("state", {}).get(_PENDING, {})
        if not pending:
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, (value, max_age) in pending.items():
            cookie = Cookie(
                key=name, value=value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=secure
            )
            headers.add("set-cookie", cookie.to_header(header=""))

    return write
