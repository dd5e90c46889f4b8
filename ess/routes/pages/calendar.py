"""The private iCal feed of one's leave, and the team calendar."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from ess.domain.vacation.feeds import create_feed, feed, revoke_feed
from ess.domain.vacation.model import RequestStatus
from ess.domain.vacation.ports import VacationDeps
from ess.domain.vacation.team_view import team_month
from ess.routes.guards import current_principal, requires_login
from ess.routes.rendering import gettext_for, page_context, url_to
from ess.settings import Settings


class CalendarFeedController(Controller):
    """GET /calendar/<token>.ics needs no login: the long random token is the key, and it can be revoked."""

    path = "/calendar"
    include_in_schema = False

    @get("/{token:str}", operation_id="leaveCalendarFeed", name="calendar_feed")
    async def feed(
        self, request: Request[Any, Any, Any], vacation: NamedDependency[VacationDeps], token: FromPath[str]
    ) -> Response[bytes]:
        """The caller's leave as an iCalendar feed."""
        # Imported on the first feed, not at start: icalendar is a noticeable part of a cold start.
        from icalendar import Calendar, Event  # noqa: PLC0415

        _ = gettext_for(request)
        employee, requests = await feed(token.removesuffix(".ics"), deps=vacation)
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


def _month_of(text: str, today: date) -> tuple[int, int]:
    """The month asked for as YYYY-MM, or this month."""
    try:
        year, month = (int(part) for part in text.split("-", 1))
    except ValueError:
        return today.year, today.month
    return year, month


class TeamCalendarController(Controller):
    path = "/vacation"
    include_in_schema = False
    guards = [requires_login]

    @get("/calendar", operation_id="teamCalendarPage", name="team_calendar")
    async def team(self, request: Request[Any, Any, Any], vacation: NamedDependency[VacationDeps]) -> Template:
        """Who is away in a month: weeks of seven days, each person's holidays shaded."""
        today = vacation.clock.today()
        year, month = _month_of(request.query_params.get("month", ""), today)
        unit = request.query_params.get("unit", "")[:64]
        shown = await team_month(current_principal(request), year, month, unit=unit, deps=vacation)
        start = shown.first - timedelta(days=shown.first.weekday())
        weeks = [
            [start + timedelta(days=7 * w + d) for d in range(7)] for w in range((shown.last - start).days // 7 + 1)
        ]
        previous = shown.first - timedelta(days=1)
        following = shown.last + timedelta(days=1)
        return Template(
            template_name="team_calendar.html",
            context=page_context(
                request,
                shown=shown,
                weeks=weeks,
                today=today,
                unit=unit,
                previous=f"{previous.year:04d}-{previous.month:02d}",
                following=f"{following.year:04d}-{following.month:02d}",
            ),
        )

    @post("/feed", operation_id="createCalendarFeed", name="calendar_feed_create", status_code=200)
    async def create_feed(
        self,
        request: Request[Any, Any, Any],
        vacation: NamedDependency[VacationDeps],
        settings: NamedDependency[Settings],
    ) -> Template:
        """Create a private calendar link (an earlier link stops working)."""
        token = await create_feed(current_principal(request), deps=vacation)
        # The configured address, never the request's Host header: the link is copied into other programs.
        url = settings.server.base_url.rstrip("/") + url_to(request, "calendar_feed", token=f"{token}.ics")
        return Template(template_name="feed.html", context=page_context(request, url=url))

    @post("/feed/revoke", operation_id="revokeCalendarFeed", name="calendar_feed_revoke", status_code=200)
    async def revoke_feed(self, request: Request[Any, Any, Any], vacation: NamedDependency[VacationDeps]) -> Template:
        """Stop the private calendar link."""
        await revoke_feed(current_principal(request), deps=vacation)
        return Template(template_name="feed.html", context=page_context(request, url=""))
