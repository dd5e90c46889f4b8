"""The caller's identity and roles."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency

from ess.domain.auth.caller import own_record
from ess.domain.auth.ports import AuthDeps
from ess.domain.errors import NotFound
from ess.routes.guards import current_principal, requires_login


class MeOut(msgspec.Struct):
    login: str
    display_name: str
    roles: list[str]
    employee_id: int | None
    personnel_number: str | None
    work_email: str | None


class MeApiController(Controller):
    path = "/api/v1/me"
    tags = ["me"]
    guards = [requires_login]

    @get("", operation_id="getMe")
    async def me(self, request: Request[Any, Any, Any], auth: NamedDependency[AuthDeps]) -> MeOut:
        """Who the caller is and which roles they have."""
        principal = current_principal(request)
        try:
            employee = (await own_record(principal, deps=auth)).employee
        except NotFound:
            employee = None  # administrators and service accounts may have no HR record
        return MeOut(
            login=principal.login,
            display_name=principal.display_name,
            roles=sorted(r.value for r in principal.roles),
            employee_id=principal.employee_id,
            personnel_number=employee.personnel_number if employee else None,
            work_email=employee.work_email if employee else None,
        )
