"""Input hygiene in one place: no text that reaches a route may carry control characters (NUL breaks PostgreSQL,
directories and logs alike), nor lone surrogates (they cannot be stored as UTF-8). Multi-line fields keep newlines and
tabs. A refusal is a 422 that names the field, before any handler, use case or query sees the value."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Any, Final

import msgspec
from litestar.connection import ASGIConnection
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler

from ess.domain.errors import InvalidInput
from ess.routes.problems import ids_in_range

# The rule of the refusal: the error page lists the fields for it.
CONTROL_CHARACTERS: Final = "control_characters"
# The fields typed into a text area: a leave note, decision and rejection comments, an adjustment's reason.
MULTILINE_FIELDS: Final = frozenset({"note", "comment", "reason"})
LINE_BREAKS: Final = frozenset("\n\r\t")
REFUSED: Final = "must not contain control characters"
BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_clean(value: str, *, multiline: bool = False) -> bool:
    """No control characters (Unicode category Cc, so C0, DEL and C1) and no lone surrogates; multi-line text may
    hold newlines and tabs."""
    for char in value:
        category = unicodedata.category(char)
        if category == "Cs" or (category == "Cc" and not (multiline and char in LINE_BREAKS)):
            return False
    return True


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string in a decoded JSON value, with the dotted path of the field it sits in (keys are fields too).
    Walked with a stack, not by recursion: however deep a body the decoder accepted, this never runs out of stack."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        current, where = stack.pop()
        if isinstance(current, str):
            yield where, current
        elif isinstance(current, dict):
            for key, item in current.items():
                field = f"{where}.{key}" if where else str(key)
                yield field, str(key)
                stack.append((item, field))
        elif isinstance(current, list):
            stack.extend((item, f"{where}[{index}]" if where else f"[{index}]") for index, item in enumerate(current))


def _refuse_dirty(pairs: Iterator[tuple[str, str]]) -> None:
    dirty = {}
    for field, value in pairs:
        last = field.rsplit(".", 1)[-1].split("[", 1)[0]
        if field not in dirty and not is_clean(value, multiline=last in MULTILINE_FIELDS):
            dirty[field] = REFUSED
    if dirty:
        raise InvalidInput(
            "Control characters are not allowed in: %(fields)s.",
            fields=dirty,
            rule=CONTROL_CHARACTERS,
            params={"fields": ", ".join(sorted(dirty))},
        )


async def clean_input(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """An app-wide guard: path parameters with control characters name nothing (404); query parameters, JSON bodies
    and forms with them are refused per field (422)."""
    if any(isinstance(v, str) and not is_clean(v) for v in connection.path_params.values()):
        raise NotFoundException("No such resource.")
    _refuse_dirty((name, value) for name, values in connection.query_params.dict().items() for value in values)
    method = connection.scope.get("method", "GET")
    if method not in BODY_METHODS:
        return
    request: Any = connection
    content_type, _ = request.content_type
    if content_type in (RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART):
        form = await request.form()
        _refuse_dirty((name, value) for name, value in form.multi_items() if isinstance(value, str))
    elif content_type.endswith("json"):
        try:
            decoded = msgspec.json.decode(await request.body())
        except (msgspec.DecodeError, RecursionError):
            return  # the handler's own parsing answers 400 (malformed, or nested too deeply to read)
        _refuse_dirty(_strings(decoded, ""))


async def request_checks(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The app-wide checks (`ids_in_range`, then `clean_input`) as the app's one guard: Litestar copies the route
    handler for each guard it calls, and the copy cost more than both checks."""
    await ids_in_range(connection, handler)
    await clean_input(connection, handler)
