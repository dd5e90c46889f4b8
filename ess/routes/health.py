"""Liveness and readiness for load balancers and monitoring."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from ess.domain.errors import ServiceUnavailable


@dataclass(frozen=True, slots=True)
class ReadinessChecks:
    """What readiness asks: each check raises ServiceUnavailable when its system cannot answer."""

    database: Callable[[], Awaitable[None]]
    directory: Callable[[], Awaitable[None]]


class HealthOut(msgspec.Struct):
    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("/live", operation_id="healthLive")
    async def live(self) -> HealthOut:
        """The process is up."""
        return HealthOut(status="ok")

    @get(
        "/ready",
        operation_id="healthReady",
        responses={503: ResponseSpec(HealthOut, description="The database or the directory does not answer.")},
    )
    async def ready(self, readiness: NamedDependency[ReadinessChecks]) -> Response[HealthOut]:
        """The database and the directory answer."""
        checks: dict[str, str] = {}
        for name, probe in (("database", readiness.database), ("directory", readiness.directory)):
            try:
                await probe()
                checks[name] = "ok"
            except ServiceUnavailable:
                checks[name] = "unavailable"
        ok = all(v == "ok" for v in checks.values())
        return Response(
            HealthOut(status="ok" if ok else "unavailable", checks=checks),
            status_code=HTTP_200_OK if ok else HTTP_503_SERVICE_UNAVAILABLE,
        )
