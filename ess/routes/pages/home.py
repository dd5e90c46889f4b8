"""The start page and the contact page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from ess.routes.guards import requires_login
from ess.routes.rendering import page_context


class HomePagesController(Controller):
    path = "/"
    include_in_schema = False

    @get("/", operation_id="startPage", name="start", guards=[requires_login])
    async def start(self, request: Request[Any, Any, Any]) -> Template:
        """The start page after login."""
        return Template(template_name="start.html", context=page_context(request))

    @get("/contact", operation_id="contactPage", name="contact")
    async def contact(self, request: Request[Any, Any, Any]) -> Template:
        """How to reach HR and IT: open to everyone, also before login."""
        return Template(template_name="contact.html", context=page_context(request))
