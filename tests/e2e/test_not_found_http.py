"""Uniform not-found: an object the caller may not see answers exactly like one that does not exist, on every route."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from ess.bootstrap import build_container
from ess.settings import Settings
from tests.conftest import make_settings
from tests.e2e.conftest import seed
from tests.e2e.helpers import PASSWORD, csrf_token, log_in

# Callers who may not see anna.schmidt's objects: an employee and a manager of other teams.
OUTSIDERS = ("tobias.huber", "florian.bauer")
UNKNOWN_ID = 2**31 - 1
SKIPPED_METHODS = frozenset({"HEAD", "OPTIONS"})


async def provision_more(settings: Settings) -> None:
    container = build_container(settings)
    try:
        assert container.local_directory is not None
        for login in OUTSIDERS:
            await container.local_directory.provision(login, password=PASSWORD, groups=[])
    finally:
        await container.close()


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    settings = make_settings(sqlite_url)
    asyncio.run(seed(settings))
    asyncio.run(provision_more(settings))
    return settings


def bearer(client: TestClient[Litestar], login: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"username": login, "password": PASSWORD})
    assert response.status_code in (200, 201), response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def annas_objects(client: TestClient[Litestar]) -> Iterator[dict[str, object]]:
    """Anna's leave request and profile change request, her personnel number and login: the hidden objects."""
    anna = bearer(client, "anna.schmidt")
    leave = client.post("/api/v1/me/leave-requests", json={"start": "2027-03-01", "end": "2027-03-02"}, headers=anna)
    assert leave.status_code == 201, leave.text
    change = client.patch(
        "/api/v1/me/profile", json={"changes": {"first_name": "Anna", "last_name": "Weber"}}, headers=anna
    )
    assert change.status_code == 200, change.text
    asked = client.post(
        "/api/v1/me/help-requests",
        json={"topic": "leave", "subject": "Frage", "message": "Wie viele Tage habe ich noch?"},
        headers=anna,
    )
    assert asked.status_code == 201, asked.text
    yield {
        "help": asked.json()["id"],
        "leave": leave.json()["id"],
        "change": change.json()["requested"][0]["id"],
        "personnel_number": "P10011",
        "login": "anna.schmidt",
    }


def hidden_and_unknown(path: str, name: str, param_type: type, objects: dict[str, object]) -> tuple[object, object]:
    """The value naming anna's object for this path parameter, and one naming nothing. A parameter this test does
    not know fails it: a new route with an object must be added here."""
    if param_type is int:
        kind = "change" if "change-requests" in path or "/profile/requests" in path else "leave"
        kind = "help" if "/help-requests" in path or "/help-desk" in path else kind
        return objects[kind], UNKNOWN_ID
    if name == "personnel_number":
        return objects["personnel_number"], "P99999"
    if name == "login":
        return objects["login"], "no.such.login"
    if name == "section":
        return "contact", "contact"  # a part of the caller's own profile: nobody else's object
    if name == "slug":
        # Help articles: published ones are public; an unpublished one answers like a missing one (test_help_http).
        return "a-draft-of-the-editors", "no-such-article"
    if name in ("token", "feed_token"):
        return "a-token-of-someone-else", "a-token-of-nobody"  # a capability: knowing it is the permission
    raise AssertionError(f"unknown path parameter {name!r} on {path}")


def routes_with_objects(app: Litestar) -> list[tuple[str, str, dict[str, tuple[str, type]]]]:
    found = []
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path_parameters and not route.path.startswith(("/static", "/schema")):
            params = {name: (name, p.type) for name, p in route.path_parameters.items()}
            found += [(m, route.path_format, params) for m in sorted(set(route.methods) - SKIPPED_METHODS)]
    return found


def ask(
    client: TestClient[Litestar], method: str, path: str, headers: dict[str, str], csrf: str | None
) -> httpx.Response:
    if path.startswith("/api/"):
        body = {"json": {"comment": "x"}} if method in ("POST", "PATCH", "PUT") else {}
        return client.request(method, path, headers=headers, follow_redirects=False, **body)  # type: ignore[arg-type]
    data = {"_csrf_token": csrf, "decision": "approve", "comment": "x"} if method != "GET" else None
    return client.request(method, path, data=data, follow_redirects=False)


def _without(text: str, path: str) -> str:
    return text.replace(path, "~").replace(quote(path, safe=""), "~")


def test_hidden_objects_answer_like_missing_ones_on_every_route(
    client: TestClient[Litestar], app: Litestar, annas_objects: dict[str, object]
) -> None:
    routes = routes_with_objects(app)
    assert any("/manager/leave-requests/" in path for _, path, _ in routes)
    differing, not_found = [], 0
    for outsider in OUTSIDERS:
        client.cookies = httpx.Cookies()
        headers = bearer(client, outsider)
        log_in(client, outsider, PASSWORD)
        csrf = csrf_token(client, "/")
        for method, path_format, params in routes:
            hidden_values, unknown_values = {}, {}
            for name, (_, param_type) in params.items():
                hidden_values[name], unknown_values[name] = hidden_and_unknown(
                    path_format, name, param_type, annas_objects
                )
            hidden_path, unknown_path = path_format.format(**hidden_values), path_format.format(**unknown_values)
            hidden = ask(client, method, hidden_path, headers, csrf)
            unknown = ask(client, method, unknown_path, headers, csrf)
            # A page writes its own address (the language switch comes back to it): that is all that may differ.
            # So may the request id an error page shows for the helpdesk (new for every request, the same header).
            # "I need help" on an error page carries the page's address too, URL-encoded.
            hidden_text, unknown_text = (
                _without_request_id(_without(hidden.text, hidden_path), hidden.headers.get("x-request-id", "")),
                _without_request_id(_without(unknown.text, unknown_path), unknown.headers.get("x-request-id", "")),
            )
            if (hidden.status_code, hidden_text) != (unknown.status_code, unknown_text):
                differing.append((outsider, method, path_format, hidden.status_code, unknown.status_code))
            not_found += hidden.status_code == 404
    assert differing == []
    # The comparisons reached the objects: of the two callers' answers many are 404 for both; the others are role
    # refusals (403 whatever the id) and capability links.
    assert not_found >= len(routes) // 2


def test_deciding_another_teams_leave_request_is_404_like_an_unknown_id(
    client: TestClient[Litestar], annas_objects: dict[str, object]
) -> None:
    florian = bearer(client, "florian.bauer")
    for action in ("approve", "reject"):
        hidden = client.post(
            f"/api/v1/manager/leave-requests/{annas_objects['leave']}/{action}", json={}, headers=florian
        )
        unknown = client.post(f"/api/v1/manager/leave-requests/{UNKNOWN_ID}/{action}", json={}, headers=florian)
        assert hidden.status_code == unknown.status_code == 404
        assert hidden.json() == unknown.json()
        assert hidden.headers["content-type"] == "application/problem+json"
    # Her own manager still decides it.
    markus = bearer(client, "markus.weber")
    decided = client.post(f"/api/v1/manager/leave-requests/{annas_objects['leave']}/approve", json={}, headers=markus)
    assert decided.status_code == 200


def _without_request_id(text: str, request_id: str) -> str:
    assert request_id, "every answer carries its request id"
    return text.replace(request_id, "<request id>")
