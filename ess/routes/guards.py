"""Guards: small predicates on the caller, attached to routers. Object-level checks live in the use cases.

Every guard is a coroutine function although none awaits anything: Litestar runs a plain function guard in a worker
thread (`sync_to_thread`), a hop to another thread and back on every request for a dictionary lookup."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from ess.domain.auth.model import Principal
from ess.domain.hr.model import Role


def current_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal):
        raise NotAuthorizedException("Authentication required.")
    return principal


async def requires_login(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    current_principal(connection)


def _requires(role: Role) -> Any:
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if not current_principal(connection).has(role):
            raise PermissionDeniedException("Your roles do not allow this.")

    guard.__name__ = f"requires_{role.value}"
    return guard


requires_hr = _requires(Role.HR)


async def requires_manager_or_hr(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    principal = current_principal(connection)
    if not (principal.has(Role.MANAGER) or principal.has(Role.HR)):
        raise PermissionDeniedException("Your roles do not allow this.")
