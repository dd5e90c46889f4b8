"""Input hygiene, property-based: control characters in any text of any operation (API and pages) are a 422 naming
the field, ids beyond what the database holds are 404, no answer is a 5xx, and every API 4xx is problem+json; on
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from ess.app import create_app
from ess.bootstrap import build_container
from ess.routes.hygiene import is_clean
from ess.settings import Settings
from tests.conftest import make_settings
from tests.e2e.conftest import seed
from tests.e2e.helpers import PASSWORD, csrf_token, log_in

CONTROL = [chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))]
# Text with at least one control character that a multi-line field refuses too (not a newline or tab).
dirty_text = st.builds(
    lambda before, char, after: before + char + after,
    st.text(max_size=8),
    st.sampled_from([c for c in CONTROL if c not in "\n\r\t"]),
    st.text(max_size=8),
)
huge_ids = st.integers(min_value=2**31, max_value=2**70)
# Plausible values for the parts of a request that are not the text under test.
PLAIN: dict[str, Any] = {"string": "plain", "integer": 1, "number": 1, "boolean": False, "array": [], "object": {}}
FORMATS: dict[str, str] = {"date": "2027-03-01", "date-time": "2027-03-01T09:00:00Z", "email": "a@example.org"}
FORM_FIELDS = ("username", "note", "comment", "first_name", "email", "next", "x")


async def provision_hr(settings_: Settings) -> None:
    container = build_container(settings_)
    try:
        assert container.local_directory is not None
        await container.local_directory.provision("hanna.berger", password=PASSWORD, groups=[])
    finally:
        await container.close()


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient[Litestar]]:
    app_settings = make_settings(database_url)
    asyncio.run(seed(app_settings))
    asyncio.run(provision_hr(app_settings))
    with TestClient(app=create_app(app_settings), base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return resolve(document, next(s for s in schema[key] if s.get("type") != "null"))
    return schema


def sample(document: dict[str, Any], schema: dict[str, Any], text: str) -> Any:
    """A value of this schema with `text` in every string it holds (one nesting level deep for objects)."""
    schema = resolve(document, schema)
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "string":
        # Dates and the like stay valid, so that the text reaches the use case (and the database) unless refused.
        return FORMATS.get(schema.get("format", ""), text)
    if kind == "object":
        return {name: sample(document, prop, text) for name, prop in schema.get("properties", {}).items()}
    if kind == "array":
        return [sample(document, schema.get("items", {}), text)]
    return PLAIN.get(str(kind), "plain")


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method.upper(), path, operation


def bearer(client: TestClient[Litestar], login: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"username": login, "password": PASSWORD})
    assert response.status_code in (200, 201), response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def fields_named(response: httpx.Response) -> set[str]:
    return {str(e["field"]).split(".")[0].split("[")[0] for e in response.json().get("errors", [])}


def check_api(
    client: TestClient[Litestar], document: dict[str, Any], headers: dict[str, str], text: str, huge_id: int
) -> list[str]:
    problems = []
    for method, path, operation in operations(document):
        params = {p["name"]: p for p in operation.get("parameters", [])}
        path_values = {
            n: huge_id if resolve(document, p["schema"]).get("type") == "integer" else text
            for n, p in params.items()
            if p["in"] == "path"
        }
        query = {n: text for n, p in params.items() if p["in"] == "query"}
        body_schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        body = sample(document, body_schema, text) if body_schema else None
        url = path.format(**{name: quote(str(value), safe="") for name, value in path_values.items()})
        response = client.request(method, url, params=query, json=body, headers=headers)
        expected = 404 if path_values else 422 if (query or body_schema) else None
        where = f"{method} {path}"
        if response.status_code >= 500:
            problems.append(f"{where}: {response.status_code}")
        elif response.status_code >= 400 and response.headers["content-type"] != "application/problem+json":
            problems.append(f"{where}: {response.status_code} is not problem+json")
        elif expected is not None and response.status_code != expected:
            problems.append(f"{where}: {response.status_code}, not {expected}")
        elif expected == 422 and not fields_named(response) & {*query, *(body or {})}:
            problems.append(f"{where}: 422 names no field")
    return problems


def check_pages(client: TestClient[Litestar], app: Litestar, text: str) -> list[str]:
    problems = []
    token = csrf_token(client, "/")
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(("/api/", "/health/", "/schema", "/static")):
            continue
        path = route.path_format.format(**dict.fromkeys(route.path_parameters, 1))
        for method in sorted(set(route.methods) - {"GET", "HEAD", "OPTIONS"}):
            data = {"_csrf_token": token, **dict.fromkeys(FORM_FIELDS, text)}
            response = client.request(method, path, data=data, follow_redirects=False)
            if response.status_code != 422:
                problems.append(f"{method} {path}: {response.status_code}, not 422")
            elif not all(f"<code>{field}</code>" in response.text for field in FORM_FIELDS):
                problems.append(f"{method} {path}: the page does not name every field")
    return problems


def test_control_characters_and_huge_ids_on_every_operation(client: TestClient[Litestar]) -> None:
    app: Litestar = client.app
    document = app.openapi_schema.to_schema()
    callers = [{}, *(bearer(client, login) for login in ("anna.schmidt", "markus.weber", "hanna.berger", "admin"))]
    log_in(client, "hanna.berger", PASSWORD)
    found: list[str] = []

    @settings(
        max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(text=dirty_text, huge_id=huge_ids)
    def every_operation(text: str, huge_id: int) -> None:
        assert not is_clean(text, multiline=True)
        for headers in callers:
            found.extend(check_api(client, document, headers, text, huge_id))
        found.extend(check_pages(client, app, text))

    every_operation()
    assert sorted(set(found)) == []


def test_multiline_fields_keep_newlines_and_tabs_and_single_line_fields_refuse_them(
    client: TestClient[Litestar],
) -> None:
    anna = bearer(client, "anna.schmidt")
    body = {"start": "2027-03-01", "end": "2027-03-02", "note": "Line one\n\tline two", "substitute": "P10012"}
    created = client.post("/api/v1/me/leave-requests", json=body, headers=anna)
    assert created.status_code == 201, created.text
    assert created.json()["note"] == "Line one\n\tline two"
    body |= {"start": "2027-04-01", "end": "2027-04-01", "substitute": "Max\nMustermann"}
    refused = client.post("/api/v1/me/leave-requests", json=body, headers=anna)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"] == [
        {
            "field": "substitute",
            "message": "Steuerzeichen sind nicht erlaubt in: substitute.",
            "code": "control_characters",
        }
    ]
    assert refused.json()["rule"] == "control_characters"
    nul = client.post("/api/v1/me/leave-requests", json=body | {"substitute": "", "note": "a\x00b"}, headers=anna)
    assert nul.status_code == 422
    assert nul.json()["errors"][0]["field"] == "note"


def test_a_deep_body_with_a_control_character_is_refused_not_a_500(sqlite_url: str) -> None:
    """The check walks every string of a JSON body without recursion: a body as deep as the decoder accepts (here
    900 levels) still gets its per-field answer."""
    deep: Any = {"note": "a\u0000b"}
    for _ in range(900):
        deep = [deep]
    with TestClient(app=create_app(make_settings(sqlite_url))) as client:
        answer = client.post("/api/v1/auth/token", json={"username": deep, "password": "x"})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    (error,) = answer.json()["errors"]
    assert error["field"] == "username" + "[0]" * 900 + ".note"
