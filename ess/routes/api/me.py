"""The caller's identity and roles."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get

from ess.routes.guards import current_principal, requires_login
from ess.routes.rendering import services_of


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
    async def me(self, request: Request[Any, Any, Any]) -> MeOut:
        """Who the caller is and which roles they have."""
        principal = current_principal(request)
        services = services_of(request)
        employee = None
        if principal.employee_id is not None:
            async with services.new_uow() as uow:
                employee = await uow.employees.get(principal.employee_id)
        return MeOut(
            login=principal.login,
            display_name=principal.display_name,
            roles=sorted(r.value for r in principal.roles),
            employee_id=principal.employee_id,
            personnel_number=employee.personnel_number if employee else None,
            work_email=employee.work_email if employee else None,
        )
