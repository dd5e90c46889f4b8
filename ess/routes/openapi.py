"""Completes the OpenAPI document Litestar generates, in one place: the problem+json answers of every operation,
which operations need a token, and request bodies that refuse unknown fields.

What follows from the route itself is derived here: a guard means a bearer token and 401 (a role guard also 403),
a path parameter 404, a body or query parameters 400. What the use case can answer besides is declared on the
handler, by problem code: `@post(..., problems=["not_found", "conflict"])`; the status comes from the code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final

import msgspec
from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    Components,
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    PathItem,
    Reference,
    Schema,
)
from litestar.routes import HTTPRoute
from litestar.status_codes import HTTP_429_TOO_MANY_REQUESTS

from ess.domain.errors import InvalidInput
from ess.routes.guards import requires_login
from ess.routes.hygiene import request_checks
from ess.routes.problems import (
    HTTP_CODES,
    ID_MAX,
    ID_MIN,
    PROBLEM_JSON,
    PROBLEMS_OPT,
    TITLES,
    domain_errors,
    http_code,
    status_for,
)

PROBLEM: Final = "Problem"
FIELD_ERROR: Final = "ProblemFieldError"
# Guards that check the request, not the caller: they need no token.
REQUEST_GUARDS: Final[frozenset[Callable[..., Any]]] = frozenset({request_checks})
METHODS: Final = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# What each code means, for the descriptions in the document (and docs/api.md says the same).
MEANINGS: Final = {
    "invalid_request": "the request does not match this document (malformed JSON, a wrong type, a missing or "
    "unknown field, a value out of bounds); `errors` names the fields",
    "authentication_required": "no bearer token, or one that is unknown, expired or revoked",
    "permission_denied": "the caller's roles or relation to the object do not allow this",
    "not_found": "no such object, or none the caller may see",
    "conflict": "the object is not in a state that allows this (e.g. already decided)",
    "invalid_input": "the request is well-formed but a business rule refuses it; `errors` names the fields",
    "policy_violation": "a policy refuses it (e.g. not enough leave left)",
    "throttled": "too many attempts; wait for the number of seconds in `Retry-After`",
    "service_unavailable": "the directory, the mail server or another outside system does not answer; try later",
    "authentication_failed": "wrong login or password (the same answer for unknown logins)",
    "sso_refused": "the identity provider's token was refused (expired, forged, or its account is unknown, disabled "
    "or has no access to ESS), or single sign-on is not set up",
    "sso_required": "the password is right, but the account's role must sign in with single sign-on",
    "password_change_required": "the password has expired or must be changed first (on the login page)",
    "wrong_current_password": "the current password is not correct",
    "password_rejected": "the new password breaks the password rules; one entry per rule in `errors` (with `code`)",
    "directory_password_rejected": "the directory's own policy refused the new password; `errors[0].code` says why",
    "profile_rejected": "one or more entries are not valid; one entry per input in `errors`, nothing was stored",
    "recovery_link_invalid": "the link's token is unknown, used or expired",
    "second_factor_failed": "the TOTP, recovery or SMS code is wrong (or already used)",
    "no_recovery_address": "the account has no verified recovery e-mail address",
    "second_factor_required": "the password is right, but the account also needs a code (`totp`) from its "
    "authenticator app or one of its recovery codes",
    "second_factor_enrolment_required": "the account's role needs a second factor and none is set up: set one up "
    "in the browser first",
    "invalid_help_request": "a help request is incomplete, names an unknown topic, carries a context value that "
    "cannot be sent, or contains a password or code (never stored); `errors` names the fields",
}


def _ref(name: str) -> Reference:
    return Reference(ref=f"#/components/schemas/{name}")


def problem_components() -> dict[str, Schema]:
    string = Schema(type=OpenAPIType.STRING)
    return {
        FIELD_ERROR: Schema(
            type=OpenAPIType.OBJECT,
            title=FIELD_ERROR,
            required=["field", "message"],
            properties={
                "field": Schema(type=OpenAPIType.STRING, description="The input the message is about."),
                "message": Schema(type=OpenAPIType.STRING, description="In the caller's language where known."),
                "code": Schema(type=OpenAPIType.STRING, description="A stable code of the broken rule, where known."),
            },
        ),
        PROBLEM: Schema(
            type=OpenAPIType.OBJECT,
            title=PROBLEM,
            description="An error (RFC 9457). `code` is stable and machine-readable; `detail` is for people.",
            required=["type", "title", "status", "detail", "code"],
            properties={
                "type": Schema(type=OpenAPIType.STRING, const="about:blank"),
                "title": string,
                "status": Schema(type=OpenAPIType.INTEGER),
                "detail": string,
                "code": string,
                "rule": Schema(
                    type=OpenAPIType.STRING,
                    description="For a refusal of the domain: the broken rule, more precise than `code` "
                    "(e.g. `leave_end_before_start`; the same as `code` where there is nothing more to say).",
                ),
                "message": Schema(
                    type=OpenAPIType.STRING,
                    description="For a refusal of the domain: why, in the caller's language (Accept-Language).",
                ),
                "errors": Schema(type=OpenAPIType.ARRAY, items=_ref(FIELD_ERROR)),
                "help": Schema(
                    type=OpenAPIType.STRING,
                    description='Where a person asks HR or IT about this error ("Ich brauche Hilfe"): a path of the '
                    "web app with the error code and the request id.",
                ),
            },
        ),
    }


def _problem_response(
    status: int, codes: Iterable[str], *, retry_after: bool, www_authenticate: bool
) -> OpenAPIResponse:
    codes = sorted(set(codes))
    headers: dict[str, OpenAPIHeader | Reference] = {}
    if retry_after:
        headers["Retry-After"] = OpenAPIHeader(
            schema=Schema(type=OpenAPIType.INTEGER, minimum=0), required=True, description="Seconds to wait."
        )
    if www_authenticate:
        headers["WWW-Authenticate"] = OpenAPIHeader(
            schema=Schema(type=OpenAPIType.STRING), description="The bearer challenge, when no valid token was sent."
        )
    detail = Schema(
        type=OpenAPIType.OBJECT,
        properties={"status": Schema(type=OpenAPIType.INTEGER, const=status), "code": Schema(enum=list(codes))},
    )
    return OpenAPIResponse(
        description=f"{TITLES.get(status, 'Error')}: "
        + "; ".join(f"`{code}` {MEANINGS[code]}" if code in MEANINGS else f"`{code}`" for code in codes),
        headers=headers or None,
        content={PROBLEM_JSON: OpenAPIMediaType(schema=Schema(all_of=[_ref(PROBLEM), detail]))},
    )


def _operations(path_item: PathItem) -> Iterator[Operation]:
    for method in METHODS:
        operation = getattr(path_item, method, None)
        if isinstance(operation, Operation):
            yield operation


def _handlers(app: Litestar) -> dict[str, HTTPRouteHandler]:
    handlers: dict[str, HTTPRouteHandler] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                if handler.resolve_include_in_schema() and isinstance(handler.operation_id, str):
                    handlers[handler.operation_id] = handler
    return handlers


def _caller_guards(handler: HTTPRouteHandler) -> list[Callable[..., Any]]:
    """The guards on the caller, from the app down to the handler (as declared: Litestar wraps what it resolves)."""
    guards = (guard for layer in handler.ownership_layers for guard in layer.guards or [])
    return [guard for guard in guards if guard not in REQUEST_GUARDS]


def _problems_of(handler: HTTPRouteHandler, operation: Operation) -> dict[int, set[str]]:
    """Problem codes by status: derived from the route, plus those the handler declares."""
    known = domain_errors()
    guards = _caller_guards(handler)
    parameters = [p for p in operation.parameters or [] if isinstance(p, Parameter)]
    by_status: dict[int, set[str]] = {}

    def add(status: int, code: str) -> None:
        by_status.setdefault(status, set()).add(code)

    if operation.request_body is not None or any(p.param_in != "path" for p in parameters):
        add(400, http_code(400))
        add(422, InvalidInput.code)  # text with control characters (ess.routes.hygiene)
    if guards:
        add(401, http_code(401))
    if any(guard is not requires_login for guard in guards):
        add(403, http_code(403))
    if any(p.param_in == "path" for p in parameters):
        add(404, http_code(404))
    for code in handler.opt.get(PROBLEMS_OPT, ()):
        if code in known:
            add(status_for(known[code]), code)
        elif code in HTTP_CODES.values():
            add(next(status for status, name in HTTP_CODES.items() if name == code), code)
        else:
            raise ValueError(f"{handler.operation_id} declares the unknown problem code {code!r}")
    return by_status


def _bound_ids(operation: Operation) -> None:
    for parameter in operation.parameters or []:
        if (
            isinstance(parameter, Parameter)
            and parameter.param_in == "path"
            and isinstance(parameter.schema, Schema)
            and parameter.schema.type == OpenAPIType.INTEGER
        ):
            parameter.schema.minimum, parameter.schema.maximum = ID_MIN, ID_MAX


def _struct_types(annotation: Any) -> Iterator[msgspec.inspect.StructType]:
    """Every msgspec Struct a request body can contain (msgspec's own view of the type)."""
    pending = [msgspec.inspect.type_info(annotation)]
    seen: set[type] = set()
    while pending:
        info = pending.pop()
        if isinstance(info, msgspec.inspect.Metadata):
            pending.append(info.type)
        elif isinstance(info, msgspec.inspect.UnionType):
            pending.extend(info.types)
        elif isinstance(info, msgspec.inspect.ListType | msgspec.inspect.SetType | msgspec.inspect.FrozenSetType):
            pending.append(info.item_type)
        elif isinstance(info, msgspec.inspect.DictType):
            pending.append(info.value_type)
        elif isinstance(info, msgspec.inspect.StructType) and info.cls not in seen:
            seen.add(info.cls)
            yield info
            pending.extend(field.type for field in info.fields)


def _close_strict_bodies(handlers: Iterable[HTTPRouteHandler], components: Components) -> None:
    """Bodies whose Structs forbid unknown fields say so: `additionalProperties: false`."""
    strict: dict[str, bool] = {}
    for handler in handlers:
        data = handler.parsed_fn_signature.parameters.get("data")
        if data is None:
            continue
        for info in _struct_types(data.annotation):
            name = info.cls.__name__
            if strict.setdefault(name, info.forbid_unknown_fields) != info.forbid_unknown_fields:
                raise ValueError(f"two request structs named {name} differ in forbid_unknown_fields")
    for schema in (components.schemas or {}).values():
        if isinstance(schema, Schema) and schema.title and strict.get(schema.title):
            schema.additional_properties = False


def complete_on_first_build(app: Litestar) -> None:
    """Complete the app's OpenAPI document when Litestar first builds it (the first `/schema` request or
    `app.openapi_schema`), not at start: generating it for every operation is a good part of a cold start."""
    plugin = app.plugins.get(OpenAPIPlugin)
    # Litestar makes the plugin itself and has no hook for the finished document; its class (slots, no state of
    # its own) is changed for one that completes what Litestar builds. The plugin is still found by its type.
    plugin.__class__ = _CompletingOpenAPIPlugin


class _CompletingOpenAPIPlugin(OpenAPIPlugin):
    __slots__ = ()

    def _build_openapi(self) -> OpenAPI:
        return complete_document(self.app, super()._build_openapi())


def complete_document(app: Litestar, document: OpenAPI | None = None) -> OpenAPI:
    """Add the problem answers, security and closed bodies to the app's OpenAPI document (`document`, built from
    the app's routes; by default the one Litestar built and cached)."""
    document = app.openapi_schema if document is None else document
    handlers = _handlers(app)
    components = document.components if isinstance(document.components, Components) else Components()
    components.schemas = {**(components.schemas or {}), **problem_components()}
    document.components = components
    for path_item in (document.paths or {}).values():
        for operation in _operations(path_item):
            handler = handlers[str(operation.operation_id)]
            _bound_ids(operation)
            responses = dict(operation.responses or {})
            # Litestar's own 400 describes its default error body, which the API never sends.
            responses.pop("400", None)
            for status, codes in sorted(_problems_of(handler, operation).items()):
                responses[str(status)] = _problem_response(
                    status,
                    codes,
                    retry_after=status == HTTP_429_TOO_MANY_REQUESTS,
                    www_authenticate="authentication_required" in codes,
                )
            operation.responses = responses
            if not _caller_guards(handler):
                operation.security = []  # overrides the document's default (a bearer token)
    _close_strict_bodies(handlers.values(), components)
    return document
