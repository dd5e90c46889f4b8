"""Use case: compose the caller's start page by role."""

from __future__ import annotations

from datetime import date

from ess.domain.auth.model import Principal
from ess.domain.errors import DomainError
from ess.domain.home.model import OPEN_STATUSES, StartPage
from ess.domain.home.ports import HomeDeps
from ess.domain.hr.model import Role
from ess.domain.profile.requests import change_request_queue
from ess.domain.recovery.helpdesk import HELPDESK_ROLES, login_trouble
from ess.domain.vacation.decisions import pending_for_decision
from ess.domain.vacation.model import RequestStatus
from ess.domain.vacation.views import VacationOverview, vacation_overview


async def start_page(principal: Principal, *, deps: HomeDeps) -> StartPage:
    """Each part from the use case of its area, for the roles that have it; an area that refuses (no HR record)
    leaves its part out rather than the whole page."""
    today = deps.clock.today()
    shown = StartPage(
        decides_leave=principal.has(Role.MANAGER) or principal.has(Role.HR),
        decides_changes=principal.has(Role.HR),
        watches_logins=any(principal.has(role) for role in HELPDESK_ROLES),
    )
    if principal.employee_id is not None:
        own = await _own_leave(principal, today, deps)
        if own is not None:
            shown.balance = own.balance
            upcoming = [r for r in own.requests if r.status is RequestStatus.APPROVED and r.end >= today]
            shown.next_leave = min(upcoming, key=lambda r: r.start, default=None)
            shown.open_requests = sorted((r for r in own.requests if r.status in OPEN_STATUSES), key=lambda r: r.start)
    if shown.decides_leave:
        try:
            shown.decisions = await pending_for_decision(principal, deps=deps.vacation)
        except DomainError:
            shown.decisions = []
    if shown.decides_changes:
        shown.change_requests = await change_request_queue(principal, deps=deps.profile)
    if shown.watches_logins:
        shown.trouble = await login_trouble(principal, deps=deps.recovery)
    return shown


async def _own_leave(principal: Principal, today: date, deps: HomeDeps) -> VacationOverview | None:
    try:
        return await vacation_overview(principal, today, deps=deps.vacation)
    except DomainError:
        return None
