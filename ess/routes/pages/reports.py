"""HR reports: every employee's leave balance, as a page and as CSV."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.response import Template

from ess.domain.vacation.report import balance_report, to_csv
from ess.routes.deps import Services
from ess.routes.guards import requires_hr
from ess.routes.rendering import page_context


def _as_of(request: Request[Any, Any, Any], services: Services) -> date:
    try:
        return date.fromisoformat(request.query_params.get("as_of", ""))
    except ValueError:
        return services.clock.today()


class ReportPagesController(Controller):
    path = "/hr/vacation-report"
    include_in_schema = False
    guards = [requires_hr]

    @get("", operation_id="vacationReportPage")
    async def page(self, request: Request[Any, Any, Any], services: NamedDependency[Services]) -> Template:
        """All employees' balances on a date."""
        as_of = _as_of(request, services)
        rows = await balance_report(as_of, report=services.leave_report)
        return Template(template_name="report.html", context=page_context(request, rows=rows, as_of=as_of))

    @get("/csv", operation_id="vacationReportCsv")
    async def csv(self, request: Request[Any, Any, Any], services: NamedDependency[Services]) -> Response[str]:
        """The same report as CSV (semicolon-separated, UTF-8)."""
        as_of = _as_of(request, services)
        rows = await balance_report(as_of, report=services.leave_report)
        return Response(
            to_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="leave-balances-{as_of.isoformat()}.csv"'},
        )
