"""The private iCal feed of one's leave, and the team calendar."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from icalendar import Calendar, Event
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from ess.domain.vacation import service
from ess.domain.vacation.model import RequestStatus
from ess.routes.deps import Services
from ess.routes.guards import current_principal, requires_login
from ess.routes.rendering import gettext_for, page_context


class CalendarFeedController(Controller):
    """GET /calendar/<token>.ics needs no login: the long random token is the key, and it can be revoked."""

    path = "/calendar"
    include_in_schema = False

    @get("/{token:str}", operation_id="leaveCalendarFeed")
    async def feed(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services], token: FromPath[str]
    ) -> Response[bytes]:
        """The caller's leave as an iCalendar feed."""
        _ = gettext_for(request)
        employee, requests = await service.feed(
            token.removesuffix(".ics"), uow=services.new_uow(), clock=services.clock
        )
        calendar = Calendar()
        calendar.add("prodid", "-//ESS//Employee Self-Service//DE")
        calendar.add("version", "2.0")
        calendar.add("x-wr-calname", f"{_('Leave')} {employee.display_name}")
        for leave in requests:
            event = Event()
            event.add("uid", f"leave-{leave.id}@ess")
            approved = leave.status is RequestStatus.APPROVED
            event.add("summary", _("Leave") if approved else f"{_('Leave')} ({_('requested')})")
            event.add("dtstart", leave.start)
            event.add("dtend", leave.end + timedelta(days=1))  # all-day events end the day after (RFC 5545)
            event.add("dtstamp", leave.decided_at or leave.created_at)
            event.add("transp", "OPAQUE" if approved else "TRANSPARENT")
            calendar.add_component(event)
        return Response(calendar.to_ical(), media_type="text/calendar; charset=utf-8")


class TeamCalendarController(Controller):
    path = "/vacation"
    include_in_schema = False
    guards = [requires_login]

    @get("/calendar", operation_id="teamCalendarPage")
    async def team(self, request: Request[Any, Any, Any], services: NamedDependency[Services]) -> Template:
        """Who is away in the next four weeks."""
        principal = current_principal(request)
        start = services.clock.today()
        start -= timedelta(days=start.weekday())
        days = [start + timedelta(days=i) for i in range(28)]
        members = await service.team_calendar(principal, start, len(days), uow=services.new_uow())
        rows = [(m.name, {day: (fraction, status) for day, fraction, status in m.absences}) for m in members]
        return Template(template_name="team_calendar.html", context=page_context(request, days=days, rows=rows))

    @post("/feed", operation_id="createCalendarFeed", status_code=200)
    async def create_feed(self, request: Request[Any, Any, Any], services: NamedDependency[Services]) -> Template:
        """Create a private calendar link (an earlier link stops working)."""
        token = await service.create_feed(current_principal(request), uow=services.new_uow(), clock=services.clock)
        url = f"{services.settings.server.base_url.rstrip('/')}/calendar/{token}.ics"
        return Template(template_name="feed.html", context=page_context(request, url=url))

    @post("/feed/revoke", operation_id="revokeCalendarFeed", status_code=200)
    async def revoke_feed(self, request: Request[Any, Any, Any], services: NamedDependency[Services]) -> Template:
        """Stop the private calendar link."""
        await service.revoke_feed(current_principal(request), uow=services.new_uow(), clock=services.clock)
        return Template(template_name="feed.html", context=page_context(request, url=""))
