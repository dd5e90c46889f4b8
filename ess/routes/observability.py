"""What operators see: a request id on every answer and log line, Prometheus metrics, JSON log lines."""

from __future__ import annotations

import contextvars
import hmac
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from litestar import Request, Response, get
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import NotFoundException
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from ess.routes.middleware import client_address, in_networks
from ess.settings import Settings

REQUEST_ID_HEADER: Final = "X-Request-ID"
# An id a trusted proxy (nginx's $request_id) sends along is kept, so one id names the request in both logs.
_PLAUSIBLE_ID: Final = re.compile(r"[A-Za-z0-9._:-]{8,128}")
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("ess_request_id", default=None)
PROMETHEUS_TEXT: Final = "text/plain; version=0.0.4; charset=utf-8"
# The login endpoints and what their statuses mean; the metric needs no code in the handlers.
LOGIN_OPERATIONS: Final = {"login": "web", "createApiToken": "api"}
_LOGIN_OUTCOMES: Final = {401: "failure", 429: "throttled", 503: "unavailable"}
# A directory answers in milliseconds; the guard gives up after a second or two.
DIRECTORY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.5, 5.0, 10.0, 15.0)


def request_id_of(scope: Scope) -> str:
    """The request's id; an answer that no route matched (so no middleware ran) gets one here, which the
    X-Request-ID header then repeats."""
    state: dict[str, Any] = scope.setdefault("state", {})
    return str(state.setdefault("request_id", secrets.token_hex(12)))


def _incoming_id(scope: Scope, trusted_proxies: list[str]) -> str:
    client = scope.get("client")
    if client and trusted_proxies and in_networks(client[0], trusted_proxies):
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _PLAUSIBLE_ID.fullmatch(candidate):
                    return candidate
    return secrets.token_hex(12)


class Metrics:
    """The process's counters. With several workers (PROMETHEUS_MULTIPROC_DIR set by `ess serve`) they live in files
    that the scrape adds up over all workers; otherwise in this app's own registry."""

    def __init__(self) -> None:
        # prometheus_client's own switch (it reads the variable itself), set by `ess serve --workers N`.
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry()
        where = None if self.multiprocess else self.registry
        self.requests = Counter(
            "ess_http_requests", "HTTP requests by route template and status", ["method", "route", "status"],
            registry=where,
        )  # fmt: skip
        self.latency = Histogram(
            "ess_http_request_duration_seconds", "Time to answer, by route template", ["method", "route"],
            registry=where,
        )  # fmt: skip
        self.logins = Counter(
            "ess_logins", "Login attempts by channel and outcome", ["channel", "outcome"], registry=where
        )
        self.throttled = Counter(
            "ess_throttled", "Answers 429 (a limit held a client back), by route", ["route"], registry=where
        )
        self.directory_latency = Histogram(
            "ess_directory_call_duration_seconds", "Time the directory took, by operation (calls it answered)",
            ["operation"], buckets=DIRECTORY_BUCKETS, registry=where,
        )  # fmt: skip
        self.directory_errors = Counter(
            "ess_directory_errors", "Directory calls that failed: error, timeout, circuit_open (not asked)",
            ["operation", "reason"], registry=where,
        )  # fmt: skip
        self.journeys = Counter(
            "ess_selfservice_journey_steps", "Self-service journey steps by flow and step (started, completed, "
            "failed, escalated, solved_yes, ...)", ["flow", "step"], registry=where,
        )  # fmt: skip

    def journey_step(self, flow: object, step: str) -> None:
        """One self-service journey step (analytics' observer): counts by flow and step, never by person."""
        self.journeys.labels(str(getattr(flow, "value", flow)), step).inc()

    def directory_call(self, operation: str, seconds: float, outcome: str) -> None:
        """One directory call (the directory guard's observer)."""
        if outcome == "ok":
            self.directory_latency.labels(operation).observe(seconds)
        elif outcome != "abandoned":
            self.directory_errors.labels(operation, outcome).inc()

    def observe(self, scope: Scope, status: int, seconds: float | None) -> None:
        route = str(scope.get("path_template") or "unmatched")
        method = str(scope.get("method", ""))
        self.requests.labels(method, route, str(status)).inc()
        if seconds is not None:
            self.latency.labels(method, route).observe(seconds)
        if status == 429:
            self.throttled.labels(route).inc()
        handler = scope.get("route_handler")
        channel = LOGIN_OPERATIONS.get(str(getattr(handler, "operation_id", "") or ""))
        if channel is not None and scope.get("method") == "POST":
            success = 200 if channel == "api" else 303
            outcome = "success" if status == success else _LOGIN_OUTCOMES.get(status, "rejected")
            if channel == "web" and status == 200:
                outcome = "password_change_required"  # the page offers the change instead of a session
            self.logins.labels(channel, outcome).inc()

    def scrape(self, extra: Collector) -> bytes:
        registry = self.registry
        if self.multiprocess:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(extra)
        try:
            return generate_latest(registry)
        finally:
            registry.unregister(extra)


class RequestContextMiddleware:
    """The first middleware of every route: the request id (state, log context) and the start time."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.trusted_proxies = settings.server.trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = _incoming_id(scope, self.trusted_proxies)
        state["started"] = time.perf_counter()
        # Not reset afterwards: the server runs each request in a task of its own (its own context), and the
        # exception handlers that log an error run after this middleware has returned.
        REQUEST_ID.set(state["request_id"])
        await self.app(scope, receive, send)


def observe_hook(metrics: Metrics, settings: Settings) -> Callable[[Message, Scope], Awaitable[None]]:
    """A `before_send` hook (it sees every answer, also a 404 no route matched): the X-Request-ID header, and the
    request counted when its last body part leaves."""
    trusted = settings.server.trusted_proxies

    async def hook(message: Message, scope: Scope) -> None:
        state: dict[str, Any] = scope.setdefault("state", {})
        if message["type"] == "http.response.start":
            state.setdefault("request_id", _incoming_id(scope, trusted))
            state["status"] = message["status"]
            MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = state["request_id"]
        elif message["type"] == "http.response.body" and not message.get("more_body", False) and "status" in state:
            started = state.get("started")
            metrics.observe(scope, state.pop("status"), time.perf_counter() - started if started else None)

    return hook


@dataclass(frozen=True, slots=True)
class Gauges:
    """Figures read at scrape time: (name, help, value) triples from the database and the engine."""

    read: Callable[[], Awaitable[list[tuple[str, str, float]]]]


class _Snapshot(Collector):
    def __init__(self, figures: list[tuple[str, str, float]]) -> None:
        self._figures = figures

    def collect(self) -> Any:
        for name, documentation, value in self._figures:
            yield GaugeMetricFamily(name, documentation, value=value)


def metrics_allowed(request: Request[Any, Any, Any], settings: Settings) -> bool:
    """The token, or a client address on the allow list (as forwarded by a trusted proxy)."""
    config = settings.metrics
    if not config.enabled:
        return False
    if config.token:
        scheme, _, given = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), config.token.encode()):
            return True
    address = client_address(request.scope, settings.server.trusted_proxies)
    return bool(config.allow) and in_networks(address, config.allow)


def metrics_handler(metrics: Metrics, gauges: Gauges, settings: Settings) -> Any:
    """GET /metrics for this app (a 404 for anyone not allowed: the endpoint does not advertise itself)."""

    @get("/metrics", operation_id="metrics", include_in_schema=False, name="metrics")
    async def metrics_endpoint(request: Request[Any, Any, Any]) -> Response[bytes]:
        if not metrics_allowed(request, settings):
            raise NotFoundException()
        body = metrics.scrape(_Snapshot(await gauges.read()))
        return Response(body, media_type=PROMETHEUS_TEXT)

    return metrics_endpoint


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id; the access log's fields by name."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if request_id := REQUEST_ID.get():
            entry["request_id"] = request_id
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, _version, status = record.args
            entry |= {"client": client, "method": method, "path": path, "status": status}
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__  # the type only: messages can carry input values
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_config(settings: Settings) -> dict[str, Any]:
    """The logging configuration for uvicorn (and ESS's own loggers), in every worker alike."""
    level = settings.logging.level.upper()
    formatter = (
        {"()": f"{__name__}.JsonLogFormatter"}
        if settings.logging.format == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    handler = {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "loggers": {
            name: {"handlers": ["default"], "level": level, "propagate": False}
            for name in ("uvicorn", "uvicorn.access", "ess", "litestar")
        },
    }
