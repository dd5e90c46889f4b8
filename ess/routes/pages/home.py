"""The start page, the contact page and the employee's own record."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.response import Template

from ess.routes.guards import current_principal, requires_login
from ess.routes.rendering import page_context, services_of


class HomePagesController(Controller):
    path = "/"
    include_in_schema = False

    @get("/", operation_id="startPage", guards=[requires_login])
    async def start(self, request: Request[Any, Any, Any]) -> Template:
        """The start page after login."""
        return Template(template_name="start.html", context=page_context(request))

    @get("/contact", operation_id="contactPage")
    async def contact(self, request: Request[Any, Any, Any]) -> Template:
        """How to reach HR and IT: open to everyone, also before login."""
        return Template(template_name="contact.html", context=page_context(request))

    @get("/profile", operation_id="profilePage", guards=[requires_login])
    async def profile(self, request: Request[Any, Any, Any]) -> Template:
        """The employee's personal data as HR keeps it."""
        principal = current_principal(request)
        services = services_of(request)
        if principal.employee_id is None:
            raise NotFoundException("No HR record belongs to this account.")
        async with services.new_uow() as uow:
            employee = await uow.employees.get(principal.employee_id)
            manager = None
            if employee and employee.manager_personnel_number:
                found = await uow.employees.by_personnel_numbers([employee.manager_personnel_number])
                manager = found.get(employee.manager_personnel_number)
        if employee is None:
            raise NotFoundException("No HR record belongs to this account.")
        return Template(template_name="profile.html", context=page_context(request, employee=employee, manager=manager))
