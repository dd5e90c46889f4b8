"""Vacation pages: the employee's balance, requests and year calendar; the manager's decisions."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from ess.domain.analytics.model import Flow
from ess.domain.analytics.ports import AnalyticsDeps
from ess.domain.errors import DomainError, NotFound
from ess.domain.vacation.approval_context import decision_contexts
from ess.domain.vacation.decisions import decide_waiting, decisions_waiting
from ess.domain.vacation.deputies import NameDeputy, deputy_choices, end_deputy, my_deputies, name_deputy
from ess.domain.vacation.ports import VacationDeps
from ess.domain.vacation.requests import RequestLeave, request_cancellation, request_leave, withdraw
from ess.domain.vacation.views import vacation_overview
from ess.routes import journeys
from ess.routes.errors import form_errors
from ess.routes.guards import current_principal, requires_login, requires_manager_or_hr
from ess.routes.rendering import gettext_for, locale_of, page_context, url_to
from ess.routes.vacation_view import ledger_rows, request_rows
from ess.routes.year_calendar import month_tables


class LeaveForm(msgspec.Struct):
    start: str = ""
    end: str = ""
    start_half: str = ""
    end_half: str = ""
    note: str = ""
    substitute: str = ""


class DecisionForm(msgspec.Struct):
    comment: str = ""
    decision: str = ""


LEAVE_INPUTS = frozenset({"start", "end", "start_half", "end_half", "note", "substitute"})


def _parse_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


class VacationPagesController(Controller):
    path = "/vacation"
    include_in_schema = False
    guards = [requires_login]

    async def _page(
        self, request: Request[Any, Any, Any], vacation: VacationDeps, *, status_code: int = 200, **extra: Any
    ) -> Template:
        principal = current_principal(request)
        today = vacation.clock.today()
        as_of = _parse_day(request.query_params.get("as_of", "")) or today
        shown = await vacation_overview(principal, as_of, deps=vacation)
        gettext, lang = gettext_for(request), locale_of(request)
        months = month_tables(shown.calendar, gettext)
        extra.setdefault("errors", {})
        extra.setdefault("form", LeaveForm())
        extra.setdefault("created", False)
        extra.setdefault("backdated", False)
        return Template(
            template_name="vacation.html",
            context=page_context(
                request,
                balance=shown.balance,
                ledger=ledger_rows(shown.balance.entries, gettext, lang),
                requests=request_rows(shown.requests, gettext, lang, today),
                months=months,
                as_of=as_of,
                colleagues=shown.colleagues,
                **extra,
            ),
            status_code=status_code,
        )

    @get("", operation_id="vacationPage", name="vacation")
    async def overview(self, request: Request[Any, Any, Any], vacation: NamedDependency[VacationDeps]) -> Template:
        """Balance, requests and the year calendar."""
        return await self._page(
            request, vacation, created="created" in request.query_params, backdated="past" in request.query_params
        )

    @post("/requests", operation_id="requestLeavePage", name="vacation_request", status_code=303)
    async def create(
        self,
        request: Request[Any, Any, Any],
        vacation: NamedDependency[VacationDeps],
        analytics: NamedDependency[AnalyticsDeps],
        data: URLEncodedBody[LeaveForm],
    ) -> Response[Any]:
        """Request leave."""
        # The journey starts with the first submission (fail/complete start it): most people open the leave page for
        # their balance, and counting every visit as a request begun would make nearly all look abandoned.
        _ = gettext_for(request)
        start, end = _parse_day(data.start), _parse_day(data.end or data.start)
        if start is None or end is None:
            await journeys.fail(request, Flow.LEAVE_REQUEST, analytics, "date_missing")
            errors = {
                name: [_("Please enter a date.")] for name, value in (("start", start), ("end", end)) if value is None
            }
            return await self._page(request, vacation, status_code=422, errors=errors, form=data)
        try:
            filed = await request_leave(
                RequestLeave(
                    principal=current_principal(request),
                    start=start,
                    end=end,
                    start_half=bool(data.start_half),
                    end_half=bool(data.end_half),
                    note=data.note,
                    substitute=data.substitute,
                ),
                deps=vacation,
            )
        except DomainError as exc:
            await journeys.fail(request, Flow.LEAVE_REQUEST, analytics, exc)
            status, errors = form_errors(exc, _, inputs=LEAVE_INPUTS, lang=locale_of(request))
            return await self._page(
                request, vacation, status_code=status, errors=errors, form=data, error_code=exc.code
            )
        await journeys.complete(request, Flow.LEAVE_REQUEST, analytics)
        past = "&past=1" if filed.start < vacation.clock.today() else ""
        return Redirect(url_to(request, "vacation") + "?created=1" + past, status_code=303)

    @post(
        "/requests/{request_id:int}/withdraw",
        operation_id="withdrawLeavePage",
        name="vacation_withdraw",
        status_code=303,
    )
    async def withdraw(
        self, request: Request[Any, Any, Any], vacation: NamedDependency[VacationDeps], request_id: FromPath[int]
    ) -> Redirect:
        """Withdraw a pending request."""
        await withdraw(request_id, principal=current_principal(request), deps=vacation)
        return Redirect(url_to(request, "vacation"), status_code=303)

    @post("/requests/{request_id:int}/cancel", operation_id="cancelLeavePage", name="vacation_cancel", status_code=303)
    async def cancel(
        self, request: Request[Any, Any, Any], vacation: NamedDependency[VacationDeps], request_id: FromPath[int]
    ) -> Redirect:
        """Ask for approved leave to be cancelled."""
        await request_cancellation(request_id, principal=current_principal(request), deps=vacation)
        return Redirect(url_to(request, "vacation"), status_code=303)


class DeputyForm(msgspec.Struct):
    deputy: str = ""
    first_day: str = ""
    last_day: str = ""


DEPUTY_INPUTS = frozenset({"deputy", "first_day", "last_day"})


class TeamPagesController(Controller):
    path = "/vacation/team"
    include_in_schema = False
    guards = [requires_manager_or_hr]

    async def _page(
        self, request: Request[Any, Any, Any], vacation: VacationDeps, *, status_code: int = 200, **extra: Any
    ) -> Template:
        principal = current_principal(request)
        waiting = await decisions_waiting(principal, deps=vacation)
        contexts = await decision_contexts(waiting, deps=vacation)
        try:  # HR without an HR record of their own decides, but names no deputy
            deputies, choices = (
                await my_deputies(principal, deps=vacation),
                await deputy_choices(principal, deps=vacation),
            )
        except NotFound:
            deputies, choices = [], []
        extra.setdefault("errors", {})
        extra.setdefault("deputy_form", DeputyForm())
        return Template(
            template_name="team.html",
            context=page_context(
                request,
                waiting=contexts,
                decided="decided" in request.query_params,
                deputy_saved="deputy" in request.query_params,
                deputies=deputies,
                deputy_choices=choices,
                today=vacation.clock.today(),
                **extra,
            ),
            status_code=status_code,
        )

    @get("", operation_id="teamLeavePage", name="vacation_team")
    async def team(self, request: Request[Any, Any, Any], vacation: NamedDependency[VacationDeps]) -> Template:
        """Requests of the team waiting for a decision, and the manager's deputies."""
        return await self._page(request, vacation)

    @post("/{request_id:int}", operation_id="decideLeavePage", name="vacation_decide", status_code=303)
    async def decide(
        self,
        request: Request[Any, Any, Any],
        vacation: NamedDependency[VacationDeps],
        request_id: FromPath[int],
        data: URLEncodedBody[DecisionForm],
    ) -> Redirect:
        """Approve or reject a request or a cancellation."""
        await decide_waiting(
            request_id,
            approve=data.decision == "approve",
            comment=data.comment,
            principal=current_principal(request),
            deps=vacation,
        )
        return Redirect(url_to(request, "vacation_team") + "?decided=1", status_code=303)

    @post("/deputies", operation_id="nameDeputyPage", name="vacation_deputy_add", status_code=303)
    async def name_deputy(
        self,
        request: Request[Any, Any, Any],
        vacation: NamedDependency[VacationDeps],
        data: URLEncodedBody[DeputyForm],
    ) -> Response[Any]:
        """Name a deputy for a period."""
        _ = gettext_for(request)
        first, last = _parse_day(data.first_day), _parse_day(data.last_day)
        if first is None or last is None:
            errors = {
                name: [_("Please enter a date.")]
                for name, value in (("first_day", first), ("last_day", last))
                if value is None
            }
            return await self._page(request, vacation, status_code=422, errors=errors, deputy_form=data)
        try:
            await name_deputy(NameDeputy(current_principal(request), data.deputy.strip(), first, last), deps=vacation)
        except DomainError as exc:
            status, errors = form_errors(exc, _, inputs=DEPUTY_INPUTS, lang=locale_of(request))
            return await self._page(request, vacation, status_code=status, errors=errors, deputy_form=data)
        return Redirect(url_to(request, "vacation_team") + "?deputy=1#deputies", status_code=303)

    @post("/deputies/{entry_id:int}/end", operation_id="endDeputyPage", name="vacation_deputy_end", status_code=303)
    async def end_deputy(
        self, request: Request[Any, Any, Any], vacation: NamedDependency[VacationDeps], entry_id: FromPath[int]
    ) -> Redirect:
        """End a deputy entry (one that has not begun is removed)."""
        await end_deputy(entry_id, principal=current_principal(request), deps=vacation)
        return Redirect(url_to(request, "vacation_team") + "?deputy=1#deputies", status_code=303)
