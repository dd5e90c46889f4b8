"""The start page (what each person comes for, by role), the short tour for newcomers, and the contact page."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import anyio
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from ess.domain.home.ports import HomeDeps
from ess.domain.home.start import start_page
from ess.routes.guards import current_principal, requires_login
from ess.routes.middleware import cookie_name
from ess.routes.profile_text import FIELD_LABELS
from ess.routes.rendering import page_context, url_to
from ess.settings import Settings

SHIPPED_LOGO = Path(__file__).resolve().parents[2] / "static" / "logo.svg"
LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
# The tour's steps, in order; each is a section of tour.html.
TOUR_STEPS: Final = ("leave", "data", "security", "help")
# Set when the person ends or declines the tour: this browser does not offer it again. Nothing about it is stored on
# the server (no record of who took the tour).
TOUR_COOKIE: Final = "ess_tour"
TOUR_COOKIE_DAYS: Final = 400


def tour_declined(request: Request[Any, Any, Any], settings: Settings) -> bool:
    return request.cookies.get(cookie_name(TOUR_COOKIE, secure=settings.server.served_over_tls)) == "done"


class HomePagesController(Controller):
    path = "/"
    include_in_schema = False

    @get("/", operation_id="startPage", name="start", guards=[requires_login])
    async def start(
        self,
        request: Request[Any, Any, Any],
        home: NamedDependency[HomeDeps],
        settings: NamedDependency[Settings],
    ) -> Template:
        """The start page after login (composed by role in `domain.home.start`); it offers the short tour until
        this browser has ended or declined it."""
        shown = await start_page(current_principal(request), deps=home)
        return Template(
            template_name="start.html",
            context=page_context(
                request,
                shown=shown,
                field_labels=FIELD_LABELS,
                badges=shown.counts,
                offer_tour=not tour_declined(request, settings),
            ),
        )

    @get("/tour", operation_id="tourPage", name="tour", guards=[requires_login])
    async def tour(self, request: Request[Any, Any, Any]) -> Template:
        """One step of the short tour (works without JavaScript: each step is a page with back and next links); a
        step out of range or not a number shows the nearest one."""
        asked = request.query_params.get("step", "1")
        current = min(max(int(asked) if asked.isdecimal() and len(asked) < 4 else 1, 1), len(TOUR_STEPS))
        return Template(
            template_name="tour.html",
            context=page_context(request, step=current, steps=TOUR_STEPS, topic=TOUR_STEPS[current - 1]),
        )

    @post("/tour/done", operation_id="endTour", name="tour_done", guards=[requires_login], status_code=303)
    async def tour_done(self, request: Request[Any, Any, Any], settings: NamedDependency[Settings]) -> Response[Any]:
        """End or decline the tour: this browser does not offer it again."""
        secure = settings.server.served_over_tls
        response: Response[Any] = Redirect(url_to(request, "start"), status_code=303)
        response.set_cookie(
            Cookie(
                key=cookie_name(TOUR_COOKIE, secure=secure),
                value="done",
                path="/",
                max_age=TOUR_COOKIE_DAYS * 24 * 3600,
                httponly=True,
                secure=secure,
                samesite="lax",
            )
        )
        return response

    @get("/brand.css", operation_id="brandStylesheet", name="brand_css", cache=300)
    async def brand_css(self, settings: NamedDependency[Settings]) -> Response[str]:
        """The brand colours from the configuration, as CSS variables (no inline style: the CSP forbids it)."""
        company = settings.company
        css = f":root {{ --brand: {company.colour}; --brand-dark: {company.colour_dark}; }}\n"
        return Response(css, media_type="text/css; charset=utf-8")

    @get("/brand/logo", operation_id="brandLogo", name="brand_logo", cache=300)
    async def brand_logo(self, settings: NamedDependency[Settings]) -> Response[bytes]:
        """The configured logo, or the shipped mark."""
        configured = settings.company.logo_file
        path = Path(configured) if configured else SHIPPED_LOGO
        body = await anyio.Path(path).read_bytes()
        return Response(body, media_type=LOGO_TYPES.get(path.suffix.lower(), "application/octet-stream"))

    @get("/contact", operation_id="contactPage", name="contact")
    async def contact(self, request: Request[Any, Any, Any]) -> Template:
        """How to reach HR and IT: open to everyone, also before login."""
        return Template(template_name="contact.html", context=page_context(request))
