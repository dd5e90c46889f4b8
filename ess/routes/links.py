"""The URLs of the pages the domain links to: each area's page (a `Link`) maps to a route name, and the path is built
by Litestar's `route_reverse` from the app's own routing table - never written out twice."""

from __future__ import annotations

from collections.abc import Callable

from litestar import Litestar
from litestar.di import Provide

from ess.domain.shared import Link
from ess.routes.registry import DEPENDENCY_NAMES, ROUTE_HANDLERS
from ess.routes.route_names import ROUTE_NAMES


def _routing_only() -> Litestar:
    """The app's routing table without the app: for jobs and the CLI, which send mails but serve nothing."""

    return Litestar(
        route_handlers=list(ROUTE_HANDLERS),
        dependencies={name: _unused() for name in DEPENDENCY_NAMES},
        openapi_config=None,
    )


def _unused() -> Provide:
    # One function per name: Litestar refuses the same provider under two names.
    def unused() -> None:
        return None

    return Provide(unused, sync_to_thread=False)


class PageLinks:
    """Turns a domain `Link` into a path, by route name. `create_app` binds it to the app it builds; without an app
    (the CLI's jobs) it reverses from a routing table of the same handlers, built on first use."""

    def __init__(self) -> None:
        self._reverse: Callable[..., str] | None = None

    def bind(self, app: Litestar) -> None:
        self._reverse = app.route_reverse

    def __call__(self, link: Link) -> str:
        if self._reverse is None:
            self.bind(_routing_only())
        assert self._reverse is not None
        return self._reverse(ROUTE_NAMES[link.page], **link.ids)


__all__ = ["ROUTE_NAMES", "PageLinks"]
