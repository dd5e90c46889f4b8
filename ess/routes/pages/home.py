"""The start page, the contact page and the employee's own record."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from ess.domain.hr.service import own_record
from ess.routes.deps import Services
from ess.routes.guards import current_principal, requires_login
from ess.routes.rendering import page_context


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
    async def profile(self, request: Request[Any, Any, Any], services: NamedDependency[Services]) -> Template:
        """The employee's personal data as HR keeps it."""
        record = await own_record(current_principal(request), uow=services.new_uow())
        return Template(
            template_name="profile.html",
            context=page_context(request, employee=record.employee, manager=record.manager),
        )
