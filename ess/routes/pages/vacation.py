"""Vacation pages: the employee's balance, requests and year calendar; the manager's decisions."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from ess.domain.errors import DomainError
from ess.domain.vacation import service
from ess.routes.deps import Services
from ess.routes.errors import form_errors
from ess.routes.guards import current_principal, requires_login, requires_manager_or_hr
from ess.routes.rendering import gettext_for, page_context


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
        self, request: Request[Any, Any, Any], services: Services, *, status_code: int = 200, **extra: Any
    ) -> Template:
        principal = current_principal(request)
        today = services.clock.today()
        as_of = _parse_day(request.query_params.get("as_of", "")) or today
        balance = await service.balance(principal, as_of, uow=services.new_uow(), clock=services.clock)
        requests = await service.my_requests(principal, uow=services.new_uow())
        days = await service.year_calendar(principal, as_of.year, uow=services.new_uow(), calendar=services.calendar)
        months = [[d for d in days if d.day.month == month] for month in range(1, 13)]
        extra.setdefault("errors", {})
        extra.setdefault("form", LeaveForm())
        extra.setdefault("created", False)
        return Template(
            template_name="vacation.html",
            context=page_context(
                request, balance=balance, requests=requests, months=months, today=today, as_of=as_of, **extra
            ),
            status_code=status_code,
        )

    @get("", operation_id="vacationPage")
    async def overview(self, request: Request[Any, Any, Any], services: NamedDependency[Services]) -> Template:
        """Balance, requests and the year calendar."""
        return await self._page(request, services, created="created" in request.query_params)

    @post("/requests", operation_id="requestLeavePage", status_code=303)
    async def create(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services], data: URLEncodedBody[LeaveForm]
    ) -> Response[Any]:
        """Request leave."""
        _ = gettext_for(request)
        start, end = _parse_day(data.start), _parse_day(data.end or data.start)
        if start is None or end is None:
            errors = {
                name: [_("Please enter a date.")] for name, value in (("start", start), ("end", end)) if value is None
            }
            return await self._page(request, services, status_code=422, errors=errors, form=data)
        try:
            await service.request_leave(
                service.RequestLeave(
                    principal=current_principal(request),
                    start=start,
                    end=end,
                    start_half=bool(data.start_half),
                    end_half=bool(data.end_half),
                    note=data.note,
                    substitute=data.substitute,
                ),
                uow=services.new_uow(),
                calendar=services.calendar,
                clock=services.clock,
                policy=services.vacation_policy,
                notifier=services.notifier,
            )
        except DomainError as exc:
            status, errors = form_errors(exc, _)
            return await self._page(request, services, status_code=status, errors=errors, form=data)
        return Redirect("/vacation?created=1", status_code=303)

    @post("/requests/{request_id:int}/withdraw", operation_id="withdrawLeavePage", status_code=303)
    async def withdraw(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services], request_id: FromPath[int]
    ) -> Redirect:
        """Withdraw a pending request."""
        await service.withdraw(
            request_id, principal=current_principal(request), uow=services.new_uow(), clock=services.clock
        )
        return Redirect("/vacation", status_code=303)

    @post("/requests/{request_id:int}/cancel", operation_id="cancelLeavePage", status_code=303)
    async def cancel(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services], request_id: FromPath[int]
    ) -> Redirect:
        """Ask for approved leave to be cancelled."""
        await service.request_cancellation(
            request_id, principal=current_principal(request), uow=services.new_uow(), clock=services.clock
        )
        return Redirect("/vacation", status_code=303)


class TeamPagesController(Controller):
    path = "/vacation/team"
    include_in_schema = False
    guards = [requires_manager_or_hr]

    @get("", operation_id="teamLeavePage")
    async def team(self, request: Request[Any, Any, Any], services: NamedDependency[Services]) -> Template:
        """Requests of the team waiting for a decision."""
        waiting = await service.pending_for_decision(current_principal(request), uow=services.new_uow())
        return Template(
            template_name="team.html",
            context=page_context(request, waiting=waiting, decided="decided" in request.query_params),
        )

    @post("/{request_id:int}", operation_id="decideLeavePage", status_code=303)
    async def decide(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[Services],
        request_id: FromPath[int],
        data: URLEncodedBody[DecisionForm],
    ) -> Redirect:
        """Approve or reject a request or a cancellation."""
        await service.decide_waiting(
            request_id,
            approve=data.decision == "approve",
            comment=data.comment,
            principal=current_principal(request),
            uow=services.new_uow(),
            clock=services.clock,
            notifier=services.notifier,
        )
        return Redirect("/vacation/team?decided=1", status_code=303)
