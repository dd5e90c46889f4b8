"""The application factory: routers, middleware, templates, OpenAPI and the lifespan of the adapters."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Litestar, Request, Response
from litestar.di import Provide
from litestar.middleware.base import DefineMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from sqlalchemy.exc import SQLAlchemyError

from ess import __version__
from ess.adapters.sql.database import is_pressure
from ess.adapters.sql.figures import SqlFigures
from ess.bootstrap import Container, build_container
from ess.domain.mail.delivery import run_worker as run_mail_worker
from ess.domain.outbox.delivery import run_worker
from ess.routes.allow import allow_header_hook
from ess.routes.csrf import SessionCsrfMiddleware
from ess.routes.errors import database_busy, exception_handlers, internal_error_handler
from ess.routes.health import ReadinessChecks
from ess.routes.hygiene import request_checks
from ess.routes.journeys import journey_cookies_hook
from ess.routes.log_redaction import install_log_redaction
from ess.routes.middleware import IdentityMiddleware, security_headers_hook
from ess.routes.observability import Gauges, Metrics, RequestContextMiddleware, metrics_handler, observe_hook
from ess.routes.openapi import complete_on_first_build
from ess.routes.registry import ROUTE_HANDLERS
from ess.routes.rendering import template_url_for
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
    engine = JinjaTemplateEngine.from_environment(environment)
    engine.register_template_callable(key="url_for", template_callable=template_url_for)
    return engine


async def stop_outbox_worker(worker: asyncio.Task[None], stop: asyncio.Event) -> None:
    """Let a queue worker (directory outbox, mail) finish the entry in hand; an entry cut off is claimed again
    later."""
    stop.set()
    # On timeout wait_for cancels it: its claims run out and another worker takes the entries over.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(worker, timeout=OUTBOX_STOP_SECONDS)


def _constant(value: object) -> Provide:
    def provide() -> object:
        return value

    return Provide(provide, use_cache=True, sync_to_thread=False)


def providers(container: Container) -> dict[str, Provide]:
    """One dependency per area, by name: a handler asks for `vacation: NamedDependency[VacationDeps]` and gets what
    the vacation use cases need, nothing else."""
    return {
        "auth": _constant(container.auth),
        "passwords": _constant(container.passwords),
        "vacation": _constant(container.vacation),
        "profile": _constant(container.profile),
        "recovery": _constant(container.recovery),
        "mfa": _constant(container.mfa),
        "help": _constant(container.help),
        "privacy": _constant(container.privacy),
        "console": _constant(container.console),
        "analytics": _constant(container.analytics),
        "help_requests": _constant(container.help_requests),
        "home": _constant(container.home),
        "settings": _constant(container.settings),
        "readiness": _constant(
            ReadinessChecks(
                database=lambda: container.new_uow().ping(),
                directory=container.directory.ping,
                sessions=container.shared_redis.ping if container.shared_redis is not None else None,
            )
        ),
    }


def _lifespan(container: Container) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await container.check_shared_store()  # a configured Redis that does not answer stops the start, clearly

        async def sweep_forever() -> None:
            while True:
                try:
                    await container.sweep()
                except Exception:  # a failed round must neither end the sweeping nor the shutdown
                    logging.getLogger("ess.sessions").exception("Sweeping expired sessions failed; next round later")
                await asyncio.sleep(SWEEP_INTERVAL_SECONDS)

        sweeper = asyncio.create_task(sweep_forever())
        stop_outbox = asyncio.Event()
        outbox_worker = asyncio.create_task(run_worker(stop_outbox, deps=container.outbox))
        stop_mail = asyncio.Event()
        mail_worker = asyncio.create_task(run_mail_worker(stop_mail, deps=container.mail))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            # Both at once: shutdown must stay within the service manager's stop timeout.
            await asyncio.gather(
                stop_outbox_worker(outbox_worker, stop_outbox), stop_outbox_worker(mail_worker, stop_mail)
            )
            await container.close()

    return lifespan


def _gauges(container: Container) -> Gauges:
    """Figures read when Prometheus scrapes: the outbox backlog and the database pool (none without a database)."""
    figures = SqlFigures(container.engine) if container.engine is not None else None

    async def read() -> list[tuple[str, str, float]]:
        if figures is None:
            return []
        found: list[tuple[str, str, float]] = []
        try:
            backlog = await figures.outbox_backlog(container.clock.now())
            found += [
                ("ess_outbox_backlog", "Directory changes waiting to be applied", backlog.pending),
                ("ess_outbox_oldest_age_seconds", "Age of the oldest waiting change", backlog.oldest_age_seconds),
            ]
            mail = await figures.mail_backlog(container.clock.now())
            found += [
                ("ess_mail_queue_backlog", "Mails waiting to be sent", mail.pending),
                ("ess_mail_queue_oldest_age_seconds", "Age of the oldest waiting mail", mail.oldest_age_seconds),
                ("ess_mail_queue_failed", "Mails given up (see `ess mail list --status failed`)", mail.failed),
                ("ess_database_up", "Whether the database answered the scrape's query", 1),
            ]
        except Exception:
            found.append(("ess_database_up", "Whether the database answered the scrape's query", 0))
        if (guard := container.directory_guard) is not None:
            state = guard.breaker.state.value
            found.append(
                (
                    "ess_directory_circuit_open",
                    "Whether this process stops asking the directory",
                    float(state == "open"),
                )
            )
        if (pool := figures.pool()) is not None:
            found += [
                ("ess_db_pool_size", "Connections the pool keeps (this process)", pool.size),
                ("ess_db_pool_checked_out", "Connections in use (this process)", pool.checked_out),
                ("ess_db_pool_overflow", "Connections beyond the pool size (this process)", pool.overflow),
            ]
        return found

    return Gauges(read)


def _on_database_error(request: Request[Any, Any, Any], exc: SQLAlchemyError) -> Response[Any]:
    """Lock and statement timeouts, an exhausted pool: 503 with Retry-After; any other database error stays a 500."""
    return database_busy(request) if is_pressure(exc) else internal_error_handler(request, exc)


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="ESS - Employee Self-Service API",
        version=__version__,
        path="/schema",
        render_plugins=[JsonRenderPlugin()],
        components=Components(
            security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="opaque token")}
        ),
        security=[{"bearer": []}],
    )


def create_app(settings: Settings | None = None, *, container: Container | None = None) -> Litestar:
    """Build the ASGI app. Settings are loaded here once and passed down; nothing is built at import time."""
    settings = settings or load_settings()
    container = container or build_container(settings)
    logging.getLogger("ess").setLevel(logging.INFO)
    install_log_redaction()
    templates = _template_engine()
    # What every page shows the same way: template globals, not a lookup per request.
    templates.engine.globals.update(company=settings.company, locales=settings.i18n.locales)
    metrics = Metrics()
    if container.directory_guard is not None:
        container.directory_guard.observer = metrics.directory_call
    container.analytics.observers.append(metrics.journey_step)
    extra_handlers = [metrics_handler(metrics, _gauges(container), settings)] if settings.metrics.enabled else []
    app = Litestar(
        route_handlers=[
            *ROUTE_HANDLERS,
            *extra_handlers,
            create_static_files_router(path="/static", directories=[PACKAGE_DIR / "static"], include_in_schema=False),
        ],
        middleware=[
            DefineMiddleware(RequestContextMiddleware, settings=settings),
            DefineMiddleware(IdentityMiddleware, auth=container.auth, settings=settings),
            # Forms carry a token bound to the browser's session; the API (bearer tokens only) needs none.
            DefineMiddleware(
                SessionCsrfMiddleware,
                secret_key=settings.secret_key.reveal(),
                secure=settings.server.served_over_tls,
            ),
        ],
        before_send=[
            security_headers_hook(hsts=settings.server.served_over_tls),
            allow_header_hook,
            observe_hook(metrics, settings),
            journey_cookies_hook(secure=settings.server.served_over_tls),
        ],
        dependencies=providers(container),
        template_config=TemplateConfig(instance=templates),
        openapi_config=_openapi(),
        exception_handlers={
            **exception_handlers(container.passwords.policy),
            SQLAlchemyError: _on_database_error,
        },
        lifespan=[_lifespan(container)],
        # Not authorization guards: an id the database cannot hold is a 404 on every route, API and pages; text
        # with control characters is refused per field (422) before any handler sees it.
        guards=[request_checks],
        debug=False,
    )
    complete_on_first_build(app)
    # Mails built by the domain's notices link to pages by route name, through this app's routing table.
    container.links.bind(app)
    return app
