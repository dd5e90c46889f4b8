"""Self-service analytics pages: the dashboard (SVG charts with tables beside them, CSV export, annotations) for HR
and the IT helpdesk, and the answer to "Hat das Ihr Anliegen gelöst?" that ends every flow (no login needed)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any, Final

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import URLEncodedBody
from litestar.response import Redirect, Template

from ess.domain.analytics.model import Flow, JourneyId
from ess.domain.analytics.ports import AnalyticsDeps
from ess.domain.analytics.recording import answer_solved
from ess.domain.analytics.report import Dashboard, annotate, dashboard, visible_owners
from ess.domain.errors import DomainError, InvalidInput, PermissionDenied
from ess.routes.charts import bar_chart, trend_chart
from ess.routes.guards import current_principal, requires_login
from ess.routes.problems import status_for
from ess.routes.rendering import N_, gettext_for, page_context, url_to

DEFAULT_DAYS = 90
FLOW_LABELS: Final = {
    Flow.PASSWORD_RESET: N_("Forgotten password"),
    Flow.UNLOCK: N_("Unlock account"),
    Flow.PASSWORD_CHANGE: N_("Change password"),
    Flow.RECOVERY_ENROLMENT: N_("Set up recovery"),
    Flow.LEAVE_REQUEST: N_("Leave request"),
    Flow.PROFILE_CONTACT: N_("Profile: contact"),
    Flow.PROFILE_ADDRESS: N_("Profile: address"),
    Flow.PROFILE_EMERGENCY: N_("Profile: emergency contacts"),
    Flow.PROFILE_NAME: N_("Profile: name"),
    Flow.BANK_CHANGE: N_("Bank details"),
    Flow.SEARCH: N_("Search"),
    Flow.HELP_ARTICLE: N_("Help article"),
    Flow.HELP_REQUEST: N_("Help request"),
}


class SolvedForm(msgspec.Struct):
    flow: str = ""
    journey: str = ""
    solved: str = ""
    comment: str = ""


class AnnotationForm(msgspec.Struct):
    day: str = ""
    text: str = ""


def _period(request: Request[Any, Any, Any], deps: AnalyticsDeps) -> tuple[date, date, dict[str, list[str]]]:
    """The period from ?from=&to= (defaults: the last 90 days); a date that does not parse is named, not a 500."""
    _ = gettext_for(request)
    errors: dict[str, list[str]] = {}
    end = deps.clock.today()
    start = end - timedelta(days=DEFAULT_DAYS - 1)
    for name in ("from", "to"):
        raw = request.query_params.get(name, "")
        if not raw:
            continue
        try:
            value = date.fromisoformat(raw)
        except ValueError:
            errors[name] = [_("Enter a date as YYYY-MM-DD.")]
            continue
        if name == "from":
            start = value
        else:
            end = value
    if end < start:
        errors["to"] = [_("The end lies before the start.")]
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    return start, end, errors


async def _dashboard(request: Request[Any, Any, Any], deps: AnalyticsDeps) -> tuple[Dashboard, dict[str, list[str]]]:
    start, end, errors = _period(request, deps)
    try:
        return await dashboard(current_principal(request), start, end, deps=deps), errors
    except PermissionDenied as exc:
        raise PermissionDeniedException(exc.message) from exc
    except InvalidInput:
        _ = gettext_for(request)
        errors["to"] = [_("A report covers at most two years.")]
        last = deps.clock.today()
        fallback = await dashboard(current_principal(request), last - timedelta(days=DEFAULT_DAYS - 1), last, deps=deps)
        return fallback, errors


class AnalyticsPagesController(Controller):
    path = "/analytics"
    include_in_schema = False

    @get("", operation_id="analyticsPage", name="analytics", guards=[requires_login])
    async def page(self, request: Request[Any, Any, Any], analytics: NamedDependency[AnalyticsDeps]) -> Template:
        """The self-service dashboard for the caller's flows."""
        board, errors = await _dashboard(request, analytics)
        _ = gettext_for(request)
        flows = [f for f in board.figures.flows if not f.suppressed and f.started]
        return Template(
            template_name="analytics.html",
            context=page_context(
                request,
                board=board,
                errors=errors,
                flow_labels=FLOW_LABELS,
                saved="saved" in request.query_params,
                completion_chart=bar_chart(
                    [(_(FLOW_LABELS[f.flow]), f.completion_rate or 0.0) for f in flows],
                    title=_("Completion rate per flow"),
                ),
                weekly_chart=trend_chart(board.weekly, board.annotations, title=_("Journeys per week")),
                monthly_chart=trend_chart(board.monthly, board.annotations, title=_("Journeys per month")),
            ),
        )

    @get("/export.csv", operation_id="analyticsCsv", name="analytics_csv", guards=[requires_login])
    async def export(self, request: Request[Any, Any, Any], analytics: NamedDependency[AnalyticsDeps]) -> Response[str]:
        """The figures per flow as CSV (suppressed figures stay empty)."""
        board, _errors = await _dashboard(request, analytics)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            ["flow", "started", "completed", "failed", "abandoned", "escalated", "solved_yes", "solved_partly",
             "solved_no", "median_seconds", "suppressed"]
        )  # fmt: skip
        for f in board.figures.flows:
            counts = [f.started, f.completed, f.failed, f.abandoned, f.escalated, f.solved_yes, f.solved_partly,
                      f.solved_no]  # fmt: skip
            writer.writerow(
                [f.flow.value, *(["" if f.suppressed else c for c in counts]), f.median_seconds or "", f.suppressed]
            )
        savings = board.figures.savings
        writer.writerow([])
        writer.writerow(["savings_hours", savings.hours, "savings_amount", savings.amount, savings.currency])
        writer.writerow(["formula", savings.formula])
        name = f"self-service-{board.start.isoformat()}-{board.end.isoformat()}.csv"
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @post("/annotations", operation_id="analyticsAnnotate", name="analytics_annotate", guards=[requires_login],
          status_code=303)  # fmt: skip
    async def add_annotation(
        self,
        request: Request[Any, Any, Any],
        analytics: NamedDependency[AnalyticsDeps],
        data: URLEncodedBody[AnnotationForm],
    ) -> Response[Any]:
        """Note an event ("new article published") on the timeline."""
        principal = current_principal(request)
        try:
            visible_owners(principal)
        except PermissionDenied as exc:
            raise PermissionDeniedException(exc.message) from exc
        try:
            day = date.fromisoformat(data.day)
        except ValueError:
            day = None
        try:
            if day is None:
                raise InvalidInput("Enter a date as YYYY-MM-DD.", fields={"day": "invalid"})
            await annotate(principal, day, data.text, deps=analytics)
        except DomainError as exc:
            _ = gettext_for(request)
            errors = {"note": [_("Enter a date and a text of 1 to 200 characters.")]}
            board, _period_errors = await _dashboard(request, analytics)
            return Template(
                template_name="analytics.html",
                context=page_context(
                    request,
                    board=board,
                    errors=errors,
                    flow_labels=FLOW_LABELS,
                    saved=False,
                    completion_chart="",
                    weekly_chart="",
                    monthly_chart="",
                    note_day=data.day[:10],
                    note_text=data.text[:200],
                ),
                status_code=status_for(exc),
            )
        return Redirect(url_to(request, "analytics") + "?saved=1", status_code=303)

    @post("/solved", operation_id="answerSolvedPage", name="analytics_solved", status_code=200)
    async def solved(
        self,
        request: Request[Any, Any, Any],
        analytics: NamedDependency[AnalyticsDeps],
        data: URLEncodedBody[SolvedForm],
    ) -> Template:
        """Keep the answer to "Hat das Ihr Anliegen gelöst?" and thank."""
        if data.flow not in Flow.__members__.values():
            raise NotFoundException()
        try:
            await answer_solved(Flow(data.flow), JourneyId(data.journey), data.solved, data.comment, deps=analytics)
        except DomainError as exc:
            _ = gettext_for(request)
            message = _("This question has expired, or the answer was not yes, partly or no.")
            return Template(
                template_name="analytics_thanks.html",
                context=page_context(request, errors={"solved": [message]}, answered=False),
                status_code=status_for(exc),
            )
        return Template(template_name="analytics_thanks.html", context=page_context(request, errors={}, answered=True))
