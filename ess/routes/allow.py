"""The `Allow` header of OPTIONS answers, taken from the routes as registered.

Litestar 2 builds the automatic OPTIONS handler of a path when the path's first handler is registered and keeps
it when more handlers join the path, so it lists only some of the methods (litestar-org/litestar#4169, fixed in
Litestar 3). A 405 already lists them all.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.routes import HTTPRoute
from litestar.types import Message, Scope


@cache
def _methods_by_path(app: Any) -> dict[str, str]:
    return {route.path_format: ", ".join(sorted(route.methods)) for route in app.routes if isinstance(route, HTTPRoute)}


async def allow_header_hook(message: Message, scope: Scope) -> None:
    """A `before_send` hook: the Allow header of an OPTIONS answer names every method of the path."""
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    headers = MutableScopeHeaders.from_message(message)
    if "allow" in headers and (methods := _methods_by_path(scope["app"]).get(scope.get("path_template", ""))):
        headers["Allow"] = methods
