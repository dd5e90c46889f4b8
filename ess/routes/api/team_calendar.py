"""The team calendar as JSON: who is away on which day of a month."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from ess.domain.vacation.ports import VacationDeps
from ess.domain.vacation.team_view import team_month
from ess.routes.guards import current_principal, requires_login


class TeamDayOut(msgspec.Struct):
    day: date
    leave: Decimal  # 0, 0.5 or 1
    status: str | None  # the request's status, where the caller may see it; null for "absent" or a holiday
    holiday: str  # the person's public holiday or company day off, or ""


class TeamMemberOut(msgspec.Struct):
    name: str
    org_unit: str
    days: list[TeamDayOut]


class TeamMonthOut(msgspec.Struct):
    first: date
    last: date
    with_status: bool
    members: list[TeamMemberOut]


class TeamCalendarApiController(Controller):
    path = "/api/v1/team"
    tags = ["vacation"]
    guards = [requires_login]

    @get("/calendar", operation_id="getTeamCalendar", problems=["not_found", "invalid_input"])
    async def month(
        self,
        request: Request[Any, Any, Any],
        vacation: NamedDependency[VacationDeps],
        year: Annotated[int | None, QueryParameter(ge=1900, le=9999)] = None,
        month: Annotated[int | None, QueryParameter(ge=1, le=12)] = None,
        unit: Annotated[str, QueryParameter(max_length=64)] = "",
    ) -> TeamMonthOut:
        """Who is away in a month (this month by default): a manager's team, HR's organisation, or colleagues."""
        today = vacation.clock.today()
        shown = await team_month(
            current_principal(request), year or today.year, month or today.month, unit=unit, deps=vacation
        )
        return TeamMonthOut(
            first=shown.first,
            last=shown.last,
            with_status=shown.details,
            members=[
                TeamMemberOut(
                    name=m.name,
                    org_unit=m.unit,
                    days=[
                        TeamDayOut(day, mark.leave, mark.status.value if mark.status else None, mark.holiday)
                        for day, mark in sorted(m.days.items())
                    ],
                )
                for m in shown.members
            ],
        )
