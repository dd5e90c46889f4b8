"""HR reports: every employee's leave balance, as a page and as CSV."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Stream, Template

from ess.domain.errors import InvalidInput
from ess.domain.vacation.ports import VacationDeps
from ess.domain.vacation.report import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    SORTS,
    ReportQuery,
    balance_report_page,
    report_csv,
)
from ess.routes.guards import requires_hr
from ess.routes.rendering import page_context


def _as_of(request: Request[Any, Any, Any], vacation: VacationDeps) -> date:
    try:
        return date.fromisoformat(request.query_params.get("as_of", ""))
    except ValueError:
        return vacation.clock.today()


def _int_param(request: Request[Any, Any, Any], name: str, default: int) -> int:
    try:
        return int(request.query_params.get(name, default))
    except ValueError:
        return default


class ReportPagesController(Controller):
    path = "/hr/vacation-report"
    include_in_schema = False
    guards = [requires_hr]

    @get("", operation_id="vacationReportPage", name="vacation_report")
    async def page(self, request: Request[Any, Any, Any], vacation: NamedDependency[VacationDeps]) -> Template:
        """All employees' balances on a date, filtered, sorted and a page at a time, with the totals."""
        as_of = _as_of(request, vacation)
        params = request.query_params
        sort = params.get("sort", "org_unit")
        query = ReportQuery(
            search=params.get("search", "")[:200],
            unit=params.get("unit", "")[:200],
            region=params.get("region", "")[:16],
            lapses_soon=params.get("lapses_soon", "") == "1",
            sort=sort if sort in SORTS else "org_unit",
            descending=params.get("order", "") == "desc",
            offset=max(_int_param(request, "offset", 0), 0),
            limit=min(max(_int_param(request, "limit", PAGE_SIZE), 1), MAX_PAGE_SIZE),
        )
        try:
            page = await balance_report_page(as_of, deps=vacation, query=query)
        except InvalidInput:  # cannot happen with the bounds above; a first page rather than an error page
            page = await balance_report_page(as_of, deps=vacation)
        return Template(
            template_name="report.html",
            context=page_context(
                request,
                rows=page.rows,
                page=page,
                as_of=as_of,
                query=query,
                search=query.search,
                filters=_filters(as_of, query),
                previous_offset=max(page.offset - page.limit, 0) if page.offset > 0 else None,
                next_offset=page.offset + page.limit if page.has_next else None,
            ),
        )

    @get("/csv", operation_id="vacationReportCsv", name="vacation_report_csv")
    async def csv(self, request: Request[Any, Any, Any], vacation: NamedDependency[VacationDeps]) -> Stream:
        """The same report as CSV (semicolon-separated, UTF-8), every row, streamed as it is read."""
        as_of = _as_of(request, vacation)
        return Stream(
            report_csv(as_of, deps=vacation),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="leave-balances-{as_of.isoformat()}.csv"'},
        )


def _filters(as_of: date, query: ReportQuery) -> str:
    """The query string of the page's filters (without sort, order and offset), for the sort and pager links."""
    return urlencode(
        {
            "as_of": as_of.isoformat(),
            "limit": query.limit,
            "search": query.search,
            "unit": query.unit,
            "region": query.region,
            "lapses_soon": "1" if query.lapses_soon else "",
        }
    )
