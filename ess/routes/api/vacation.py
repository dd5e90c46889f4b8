"""Vacation API: the caller's balance and leave requests, and the manager's decisions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from ess.domain.hr.model import Employee
from ess.domain.vacation.adjustments import adjust
from ess.domain.vacation.balance import balance
from ess.domain.vacation.decisions import decide_waiting, decisions_waiting
from ess.domain.vacation.model import Balance, LeaveRequest
from ess.domain.vacation.ports import VacationDeps
from ess.domain.vacation.report import MAX_PAGE_SIZE, PAGE_SIZE, ReportPage, ReportQuery, balance_report_page
from ess.domain.vacation.requests import RequestLeave, my_requests, request_cancellation, request_leave, withdraw
from ess.routes.guards import current_principal, requires_hr, requires_login, requires_manager_or_hr

MAX_ADJUSTMENT_DAYS = 999
MAX_SEARCH_LENGTH = 200
# The columns the report sorts by (ess.domain.vacation.report.SORTS), as an enum in the OpenAPI document.
ReportSort = Literal[
    "org_unit",
    "name",
    "personnel_number",
    "location",
    "entitlement",
    "carried_over",
    "taken",
    "approved_upcoming",
    "pending",
    "remaining",
    "lapsing",
]


class ReportRowOut(msgspec.Struct):
    personnel_number: str
    name: str
    org_unit: str
    location: str
    entitlement: Decimal
    carried_over: Decimal
    taken: Decimal
    approved_upcoming: Decimal
    pending: Decimal
    expired: Decimal
    remaining: Decimal
    lapsing: Decimal  # lapses after as_of and by lapse_by unless taken


class ReportTotalsOut(msgspec.Struct):
    """The figures summed over every row the filter keeps (not only this page)."""

    employees: int
    entitlement: Decimal
    carried_over: Decimal
    taken: Decimal
    approved_upcoming: Decimal
    pending: Decimal
    expired: Decimal
    remaining: Decimal


class ReportPageOut(msgspec.Struct):
    as_of: date
    lapse_by: date
    total: int
    offset: int
    limit: int
    rows: list[ReportRowOut]
    totals: ReportTotalsOut | None  # only with totals=true


class LapseOut(msgspec.Struct):
    last_day: date
    days: Decimal


class BalanceOut(msgspec.Struct):
    """The balance on `as_of`. For a date ahead it is the projection: `projected_carried_over` and
    `projected_expired` are the parts close-year and the expiry job have not booked yet but will."""

    as_of: date
    entitlement: Decimal
    carried_over: Decimal
    carry_over_expires_on: date | None
    carry_over_lapsing: Decimal
    taken: Decimal
    approved_upcoming: Decimal
    pending: Decimal
    expired: Decimal
    remaining: Decimal
    projected: bool
    projected_carried_over: Decimal
    projected_expired: Decimal
    lapses: list[LapseOut]
    overdrawn: bool
    accrued: Decimal | None
    accrual_complete_on: date | None


class LeaveDayOut(msgspec.Struct):
    day: date
    fraction: Decimal


class LeaveRequestOut(msgspec.Struct):
    id: int
    start: date
    end: date
    start_half: bool
    end_half: bool
    days: Decimal
    status: str
    note: str
    substitute: str
    created_at: datetime
    decided_by: str
    decided_at: datetime | None
    decision_comment: str
    dates: list[LeaveDayOut]
    employee: str | None = None
    on_behalf_of: str | None = None  # to decide: the absent manager whose deputy the caller is


class LeaveRequestIn(msgspec.Struct, forbid_unknown_fields=True):
    start: date
    end: date
    start_half: bool = False
    end_half: bool = False
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""
    substitute: Annotated[str, msgspec.Meta(max_length=256)] = ""


class DecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    comment: Annotated[str, msgspec.Meta(max_length=500)] = ""


# Deciding can meet a request that is gone (or not the caller's team's: the same 404), decided already, the caller's
# own, or no longer covered.
DECISION_PROBLEMS = ["conflict", "permission_denied", "policy_violation"]


def balance_out(balance: Balance) -> BalanceOut:
    return BalanceOut(
        as_of=balance.as_of,
        entitlement=balance.entitlement,
        carried_over=balance.carried_over,
        carry_over_expires_on=balance.carry_over_expires_on,
        carry_over_lapsing=balance.carry_over_lapsing,
        taken=balance.taken,
        approved_upcoming=balance.approved_upcoming,
        pending=balance.pending,
        expired=balance.expired,
        remaining=balance.remaining,
        projected=bool(balance.projected_carried_over or balance.projected_expired),
        projected_carried_over=balance.projected_carried_over,
        projected_expired=balance.projected_expired,
        lapses=[LapseOut(lapse.last_day, lapse.days) for lapse in balance.lapses],
        overdrawn=balance.overdrawn,
        accrued=balance.accrued,
        accrual_complete_on=balance.accrual_complete_on,
    )


def request_out(
    request: LeaveRequest, employee: Employee | None = None, on_behalf_of: Employee | None = None
) -> LeaveRequestOut:
    assert request.id is not None
    return LeaveRequestOut(
        id=request.id,
        start=request.start,
        end=request.end,
        start_half=request.start_half,
        end_half=request.end_half,
        days=request.total,
        status=request.status.value,
        note=request.note,
        substitute=request.substitute,
        created_at=request.created_at,
        decided_by=request.decided_by,
        decided_at=request.decided_at,
        decision_comment=request.decision_comment,
        dates=[LeaveDayOut(d.day, d.fraction) for d in request.days],
        employee=employee.display_name if employee else None,
        on_behalf_of=on_behalf_of.display_name if on_behalf_of else None,
    )


class VacationApiController(Controller):
    path = "/api/v1/me"
    tags = ["vacation"]
    guards = [requires_login]

    @get("/vacation/balance", operation_id="getVacationBalance", problems=["not_found", "invalid_input"])
    async def get_balance(
        self,
        request: Request[Any, Any, Any],
        vacation: NamedDependency[VacationDeps],
        as_of: FromQuery[date | None] = None,
    ) -> BalanceOut:
        """The balance on a date (today by default); a future date gives the projection."""
        day = as_of or vacation.clock.today()
        return balance_out(await balance(current_principal(request), day, deps=vacation))

    @get("/leave-requests", operation_id="listLeaveRequests", problems=["not_found"])
    async def list_requests(
        self, request: Request[Any, Any, Any], vacation: NamedDependency[VacationDeps]
    ) -> list[LeaveRequestOut]:
        """The caller's leave requests, newest first."""
        return [request_out(r) for r in await my_requests(current_principal(request), deps=vacation)]

    @post(
        "/leave-requests",
        operation_id="createLeaveRequest",
        status_code=HTTP_201_CREATED,
        problems=["not_found", "invalid_input", "policy_violation", "conflict"],
    )
    async def create_request(
        self, request: Request[Any, Any, Any], vacation: NamedDependency[VacationDeps], data: JSONBody[LeaveRequestIn]
    ) -> LeaveRequestOut:
        """Request leave; it is checked against the working-day calendar, other requests and the balance."""
        created = await request_leave(
            RequestLeave(
                principal=current_principal(request),
                start=data.start,
                end=data.end,
                start_half=data.start_half,
                end_half=data.end_half,
                note=data.note,
                substitute=data.substitute,
            ),
            deps=vacation,
        )
        return request_out(created)

    @post(
        "/leave-requests/{request_id:int}/withdraw",
        operation_id="withdrawLeaveRequest",
        status_code=HTTP_200_OK,
        problems=["conflict"],
    )
    async def withdraw(
        self, request: Request[Any, Any, Any], vacation: NamedDependency[VacationDeps], request_id: FromPath[int]
    ) -> LeaveRequestOut:
        """Withdraw a pending request."""
        return request_out(await withdraw(request_id, principal=current_principal(request), deps=vacation))

    @post(
        "/leave-requests/{request_id:int}/cancel",
        operation_id="cancelLeaveRequest",
        status_code=HTTP_200_OK,
        problems=["conflict"],
    )
    async def cancel(
        self, request: Request[Any, Any, Any], vacation: NamedDependency[VacationDeps], request_id: FromPath[int]
    ) -> LeaveRequestOut:
        """Ask the manager to cancel approved leave that has not started."""
        return request_out(await request_cancellation(request_id, principal=current_principal(request), deps=vacation))


class LeaveDecisionsApiController(Controller):
    path = "/api/v1/manager/leave-requests"
    tags = ["vacation"]
    guards = [requires_manager_or_hr]

    @get("", operation_id="listLeaveRequestsToDecide", problems=["not_found"])
    async def waiting(
        self, request: Request[Any, Any, Any], vacation: NamedDependency[VacationDeps]
    ) -> list[LeaveRequestOut]:
        """Requests of the caller's team waiting for a decision, and of the managers whose deputy the caller is today
        (`on_behalf_of` names them)."""
        waiting = await decisions_waiting(current_principal(request), deps=vacation)
        return [request_out(w.request, w.employee, w.on_behalf_of) for w in waiting]

    async def _decide(
        self,
        request: Request[Any, Any, Any],
        vacation: VacationDeps,
        request_id: int,
        data: DecisionIn,
        *,
        approve: bool,
    ) -> LeaveRequestOut:
        return request_out(
            await decide_waiting(
                request_id, approve=approve, comment=data.comment, principal=current_principal(request), deps=vacation
            )
        )

    @post(
        "/{request_id:int}/approve",
        operation_id="approveLeaveRequest",
        status_code=HTTP_200_OK,
        problems=DECISION_PROBLEMS,
    )
    async def approve(
        self,
        request: Request[Any, Any, Any],
        vacation: NamedDependency[VacationDeps],
        request_id: FromPath[int],
        data: JSONBody[DecisionIn],
    ) -> LeaveRequestOut:
        """Approve a request (or a cancellation the employee asked for)."""
        return await self._decide(request, vacation, request_id, data, approve=True)

    @post(
        "/{request_id:int}/reject",
        operation_id="rejectLeaveRequest",
        status_code=HTTP_200_OK,
        problems=DECISION_PROBLEMS,
    )
    async def reject(
        self,
        request: Request[Any, Any, Any],
        vacation: NamedDependency[VacationDeps],
        request_id: FromPath[int],
        data: JSONBody[DecisionIn],
    ) -> LeaveRequestOut:
        """Reject a request (or a cancellation: the leave stays approved)."""
        return await self._decide(request, vacation, request_id, data, approve=False)


# A number, or a decimal string (msgspec reads both); the use case then wants whole or half days up to 100.
ADJUSTMENT_DAYS_SCHEMA = {
    "type": ["number", "string"],
    "minimum": -MAX_ADJUSTMENT_DAYS,
    "maximum": MAX_ADJUSTMENT_DAYS,
    "pattern": r"^[+-]?[0-9]{1,3}(\.[0-9]{1,2})?$",
}


class AdjustmentIn(msgspec.Struct, forbid_unknown_fields=True):
    personnel_number: Annotated[str, msgspec.Meta(max_length=32)]
    year: Annotated[int, msgspec.Meta(ge=2000, le=2100)]
    days: Annotated[Decimal, msgspec.Meta(extra_json_schema={"extra": ADJUSTMENT_DAYS_SCHEMA})]
    reason: Annotated[str, msgspec.Meta(max_length=500)]

    def __post_init__(self) -> None:
        # NaN, infinities and huge exponents break the arithmetic of the use case: refused here (400).
        if not self.days.is_finite() or abs(self.days) > MAX_ADJUSTMENT_DAYS:
            raise ValueError(f"days must be a number between -{MAX_ADJUSTMENT_DAYS} and {MAX_ADJUSTMENT_DAYS}")


class HrVacationApiController(Controller):
    path = "/api/v1/hr"
    tags = ["vacation"]
    guards = [requires_hr]

    @post(
        "/leave-adjustments",
        operation_id="adjustLeave",
        status_code=HTTP_201_CREATED,
        problems=["not_found", "invalid_input", "permission_denied"],
    )
    async def adjust(
        self, request: Request[Any, Any, Any], vacation: NamedDependency[VacationDeps], data: JSONBody[AdjustmentIn]
    ) -> BalanceOut:
        """Correct an employee's entitlement by whole or half days, with a reason; returns the year's balance."""
        return balance_out(
            await adjust(
                data.personnel_number,
                data.year,
                data.days,
                data.reason,
                principal=current_principal(request),
                deps=vacation,
            )
        )

    @get("/leave-report", operation_id="getLeaveReport", problems=["invalid_input"])
    async def report(  # noqa: PLR0917 - one parameter per query parameter
        self,
        vacation: NamedDependency[VacationDeps],
        as_of: FromQuery[date | None] = None,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)] = PAGE_SIZE,
        search: Annotated[str, QueryParameter(max_length=MAX_SEARCH_LENGTH)] = "",
        unit: Annotated[str, QueryParameter(max_length=MAX_SEARCH_LENGTH)] = "",
        region: Annotated[str, QueryParameter(max_length=16)] = "",
        lapses_soon: FromQuery[bool] = False,
        sort: FromQuery[ReportSort] = "org_unit",
        order: FromQuery[Literal["asc", "desc"]] = "asc",
        totals: FromQuery[bool] = False,
    ) -> ReportPageOut:
        """Every employee's leave balance on a date (today by default), a page at a time, by org unit and name
        unless `sort` says otherwise; filtered by text, org unit, region (a location like DE-BY or a country) and
        days that lapse within 90 days (`lapses_soon`). With `totals=true` the answer holds the sums over every
        filtered row (one pass over the year's ledger: about as long as reading the whole report)."""
        day = as_of or vacation.clock.today()
        query = ReportQuery(
            search=search,
            unit=unit,
            region=region,
            lapses_soon=lapses_soon,
            sort=sort,
            descending=order == "desc",
            offset=offset,
            limit=limit,
            totals=totals,
        )
        return _report_out(day, await balance_report_page(day, deps=vacation, query=query))


def _report_out(day: date, page: ReportPage) -> ReportPageOut:
    assert page.lapse_by is not None
    totals = page.totals
    return ReportPageOut(
        as_of=day,
        lapse_by=page.lapse_by,
        total=page.total,
        offset=page.offset,
        limit=page.limit,
        rows=[
            ReportRowOut(
                personnel_number=row.personnel_number,
                name=row.name,
                org_unit=row.org_unit,
                location=row.location,
                entitlement=row.entitlement,
                carried_over=row.carried_over,
                taken=row.taken,
                approved_upcoming=row.approved_upcoming,
                pending=row.pending,
                expired=row.expired,
                remaining=row.remaining,
                lapsing=row.lapsing,
            )
            for row in page.rows
        ],
        totals=None
        if totals is None
        else ReportTotalsOut(
            employees=totals.employees,
            entitlement=totals.entitlement,
            carried_over=totals.carried_over,
            taken=totals.taken,
            approved_upcoming=totals.approved_upcoming,
            pending=totals.pending,
            expired=totals.expired,
            remaining=totals.remaining,
        ),
    )
