"""The audit viewer (by role) with CSV/JSON download, and "my data": everything ESS holds about the caller."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.response import Template

from ess.domain.privacy.audit_trail import export_audit, view_audit
from ess.domain.privacy.export import export_my_data
from ess.domain.privacy.model import MAX_PAGE, AuditQuery, audit_scope
from ess.domain.privacy.ports import PrivacyDeps
from ess.routes.guards import current_principal, requires_login
from ess.routes.privacy_files import audit_csv, audit_json, personal_data_zip
from ess.routes.rendering import COMPANY_ZONE, N_, client_of, page_context

PAGE: Final = 100
# What each kind of record is, for people (the download keeps the kinds as they are).
SECTION_LABELS: Final = {
    "hr_record": N_("HR record"),
    "roles": N_("Roles"),
    "work_patterns": N_("Working week"),
    "bank_account": N_("Bank account"),
    "emergency_contacts": N_("Emergency contacts"),
    "profile_history": N_("History of changes to my data"),
    "change_requests": N_("Change requests"),
    "directory_changes": N_("Changes written to the directory"),
    "leave_requests": N_("Leave requests"),
    "leave_ledger": N_("Leave account entries"),
    "leave_buckets": N_("Leave entitlements"),
    "calendar_feeds": N_("Calendar subscriptions"),
    "leave_deputies": N_("Deputies"),
    "recovery_channels": N_("Recovery channels"),
    "second_factors": N_("Second factors"),
    "recovery_codes": N_("Recovery codes"),
    "api_tokens": N_("API tokens"),
    "one_time_links": N_("One-time links"),
    "password_reminders": N_("Password reminders"),
    "audit_events": N_("Audit events by or about me"),
    "mails": N_("Mails to me"),
}
_FILTERS: Final = ("from", "to", "action", "actor", "subject")


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _query(request: Request[Any, Any, Any], *, limit: int) -> tuple[AuditQuery, dict[str, str]]:
    """The filters of the form (days in the company's time zone, both inclusive); what does not parse is left out."""
    raw = {name: request.query_params.get(name, "")[:256].strip() for name in _FILTERS}
    first, last = _day(raw["from"]), _day(raw["to"])
    since = datetime.combine(first, time(), COMPANY_ZONE) if first else None
    until = datetime.combine(last + timedelta(days=1), time(), COMPANY_ZONE) if last else None
    if since and until and since >= until:
        since = until = None
    before = request.query_params.get("before_id", "")
    before_id = int(before) if before.isdigit() and 0 < int(before) < 2**31 else None
    query = AuditQuery(
        since=since,
        until=until,
        action=raw["action"][:64],
        actor=raw["actor"],
        subject=raw["subject"],
        before_id=before_id,
        limit=limit,
    )
    return query, raw


class AuditPagesController(Controller):
    path = "/audit"
    include_in_schema = False
    guards = [requires_login]

    @get("", operation_id="auditPage", name="audit")
    async def page(self, request: Request[Any, Any, Any], privacy: NamedDependency[PrivacyDeps]) -> Template:
        """The events the caller's roles may read, newest first, a page at a time, with filters."""
        principal = current_principal(request)
        query, filters = _query(request, limit=PAGE)
        records = await view_audit(principal, query, deps=privacy)
        return Template(
            template_name="audit.html",
            context=page_context(
                request,
                records=records,
                filters=filters,
                scope=audit_scope(principal.roles),
                next_before_id=records[-1].id if len(records) == PAGE else None,
            ),
        )

    @get("/export", operation_id="auditExportPage", name="audit_export")
    async def export(self, request: Request[Any, Any, Any], privacy: NamedDependency[PrivacyDeps]) -> Response[str]:
        """The filtered events (at most 1,000, newest first) as CSV or JSON; the download is audited."""
        fmt = request.query_params.get("format", "csv")
        if fmt not in {"csv", "json"}:
            raise NotFoundException()
        query, _filters = _query(request, limit=MAX_PAGE)
        records = await export_audit(
            current_principal(request), query, fmt=fmt, client=client_of(request), deps=privacy
        )
        body = audit_csv(records) if fmt == "csv" else audit_json(records)
        media = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
        return Response(
            body, media_type=media, headers={"Content-Disposition": f'attachment; filename="audit-events.{fmt}"'}
        )


class MyDataPagesController(Controller):
    path = "/my-data"
    include_in_schema = False
    guards = [requires_login]

    @get("", operation_id="myDataPage", name="my_data")
    async def page(self, request: Request[Any, Any, Any], privacy: NamedDependency[PrivacyDeps]) -> Template:
        """Everything ESS holds about the caller, readable, with the download button."""
        data = await export_my_data(current_principal(request), client=client_of(request), deps=privacy)
        return Template(
            template_name="my_data.html", context=page_context(request, data=data, section_labels=SECTION_LABELS)
        )

    @post("/download", operation_id="myDataDownload", name="my_data_download", status_code=200)
    async def download(self, request: Request[Any, Any, Any], privacy: NamedDependency[PrivacyDeps]) -> Response[bytes]:
        """The same as JSON in a ZIP (GDPR Art. 20)."""
        data = await export_my_data(current_principal(request), client=client_of(request), deps=privacy)
        stamp = data.produced_at.strftime("%Y%m%d")
        return Response(
            personal_data_zip(data),
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="ess-my-data-{stamp}.zip"'},
        )
