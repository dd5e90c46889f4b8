"""The audit trail by role, and everything ESS holds about the caller."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from ess.domain.errors import InvalidInput
from ess.domain.privacy.audit_trail import view_audit
from ess.domain.privacy.export import export_my_data
from ess.domain.privacy.model import MAX_PAGE, AuditQuery
from ess.domain.privacy.ports import PrivacyDeps
from ess.routes.guards import current_principal, requires_login
from ess.routes.privacy_files import audit_row
from ess.routes.rendering import client_of


class AuditEventOut(msgspec.Struct):
    id: int
    occurred_at: str
    actor: str
    action: str
    outcome: str
    target: str
    client_address: str
    details: dict[str, Any]
    hash: str


class AuditEventsOut(msgspec.Struct):
    events: list[AuditEventOut]
    # Pass as before_id for the next (older) page; null on the last page.
    next_before_id: int | None


class AuditApiController(Controller):
    path = "/api/v1/audit-events"
    tags = ["audit"]
    guards = [requires_login]

    @get("", operation_id="listAuditEvents", problems=["permission_denied", "invalid_input"])
    async def events(  # noqa: PLR0917 - one parameter per filter
        self,
        request: Request[Any, Any, Any],
        privacy: NamedDependency[PrivacyDeps],
        since: Annotated[str | None, QueryParameter(max_length=40, schema_extra={"format": "date-time"})] = None,
        until: Annotated[str | None, QueryParameter(max_length=40, schema_extra={"format": "date-time"})] = None,
        action: Annotated[str, QueryParameter(max_length=64)] = "",
        actor: Annotated[str, QueryParameter(max_length=256)] = "",
        subject: Annotated[str, QueryParameter(max_length=256)] = "",
        before_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 100,
    ) -> AuditEventsOut:
        """The audit events the caller's roles may read, newest first: auditor all; helpdesk and admin sign-in,
        recovery, helpdesk and second-factor events; HR the HR, profile and leave events. `action` is a type
        (`auth.login`) or a prefix ending in a dot (`leave.`); `subject` is the event's target."""
        query = AuditQuery(
            since=_aware(since),
            until=_aware(until),
            action=action,
            actor=actor,
            subject=subject,
            before_id=before_id,
            limit=limit,
        )
        records = await view_audit(current_principal(request), query, deps=privacy)
        return AuditEventsOut(
            events=[AuditEventOut(**audit_row(record)) for record in records],
            next_before_id=records[-1].id if len(records) == limit else None,
        )


def _aware(text: str | None) -> datetime | None:
    """An ISO 8601 instant; one without an offset is read as UTC."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput("since and until are ISO 8601 instants, e.g. 2026-01-31T00:00:00Z.") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class MyDataApiController(Controller):
    path = "/api/v1/me/export"
    tags = ["me"]
    guards = [requires_login]

    @get("", operation_id="exportMyData")
    async def export(self, request: Request[Any, Any, Any], privacy: NamedDependency[PrivacyDeps]) -> dict[str, Any]:
        """Everything ESS holds about the caller (GDPR Art. 15 and 20): HR record, profile history and change
        requests, leave, recovery channels (masked), second factors, tokens and links (metadata only), audit events
        by or about them, mails; producing it is audited."""
        data = await export_my_data(current_principal(request), client=client_of(request), deps=privacy)
        return data.as_json()
