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
    # The shared session store (Redis/Valkey), when one is configured.
    sessions: Callable[[], Awaitable[None]] | None = None


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
        responses={
            503: ResponseSpec(HealthOut, description="A dependency (database, directory, sessions) does not answer.")
        },
    )
    async def ready(self, readiness: NamedDependency[ReadinessChecks]) -> Response[HealthOut]:
        """The database, the directory and (when configured) the shared session store answer."""
        checks: dict[str, str] = {}
        probes = [("database", readiness.database), ("directory", readiness.directory)]
        if readiness.sessions is not None:
            probes.append(("sessions", readiness.sessions))
        for name, probe in probes:
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
