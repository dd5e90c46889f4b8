"""The start page (what each person comes for, by role) and the contact page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from ess.domain.auth.model import Principal
from ess.domain.errors import DomainError
from ess.domain.hr.model import Employee, Role
from ess.domain.profile.ports import ProfileDeps
from ess.domain.profile.requests import QueueItem, change_request_queue
from ess.domain.recovery.helpdesk import HELPDESK_ROLES, LoginTrouble, login_trouble
from ess.domain.recovery.ports import RecoveryDeps
from ess.domain.vacation.decisions import pending_for_decision
from ess.domain.vacation.model import Balance, LeaveRequest, RequestStatus
from ess.domain.vacation.ports import VacationDeps
from ess.domain.vacation.views import vacation_overview
from ess.routes.guards import current_principal, requires_login
from ess.routes.profile_text import FIELD_LABELS
from ess.routes.rendering import page_context

OPEN_STATUSES = (RequestStatus.PENDING, RequestStatus.CANCELLATION_REQUESTED)


@dataclass
class StartPage:
    """What the start page shows the caller; a part they have no role (or no HR record) for stays empty."""

    balance: Balance | None = None
    next_leave: LeaveRequest | None = None
    open_requests: list[LeaveRequest] = field(default_factory=list)
    decisions: list[tuple[LeaveRequest, Employee]] = field(default_factory=list)
    change_requests: list[QueueItem] = field(default_factory=list)
    trouble: list[LoginTrouble] = field(default_factory=list)


async def start_page(
    principal: Principal, today: date, *, vacation: VacationDeps, profile: ProfileDeps, recovery: RecoveryDeps
) -> StartPage:
    """Each part from the use case of its area; an area that refuses (no HR record) leaves its part out."""
    shown = StartPage()
    if principal.employee_id is not None:
        try:
            own = await vacation_overview(principal, today, deps=vacation)
        except DomainError:
            own = None
        if own is not None:
            shown.balance = own.balance
            upcoming = [r for r in own.requests if r.status is RequestStatus.APPROVED and r.end >= today]
            shown.next_leave = min(upcoming, key=lambda r: r.start, default=None)
            shown.open_requests = sorted((r for r in own.requests if r.status in OPEN_STATUSES), key=lambda r: r.start)
    if principal.has(Role.MANAGER) or principal.has(Role.HR):
        try:
            shown.decisions = await pending_for_decision(principal, deps=vacation)
        except DomainError:
            shown.decisions = []
    if principal.has(Role.HR):
        shown.change_requests = await change_request_queue(principal, deps=profile)
    if any(principal.has(role) for role in HELPDESK_ROLES):
        shown.trouble = await login_trouble(principal, deps=recovery)
    return shown


class HomePagesController(Controller):
    path = "/"
    include_in_schema = False

    @get("/", operation_id="startPage", name="start", guards=[requires_login])
    async def start(
        self,
        request: Request[Any, Any, Any],
        vacation: NamedDependency[VacationDeps],
        profile: NamedDependency[ProfileDeps],
        recovery: NamedDependency[RecoveryDeps],
    ) -> Template:
        """The start page after login: remaining leave, open requests, and what waits for the caller's roles."""
        today = vacation.clock.today()
        shown = await start_page(
            current_principal(request), today, vacation=vacation, profile=profile, recovery=recovery
        )
        return Template(
            template_name="start.html",
            context=page_context(request, shown=shown, today=today, field_labels=FIELD_LABELS),
        )

    @get("/contact", operation_id="contactPage", name="contact")
    async def contact(self, request: Request[Any, Any, Any]) -> Template:
        """How to reach HR and IT: open to everyone, also before login."""
        return Template(template_name="contact.html", context=page_context(request))
