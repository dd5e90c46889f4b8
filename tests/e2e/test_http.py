"""The whole app over HTTP (in-process ASGI): login, sessions, CSRF, headers, API tokens, problem+json, health."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from ess.app import create_app
from ess.bootstrap import build_container
from ess.settings import Settings
from tests.conftest import make_settings
from tests.e2e.helpers import PASSWORD, app_at_a_window_start, csrf_token, log_in


def error_message(html: str) -> str:
    match = re.search(r'<div class="error-summary" role="alert" id="login-error">\s*<p>(.*?)</p>', html, re.S)
    assert match is not None, "no error message on the page"
    return match.group(1)


def test_anna_logs_in_and_is_greeted_by_name(client: TestClient[Litestar]) -> None:
    response = log_in(client, "anna.schmidt", PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    start = client.get("/")
    assert start.status_code == 200
    assert "Anna Schmidt" in start.text
    for link in ('href="/profile"', 'href="/contact"', 'class="skip-link" href="#main"'):
        assert link in start.text
    profile = client.get("/profile")
    assert "anna.schmidt@example-ess.test" in profile.text
    assert "Markus Weber" in profile.text


def test_wrong_password_and_unknown_login_get_the_same_answer(client: TestClient[Litestar]) -> None:
    wrong = log_in(client, "anna.schmidt", "not her password")
    unknown = log_in(client, "nobody.here", "not her password")
    assert wrong.status_code == unknown.status_code == 401
    assert error_message(wrong.text) == error_message(unknown.text)
    assert "ess_session" not in wrong.headers.get("set-cookie", "")


def test_a_form_post_without_csrf_token_is_rejected(client: TestClient[Litestar]) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": "anna.schmidt", "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403
    assert "ess_session" not in response.headers.get("set-cookie", "")
    forged = client.post(
        "/login",
        data={"_csrf_token": "0" * 128, "username": "anna.schmidt", "password": PASSWORD},
        follow_redirects=False,
    )
    assert forged.status_code == 403


def test_login_issues_a_new_session_id_and_logout_ends_it(client: TestClient[Litestar]) -> None:
    client.cookies.set("ess_session", "planted-by-an-attacker", domain="127.0.0.1")
    log_in(client, "anna.schmidt", PASSWORD)
    session_id = client.cookies.get("ess_session", domain="127.0.0.1")
    assert session_id
    assert session_id != "planted-by-an-attacker"
    assert client.get("/", follow_redirects=False).status_code == 200

    response = client.post("/logout", data={"_csrf_token": csrf_token(client, "/")}, follow_redirects=False)
    assert response.status_code == 303
    client.cookies.set("ess_session", session_id, domain="127.0.0.1")  # replaying the old cookie must not work
    again = client.get("/", follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"].startswith("/login?next=")


def test_pages_need_a_session_and_come_back_after_login(client: TestClient[Litestar]) -> None:
    response = client.get("/profile", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fprofile"
    after = log_in(client, "anna.schmidt", PASSWORD, next_="/profile")
    assert after.headers["location"] == "/profile"


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_no_open_redirect_after_login(client: TestClient[Litestar], target: str) -> None:
    response = log_in(client, "anna.schmidt", PASSWORD, next_=target)
    assert response.headers["location"] == "/"


def test_repeated_failures_are_throttled_alike_for_known_and_unknown_logins(settings: Settings) -> None:
    answers = {}
    with TestClient(app=app_at_a_window_start(settings), base_url="http://127.0.0.1:8000") as client:
        for login in ("markus.weber", "no.such.person"):
            # Strangers' tries per login: 2 at once, the third later in the window (docs/security.md).
            for _ in range(2):
                assert log_in(client, login, "wrong").status_code == 401
            blocked = log_in(client, login, PASSWORD if login == "markus.weber" else "wrong")
            answers[login] = (blocked.status_code, error_message(blocked.text), blocked.headers.get("retry-after"))
    assert answers["markus.weber"] == answers["no.such.person"]
    assert answers["markus.weber"][0] == 429


def test_security_headers_on_pages_and_api(client: TestClient[Litestar]) -> None:
    for path in ("/login", "/api/v1/me", "/health/live", "/static/ess.css", "/nowhere"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert "script-src 'self'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in headers  # plain http: HSTS would be meaningless
    assert client.get("/login").headers["cache-control"] == "no-store"


def test_hsts_when_served_over_tls(sqlite_url: str) -> None:
    app = create_app(make_settings(sqlite_url, ESS_BASE_URL="https://ess.example.com"))
    with TestClient(app=app, base_url="https://ess.example.com") as client:
        response = client.get("/login")
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert "secure" in response.headers["set-cookie"].lower()


def test_the_session_cookie_is_http_only_and_same_site(client: TestClient[Litestar]) -> None:
    response = log_in(client, "anna.schmidt", PASSWORD)
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("ess_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie


def test_german_by_default_english_by_choice_or_browser(client: TestClient[Litestar]) -> None:
    german = client.get("/login")
    assert '<html lang="de">' in german.text
    assert "Anmelden" in german.text
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.text
    assert "Log in" in english.text
    response = client.post(
        "/language", data={"_csrf_token": csrf_token(client), "lang": "en", "next": "/contact"}, follow_redirects=False
    )
    assert response.headers["location"] == "/contact"
    assert '<html lang="en">' in client.get("/contact").text


def test_the_contact_page_is_open_to_everyone(client: TestClient[Litestar]) -> None:
    page = client.get("/contact")
    assert page.status_code == 200
    assert "personal@example-ess.test" in page.text
    assert "it-servicedesk@example-ess.test" in page.text


def test_api_token_for_a_demo_account_is_accepted_by_me(client: TestClient[Litestar]) -> None:
    response = client.post("/api/v1/auth/token", json={"username": "anna.schmidt", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_at"}
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["login"] == "anna.schmidt"
    assert me.json()["roles"] == ["employee"]
    assert me.json()["personnel_number"].startswith("P")

    manager = client.post("/api/v1/auth/token", json={"username": "markus.weber", "password": PASSWORD}).json()
    roles = client.get("/api/v1/me", headers={"Authorization": f"Bearer {manager['access_token']}"}).json()["roles"]
    assert roles == ["employee", "manager"]
    admin = client.post("/api/v1/auth/token", json={"username": "admin", "password": PASSWORD}).json()
    assert (
        "admin"
        in client.get("/api/v1/me", headers={"Authorization": f"Bearer {admin['access_token']}"}).json()["roles"]
    )


def test_revoked_tokens_and_missing_tokens_get_problem_json(client: TestClient[Litestar]) -> None:
    token = client.post("/api/v1/auth/token", json={"username": "anna.schmidt", "password": PASSWORD}).json()[
        "access_token"
    ]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.delete("/api/v1/auth/token", headers=auth).status_code == 204
    revoked = client.get("/api/v1/me", headers=auth)
    assert revoked.status_code == 401
    assert revoked.headers["content-type"] == "application/problem+json"
    assert revoked.json()["status"] == 401
    assert revoked.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/api/v1/me").status_code == 401


def test_api_login_failures_are_identical_and_need_no_csrf(client: TestClient[Litestar]) -> None:
    wrong = client.post("/api/v1/auth/token", json={"username": "anna.schmidt", "password": "wrong"})
    unknown = client.post("/api/v1/auth/token", json={"username": "ghost", "password": "wrong"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.headers["content-type"] == "application/problem+json"


def test_invalid_api_input_is_a_problem_with_field_errors(client: TestClient[Litestar]) -> None:
    response = client.post("/api/v1/auth/token", json={"username": "anna.schmidt"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"]


def test_a_browser_session_does_not_authorize_the_api(client: TestClient[Litestar]) -> None:
    log_in(client, "anna.schmidt", PASSWORD)
    assert client.get("/", follow_redirects=False).status_code == 200
    assert client.get("/api/v1/me").status_code == 401


def test_openapi_31_with_an_operation_id_on_every_route(client: TestClient[Litestar]) -> None:
    document = client.get("/schema/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    operations = [op for item in document["paths"].values() for op in item.values() if isinstance(op, dict)]
    assert len(operations) >= 5
    assert all(op.get("operationId") for op in operations)
    assert "/api/v1/auth/token" in document["paths"]
    assert "/api/v1/me" in document["paths"]


def test_health_live_and_ready(client: TestClient[Litestar]) -> None:
    assert client.get("/health/live").json() == {"status": "ok", "checks": {}}
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "directory": "ok"}


def test_ready_reports_an_unreachable_database(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/that/is/a/file/ess.db")
    (tmp_path / "missing").write_text("not a directory")
    with pytest.raises(OSError):
        create_app(settings)
    bad = make_settings(f"sqlite+aiosqlite:///{tmp_path}/not-migrated.db")
    with TestClient(app=create_app(bad)) as client:
        ready = client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert ready.json()["checks"]["directory"] == "unavailable"


def test_logins_and_logouts_are_audited_without_secrets(client: TestClient[Litestar], settings: Settings) -> None:
    log_in(client, "anna.schmidt", "wrong-password-canary")
    log_in(client, "anna.schmidt", PASSWORD)
    client.post("/logout", data={"_csrf_token": csrf_token(client, "/")})

    async def events() -> list[tuple[str, str, str, str]]:
        container = build_container(settings)
        try:
            async with container.new_uow() as uow:
                recent = await uow.audit.recent(actor="anna.schmidt")
            return [(e.action, e.outcome.value, e.client_address, str(e.details)) for e in reversed(recent)]
        finally:
            await container.close()

    recorded = asyncio.run(events())
    assert [(a, o) for a, o, _, _ in recorded] == [
        ("auth.login", "failure"),
        ("auth.login", "success"),
        ("auth.logout", "success"),
    ]
    assert all(client_address == "testclient" for _, _, client_address, _ in recorded)
    assert not any("canary" in details or PASSWORD in details for _, _, _, details in recorded)


def test_anna_changes_her_password_in_the_page_and_logs_in_with_it(client: TestClient[Litestar]) -> None:
    log_in(client, "anna.schmidt", PASSWORD)
    token = csrf_token(client, "/password")
    rejected = client.post(
        "/password",
        data={
            "_csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "short",
            "new_password_repeat": "shorter",
        },
    )
    assert rejected.status_code == 422
    assert "aria-invalid" in rejected.text
    assert "12" in rejected.text  # the minimum length is named
    changed = client.post(
        "/password",
        data={
            "_csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "Grüße aus Zürich 🔑 2026",
            "new_password_repeat": "Grüße aus Zürich 🔑 2026",
        },
    )
    assert changed.status_code == 200
    assert 'role="status"' in changed.text
    client.post("/logout", data={"_csrf_token": csrf_token(client, "/")})
    assert log_in(client, "anna.schmidt", PASSWORD).status_code == 401
    assert log_in(client, "anna.schmidt", "Grüße aus Zürich 🔑 2026").status_code == 303
