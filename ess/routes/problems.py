"""The vocabulary of API errors: problem codes, the status each one is answered with, and bounds of path parameters."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_405_METHOD_NOT_ALLOWED,
    HTTP_409_CONFLICT,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from ess.domain.auth.login import PasswordChangeRequired
from ess.domain.errors import (
    AuthenticationFailed,
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PolicyViolation,
    ServiceUnavailable,
    Throttled,
)

PROBLEM_JSON: Final = "application/problem+json"
# The handler option (a decorator keyword: `@post(..., problems=["not_found", "conflict"])`) that names the codes of
# the domain errors an operation can answer with; statuses that follow from guards, path parameters, a body or query
# parameters are added without it (see ess.routes.openapi).
PROBLEMS_OPT: Final = "problems"

# Ids are 32-bit integers in the database (PostgreSQL `integer`): a larger id, or one below 1, names nothing.
ID_MIN: Final = 1
ID_MAX: Final = 2**31 - 1

DOMAIN_STATUS: Final[dict[type[DomainError], int]] = {
    PasswordChangeRequired: HTTP_401_UNAUTHORIZED,
    NotFound: HTTP_404_NOT_FOUND,
    PermissionDenied: HTTP_403_FORBIDDEN,
    AuthenticationFailed: HTTP_401_UNAUTHORIZED,
    Throttled: HTTP_429_TOO_MANY_REQUESTS,
    InvalidInput: HTTP_422_UNPROCESSABLE_ENTITY,
    PolicyViolation: HTTP_422_UNPROCESSABLE_ENTITY,
    Conflict: HTTP_409_CONFLICT,
    ServiceUnavailable: HTTP_503_SERVICE_UNAVAILABLE,
}

# Problems that do not come from the domain: the request could not be parsed, no or a bad token, a role missing,
# no such route or method, an unexpected error. Each has one stable code.
HTTP_CODES: Final[Mapping[int, str]] = {
    HTTP_400_BAD_REQUEST: "invalid_request",
    HTTP_401_UNAUTHORIZED: "authentication_required",
    HTTP_403_FORBIDDEN: "permission_denied",
    HTTP_404_NOT_FOUND: "not_found",
    HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    HTTP_413_REQUEST_ENTITY_TOO_LARGE: "request_too_large",
    HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    HTTP_429_TOO_MANY_REQUESTS: "throttled",
    HTTP_500_INTERNAL_SERVER_ERROR: "internal_error",
    HTTP_503_SERVICE_UNAVAILABLE: "service_unavailable",
}

TITLES: Final = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


def status_for(exc: DomainError | type[DomainError]) -> int:
    cls = exc if isinstance(exc, type) else type(exc)
    for base in cls.__mro__:
        if base in DOMAIN_STATUS:
            return DOMAIN_STATUS[base]
    return HTTP_400_BAD_REQUEST


def http_code(status: int) -> str:
    return HTTP_CODES.get(status, "http_error")


def _subclasses(cls: type[DomainError]) -> Iterator[type[DomainError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def domain_errors() -> dict[str, type[DomainError]]:
    """Every domain error by its code (the classes imported so far: the app imports every use case it serves)."""
    errors: dict[str, type[DomainError]] = {}
    classes: list[type[DomainError]] = [DomainError, *_subclasses(DomainError)]
    for cls in classes:
        known = errors.setdefault(cls.code, cls)
        if known is not cls and status_for(known) != status_for(cls):
            raise RuntimeError(f"the problem code {cls.code!r} is used with two statuses ({known!r}, {cls!r})")
    return errors


async def ids_in_range(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """An integer path parameter outside the ids the database can hold names nothing: 404, before any query
    (SQLite overflows above 2**63, PostgreSQL refuses more than 32 bits). A coroutine function, as every guard
    (see ess/routes/guards.py): Litestar would run a plain function in a worker thread."""
    for value in connection.path_params.values():
        if isinstance(value, int) and not ID_MIN <= value <= ID_MAX:
            raise NotFoundException("No such resource.")
