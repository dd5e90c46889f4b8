"""CSRF tokens are bound to the browser's session: a token made for any other session is refused on every form."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from ess.app import create_app
from ess.settings import Settings
from tests.conftest import make_settings
from tests.e2e.helpers import PASSWORD, csrf_token, log_in

SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
NOT_PAGES = ("/api/", "/health/", "/schema", "/static")
# A planted cookie: what a sibling host of the intranet can set for the victim's browser.
PLANTED_PRESESSION = "ess_presession"


def form_routes(app: Litestar) -> list[tuple[str, str]]:
    """Every unsafe method of every page route (not hand-picked), with its path parameters filled in."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(NOT_PAGES):
            continue
        values = {name: 1 if p.type is int else "x" for name, p in route.path_parameters.items()}
        path = route.path_format.format(**values)
        found += [(method, path) for method in sorted(set(route.methods) - SAFE)]
    return sorted(found, key=lambda item: item[1] == "/logout")  # logging out last keeps the session for the rest


def refused_for_csrf(response: httpx.Response) -> bool:
    return response.status_code == 403 and 'data-refusal="csrf"' in response.text


def cookies_of(client: TestClient[Litestar]) -> httpx.Cookies:
    return httpx.Cookies(client.cookies)


@pytest.fixture
def forms(app: Litestar) -> list[tuple[str, str]]:
    routes = form_routes(app)
    # The enumeration finds the forms this test was written against, and more when routes are added.
    assert {("POST", "/login"), ("POST", "/vacation/requests"), ("POST", "/password/forgot")} <= set(routes)
    return routes


def test_a_token_from_another_session_is_refused_on_every_form(
    client: TestClient[Litestar], forms: list[tuple[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    # The attacker's own pre-login session and token, then their own logged-in session and token.
    attacker_pre_token = csrf_token(client, "/login")
    attacker_presession = client.cookies.get(PLANTED_PRESESSION)
    assert attacker_presession
    log_in(client, "markus.weber", PASSWORD)
    attacker_token = csrf_token(client, "/")
    assert attacker_token != attacker_pre_token

    client.cookies = httpx.Cookies()
    assert log_in(client, "anna.schmidt", PASSWORD).status_code == 303
    client.cookies.set(PLANTED_PRESESSION, attacker_presession, domain="127.0.0.1")
    victim = cookies_of(client)
    refused = []
    for method, path in forms:
        for token in (attacker_token, attacker_pre_token):
            client.cookies = httpx.Cookies(victim)
            by_form = client.request(method, path, data={"_csrf_token": token}, follow_redirects=False)
            by_header = client.request(method, path, headers={"x-csrftoken": token}, follow_redirects=False)
            refused.append(refused_for_csrf(by_form) and refused_for_csrf(by_header))
    assert refused == [True] * (2 * len(forms))
    with capsys.disabled():
        print(f"\nplanted tokens refused on {len(forms)} of {len(forms)} forms (logged-in victim)")  # noqa: T201

    # The check can fail: the victim's own token passes the CSRF check on each of those forms.
    own_token_passes = []
    for method, path in forms:
        client.cookies = httpx.Cookies(victim)
        response = client.request(method, path, data={"_csrf_token": csrf_token(client, "/")}, follow_redirects=False)
        own_token_passes.append(not refused_for_csrf(response))
    assert own_token_passes == [True] * len(forms)


def test_before_login_a_token_from_another_pre_login_session_is_refused_on_every_form(
    client: TestClient[Litestar], forms: list[tuple[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    attacker_token = csrf_token(client, "/login")
    attacker_presession = client.cookies.get(PLANTED_PRESESSION)
    client.cookies = httpx.Cookies()
    victim_token = csrf_token(client, "/login")
    victim = cookies_of(client)
    assert victim.get(PLANTED_PRESESSION) != attacker_presession

    refused, own_passes = [], []
    for method, path in forms:
        client.cookies = httpx.Cookies(victim)
        refused.append(refused_for_csrf(client.request(method, path, data={"_csrf_token": attacker_token})))
        # Nor does a cookie-less browser get through with the attacker's cookie and token replayed in a form only.
        client.cookies = httpx.Cookies()
        refused.append(refused_for_csrf(client.request(method, path, data={"_csrf_token": attacker_token})))
        client.cookies = httpx.Cookies(victim)
        own = client.request(method, path, data={"_csrf_token": victim_token}, follow_redirects=False)
        own_passes.append(not refused_for_csrf(own))
    assert refused == [True] * (2 * len(forms))
    assert own_passes == [True] * len(forms)
    with capsys.disabled():
        print(f"\nplanted pre-login tokens refused on {len(forms)} of {len(forms)} forms (anonymous victim)")  # noqa: T201


def test_the_token_changes_with_the_session_at_login_and_logout(client: TestClient[Litestar]) -> None:
    before = csrf_token(client, "/login")
    log_in(client, "anna.schmidt", PASSWORD)
    during = csrf_token(client, "/")
    client.post("/logout", data={"_csrf_token": during})
    after = csrf_token(client, "/login")
    assert len({before, during, after}) == 2  # the pre-login session outlives the login; its token comes back
    assert during not in (before, after)
    # A token of the ended session is worthless now.
    assert refused_for_csrf(client.post("/language", data={"_csrf_token": during, "lang": "en"}))


@pytest.fixture
def https_client(sqlite_url: str, settings: Settings) -> Iterator[TestClient[Litestar]]:
    tls_settings = make_settings(sqlite_url, ESS_BASE_URL="https://ess.example.org")
    with TestClient(app=create_app(tls_settings), base_url="https://ess.example.org") as client:
        yield client


def test_over_https_the_cookies_are_host_prefixed_and_secure(https_client: TestClient[Litestar]) -> None:
    first = https_client.get("/login")
    (pre,) = first.headers.get_list("set-cookie")
    assert pre.startswith("__Host-ess_presession=")
    assert "Secure" in pre and "Path=/" in pre and "Domain" not in pre
    response = log_in(https_client, "anna.schmidt", PASSWORD)
    (session,) = [c for c in response.headers.get_list("set-cookie") if "ess_session" in c]
    assert session.startswith("__Host-ess_session=")
    assert "Secure" in session and "HttpOnly" in session and "Domain" not in session
    assert https_client.get("/", follow_redirects=False).status_code == 200
    # A cookie without the prefix (what a sibling host could set) is not the session.
    value = https_client.cookies.get("__Host-ess_session")
    https_client.cookies = httpx.Cookies()
    https_client.cookies.set("ess_session", value or "", domain="ess.example.org")
    assert https_client.get("/", follow_redirects=False).status_code == 303
