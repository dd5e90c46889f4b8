"""The application factory: routers, middleware, templates, OpenAPI and the lifespan of the adapters."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Final

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware.base import DefineMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from ess import __version__
from ess.bootstrap import Container, build_container
from ess.routes.allow import allow_header_hook
from ess.routes.api.auth import AuthApiController
from ess.routes.api.me import MeApiController
from ess.routes.api.passwords import MyPasswordApiController, PasswordPolicyApiController
from ess.routes.api.profile import (
    EmployeeProfileApiController,
    HrChangeRequestApiController,
    ProfileApiController,
)
from ess.routes.api.recovery import HelpdeskApiController, RecoveryApiController
from ess.routes.api.vacation import HrVacationApiController, LeaveDecisionsApiController, VacationApiController
from ess.routes.deps import Services
from ess.routes.errors import EXCEPTION_HANDLERS
from ess.routes.health import HealthController
from ess.routes.log_redaction import install_log_redaction
from ess.routes.middleware import API_PREFIX, IdentityMiddleware, security_headers_hook
from ess.routes.openapi import complete_document
from ess.routes.pages.auth import AuthPagesController
from ess.routes.pages.calendar import CalendarFeedController, TeamCalendarController
from ess.routes.pages.expired_password import ExpiredPasswordPagesController
from ess.routes.pages.home import HomePagesController
from ess.routes.pages.password import PasswordPagesController
from ess.routes.pages.profile import HrChangeRequestPagesController, ProfilePagesController
from ess.routes.pages.recovery import HelpdeskPagesController, RecoveryPagesController, SecurityPagesController
from ess.routes.pages.reports import ReportPagesController
from ess.routes.pages.vacation import TeamPagesController, VacationPagesController
from ess.routes.problems import ids_in_range
from ess.settings import Settings, load_settings

PACKAGE_DIR: Final = Path(__file__).resolve().parent
# Expired sessions and login counters are removed this often (one file each in the file store).
SWEEP_INTERVAL_SECONDS: Final = 600
# How long shutdown waits for the directory outbox worker to finish the entry it is applying.
OUTBOX_STOP_SECONDS: Final = 15


def _template_engine() -> JinjaTemplateEngine:
    environment = Environment(
        loader=FileSystemLoader(PACKAGE_DIR / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    return JinjaTemplateEngine.from_environment(environment)


async def stop_outbox_worker(worker: asyncio.Task[None], stop: asyncio.Event) -> None:
    """Let the directory outbox worker finish the entry in hand; an entry cut off is claimed again later."""
    stop.set()
    # On timeout wait_for cancels it: its claims run out and another worker takes the entries over.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(worker, timeout=OUTBOX_STOP_SECONDS)


def create_app(settings: Settings | None = None, *, container: Container | None = None) -> Litestar:
    """Build the ASGI app. Settings are loaded here once and passed down; nothing is built at import time."""
    settings = settings or load_settings()
    container = container or build_container(settings)
    services = container.services

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        async def sweep_forever() -> None:
            while True:
                await container.sweep()
                await asyncio.sleep(SWEEP_INTERVAL_SECONDS)

        sweeper = asyncio.create_task(sweep_forever())
        stop_outbox = asyncio.Event()
        outbox_worker = asyncio.create_task(services.directory_sync.run_forever(stop_outbox))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await stop_outbox_worker(outbox_worker, stop_outbox)
            await container.close()

    csrf = CSRFConfig(
        secret=settings.secret_key.reveal(),
        cookie_name="ess_csrf",
        cookie_secure=settings.server.served_over_tls,
        cookie_httponly=True,
        cookie_samesite="strict",
        # The API authenticates by bearer token only (never by cookie), so cross-site requests cannot ride on it.
        exclude=[f"^{API_PREFIX}", "^/health/"],
    )
    openapi = OpenAPIConfig(
        title="ESS - Employee Self-Service API",
        version=__version__,
        path="/schema",
        render_plugins=[JsonRenderPlugin()],
        components=Components(
            security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="opaque token")}
        ),
        security=[{"bearer": []}],
    )
    logging.getLogger("ess").setLevel(logging.INFO)
    install_log_redaction()

    def provide_services() -> Services:
        return services

    app = Litestar(
        route_handlers=[
            HealthController,
            AuthApiController,
            MeApiController,
            AuthPagesController,
            HomePagesController,
            PasswordPagesController,
            ExpiredPasswordPagesController,
            VacationPagesController,
            TeamPagesController,
            ReportPagesController,
            CalendarFeedController,
            TeamCalendarController,
            VacationApiController,
            LeaveDecisionsApiController,
            HrVacationApiController,
            ProfilePagesController,
            HrChangeRequestPagesController,
            ProfileApiController,
            HrChangeRequestApiController,
            EmployeeProfileApiController,
            MyPasswordApiController,
            PasswordPolicyApiController,
            RecoveryApiController,
            HelpdeskApiController,
            RecoveryPagesController,
            SecurityPagesController,
            HelpdeskPagesController,
            create_static_files_router(path="/static", directories=[PACKAGE_DIR / "static"], include_in_schema=False),
        ],
        middleware=[
            DefineMiddleware(IdentityMiddleware, services=services),
        ],
        before_send=[security_headers_hook(hsts=settings.server.served_over_tls), allow_header_hook],
        dependencies={"services": Provide(provide_services, use_cache=True, sync_to_thread=False)},
        csrf_config=csrf,
        template_config=TemplateConfig(instance=_template_engine()),
        openapi_config=openapi,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        state=State({"services": services}),
        # Not an authorization guard: an id the database cannot hold is a 404 on every route, API and pages.
        guards=[ids_in_range],
        debug=False,
    )
    complete_document(app)
    return app
