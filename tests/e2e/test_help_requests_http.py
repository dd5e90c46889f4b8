"""Help requests over HTTP (the in-process app on SQLite): the person's requests by API and pages, the HR and IT queues
with topic-based visibility, authorization on every route, the logged-out request, and the mails that say only that
there is news."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from ess.app import create_app
from ess.domain.help_requests.records import SOLVED_BY_SELF_SERVICE
from tests.e2e.conftest import DEMO_PASSWORD
from tests.e2e.helpers import log_in
from tests.help_world import make_world

EMPLOYEE, OTHER, MANAGER, HR, HELPDESK = "anna.schmidt", "admin", "markus.weber", "hanna.berger", "ivan.petrovic"
CONTEXT = {"page": "/vacation", "step": "request leave", "error_code": "policy_violation", "request_id": "abc123"}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[TestClient[Litestar], Path]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ess.db'}"
    from tests.conftest import migrate  # noqa: PLC0415 - the conftest's own helper

    migrate(url)
    help_world = asyncio.run(make_world(url))
    settings = help_world.container.settings
    app = create_app(settings, container=help_world.container)
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client, Path(settings.mail.folder)


def test_an_article_opened_instead_counts_as_solved_by_self_service(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ess.db'}"
    from tests.conftest import migrate  # noqa: PLC0415 - the conftest's own helper

    migrate(url)
    help_world = asyncio.run(make_world(url))
    app = create_app(help_world.container.settings, container=help_world.container)
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as client:
        opened = client.get(
            "/help-requests/solved-by-article",
            params={"slug": "passwort-vergessen", "topic": "login"},
            follow_redirects=False,
        )
    assert opened.status_code == 303 and opened.headers["location"] == "/help/passwort-vergessen"

    async def events() -> list[Any]:
        async with help_world.container.new_uow() as uow:
            return [e for e in await uow.audit.recent(20) if e.action == SOLVED_BY_SELF_SERVICE]

    found = asyncio.run(events())
    asyncio.run(help_world.container.close())
    assert [(e.actor, dict(e.details)) for e in found] == [
        ("anonymous", {"article": "passwort-vergessen", "topic": "login"})
    ]


@pytest.fixture
def client(world: tuple[TestClient[Litestar], Path]) -> TestClient[Litestar]:
    return world[0]


def token(client: TestClient[Litestar], login: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", json={"username": login, "password": DEMO_PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def create(client: TestClient[Litestar], login: str, topic: str = "leave", **extra: Any) -> dict[str, Any]:
    body = {"topic": topic, "subject": "Urlaub abgelehnt", "message": "Warum wurde mein Antrag abgelehnt?", **extra}
    answer = client.post("/api/v1/me/help-requests", json=body, headers=token(client, login))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def mails(folder: Path) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted(folder.glob("*.eml")):
        found.append(email.message_from_bytes(path.read_bytes(), policy=email.policy.default))
    return found  # type: ignore[return-value]


def test_the_person_asks_hr_follows_the_answer_and_marks_it_solved(world: tuple[TestClient[Litestar], Path]) -> None:
    client, folder = world
    created = create(client, EMPLOYEE, context=CONTEXT)
    assert created["status"] == "received" and created["team"] == "hr"
    assert created["context"] == CONTEXT
    assert created["reference"] == f"ESS-{created['id']}"
    rid = created["id"]

    hr = token(client, HR)
    queue = client.get("/api/v1/help-desk/requests", headers=hr).json()
    assert [r["id"] for r in queue] == [rid]
    assigned = client.post(f"/api/v1/help-desk/requests/{rid}/assignment", json={"assignee": HR}, headers=hr)
    assert assigned.json()["assignee"] == HR and assigned.json()["status"] == "in_progress"
    noted = client.post(f"/api/v1/help-desk/requests/{rid}/notes", json={"note": "Saldo prüfen"}, headers=hr)
    assert noted.status_code == 201
    answered = client.post(
        f"/api/v1/help-desk/requests/{rid}/answers",
        json={"message": "Ihr Resturlaub reicht nicht.", "article": "urlaub-beantragen"},
        headers=hr,
    ).json()
    assert answered["status"] == "answered"
    assert answered["first_response_seconds"] is not None

    own = client.get(f"/api/v1/me/help-requests/{rid}", headers=token(client, EMPLOYEE)).json()
    assert own["status"] == "answered"
    assert [m["kind"] for m in own["messages"]] == ["request", "answer"]  # the internal note is not shown
    assert "Saldo prüfen" not in str(own)
    rated = client.post(
        f"/api/v1/me/help-requests/{rid}/rating", json={"solved": True}, headers=token(client, EMPLOYEE)
    )
    assert rated.json()["status"] == "closed" and rated.json()["solved"] is True

    news = [m for m in mails(folder) if "anna.schmidt" in str(m["To"])]
    assert news, "the person hears that there is news"
    text = news[-1].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert f"/help-requests/{rid}" in text
    assert (
        "Resturlaub reicht nicht" not in text
        and "Urlaub abgelehnt" not in text
        and "Urlaub abgelehnt" not in str(news[-1]["Subject"])
    )


def test_another_employee_and_a_manager_see_nothing(client: TestClient[Litestar]) -> None:
    rid = create(client, EMPLOYEE)["id"]
    for login in (OTHER, MANAGER):
        headers = token(client, login)
        assert client.get(f"/api/v1/me/help-requests/{rid}", headers=headers).status_code == 404
        reply = client.post(f"/api/v1/me/help-requests/{rid}/messages", json={"message": "x"}, headers=headers)
        assert reply.status_code == 404
        rating = client.post(f"/api/v1/me/help-requests/{rid}/rating", json={"solved": True}, headers=headers)
        assert rating.status_code == 404
        assert client.get("/api/v1/me/help-requests", headers=headers).json() == []
        assert client.get("/api/v1/help-desk/requests", headers=headers).status_code == 403
        assert client.get(f"/api/v1/help-desk/requests/{rid}", headers=headers).status_code == 403
        for action, body in (
            ("assignment", {}),
            ("notes", {"note": "x"}),
            ("answers", {"message": "x"}),
            ("close", None),
        ):
            answer = client.post(f"/api/v1/help-desk/requests/{rid}/{action}", json=body, headers=headers)
            assert answer.status_code == 403, (login, action)
            assert answer.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/me/help-requests").status_code == 401
    assert client.get("/api/v1/help-desk/requests").status_code == 401


def test_hr_sees_only_hr_topics_and_the_helpdesk_only_it_topics(client: TestClient[Litestar]) -> None:
    hr_request = create(client, EMPLOYEE, topic="leave")["id"]
    it_request = create(client, EMPLOYEE, topic="login", subject="VPN", message="Das VPN geht nicht.")["id"]
    hr, it = token(client, HR), token(client, HELPDESK)
    assert [r["id"] for r in client.get("/api/v1/help-desk/requests", headers=hr).json()] == [hr_request]
    assert [r["id"] for r in client.get("/api/v1/help-desk/requests", headers=it).json()] == [it_request]
    for headers, foreign in ((hr, it_request), (it, hr_request)):
        assert client.get(f"/api/v1/help-desk/requests/{foreign}", headers=headers).status_code == 404
        answer = client.post(f"/api/v1/help-desk/requests/{foreign}/answers", json={"message": "x"}, headers=headers)
        assert answer.status_code == 404
        assert client.post(f"/api/v1/help-desk/requests/{foreign}/close", headers=headers).status_code == 404
    bad_article = {"message": "Siehe Artikel", "article": "../../admin"}
    refused_article = client.post(f"/api/v1/help-desk/requests/{hr_request}/answers", json=bad_article, headers=hr)
    assert refused_article.status_code == 422
    assert refused_article.json()["errors"] == [
        {"field": "article", "message": "Geben Sie den Kurznamen des Artikels an.", "code": "invalid_input"}
    ]
    # HR cannot hand a request to the helpdesk's staff, who do not work HR topics.
    refused = client.post(
        f"/api/v1/help-desk/requests/{hr_request}/assignment", json={"assignee": HELPDESK}, headers=hr
    )
    assert refused.status_code == 422
    filtered = client.get("/api/v1/help-desk/requests", params={"status": "closed"}, headers=hr).json()
    assert filtered == []
    assert client.get("/api/v1/help-desk/requests", params={"older_than_hours": 1}, headers=hr).json() == []


def test_a_request_refuses_passwords_and_unknown_context(client: TestClient[Litestar]) -> None:
    headers = token(client, EMPLOYEE)
    body = {"topic": "login", "subject": "Login", "message": "Mein Passwort: Geheim123 geht nicht"}
    refused = client.post("/api/v1/me/help-requests", json=body, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["code"] == "invalid_help_request"
    [error] = refused.json()["errors"]
    assert (error["field"], error["code"]) == ("message", "invalid_help_request")
    assert error["message"].startswith("Bitte entfernen Sie das Passwort")
    # Every problem says where a person asks for help, with the error code (the request id is in X-Request-ID).
    assert refused.json()["help"] == "/help-requests/new?error_code=invalid_help_request"
    unknown = client.post("/api/v1/me/help-requests", json={**body, "message": "x", "topic": "nope"}, headers=headers)
    assert unknown.status_code == 422
    bad_context = {**body, "message": "x", "context": {"error_code": "<script>"}}
    assert client.post("/api/v1/me/help-requests", json=bad_context, headers=headers).status_code == 422
    extra = {**body, "message": "x", "context": {"password": "x"}}
    assert client.post("/api/v1/me/help-requests", json=extra, headers=headers).status_code == 400


def test_a_reply_reopens_and_not_solved_goes_back_to_the_team(client: TestClient[Litestar]) -> None:
    rid = create(client, EMPLOYEE)["id"]
    hr, me = token(client, HR), token(client, EMPLOYEE)
    early = client.post(f"/api/v1/me/help-requests/{rid}/rating", json={"solved": True}, headers=me)
    assert early.status_code == 409
    closed = client.post(f"/api/v1/help-desk/requests/{rid}/close", headers=hr).json()
    assert closed["status"] == "closed" and closed["resolution_seconds"] is not None
    assert client.post(f"/api/v1/help-desk/requests/{rid}/close", headers=hr).status_code == 409
    not_solved = client.post(f"/api/v1/me/help-requests/{rid}/rating", json={"solved": False}, headers=me).json()
    assert not_solved["status"] == "in_progress"
    asked = client.post(
        f"/api/v1/help-desk/requests/{rid}/answers", json={"message": "Welche Tage?", "question": True}, headers=hr
    ).json()
    assert asked["status"] == "question"
    replied = client.post(f"/api/v1/me/help-requests/{rid}/messages", json={"message": "3.-5. März"}, headers=me)
    assert replied.status_code == 201 and replied.json()["status"] == "in_progress"


def _logged_out(client: TestClient[Litestar], login: str, name: str = "Anna Schmidt") -> Any:
    page = client.get("/help-requests/logged-out")
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None, page.text
    form = {
        "_csrf_token": csrf.group(1),
        "name": name,
        "callback": "+49 170 1234567",
        "login": login,
        "message": "Gesperrt",
    }
    return client.post("/help-requests/logged-out", data=form)


def test_the_logged_out_request_answers_alike_and_is_limited(client: TestClient[Litestar]) -> None:
    known, unknown = _logged_out(client, EMPLOYEE), _logged_out(client, "niemand.hier")
    assert known.status_code == unknown.status_code == 200
    assert _body(known.text) == _body(unknown.text)
    for _ in range(3):
        assert _logged_out(client, "x").status_code == 200
    assert _logged_out(client, "x").status_code == 429
    it = token(client, HELPDESK)
    queue = client.get("/api/v1/help-desk/requests", headers=it).json()
    assert len(queue) == 5 and all(r["caller"]["logged_out"] for r in queue)
    assert {r["caller"]["claimed_login"] for r in queue} == {EMPLOYEE, "niemand.hier", "x"}
    assert client.get("/api/v1/help-desk/requests", headers=token(client, HR)).json() == []
    assert log_in(client, HELPDESK, DEMO_PASSWORD).status_code == 303
    detail = client.get(f"/help-desk/{queue[0]['id']}")
    assert "Vor der Hilfe prüfen" in detail.text
    assert "Passwort" in detail.text  # the checklist: never ask for a password


def _body(html: str) -> str:
    """The page without the per-request parts (CSRF token, request id)."""
    return re.sub(r'value="[^"]*"|[0-9a-f]{24}', "", html)


def test_pages_need_login_and_hide_other_peoples_requests(client: TestClient[Litestar]) -> None:
    rid = create(client, EMPLOYEE)["id"]
    assert client.get("/help-requests", follow_redirects=False).status_code == 303
    new = client.get("/help-requests/new?error_code=x", follow_redirects=False)
    assert new.status_code in (302, 303) and "/help-requests/logged-out" in new.headers["location"]
    assert client.get(f"/help-requests/{rid}", follow_redirects=False).status_code == 303
    assert client.get("/help-desk", follow_redirects=False).status_code == 303
    for login, desk in ((OTHER, 403), (MANAGER, 403), (HELPDESK, 404), (HR, 200)):
        client.cookies.clear()
        assert log_in(client, login, DEMO_PASSWORD).status_code == 303
        assert client.get(f"/help-requests/{rid}").status_code == 404, login
        assert client.get(f"/help-desk/{rid}").status_code == desk, login
        assert client.get("/help-desk").status_code == (403 if desk == 403 else 200), login
        form = client.post(f"/help-desk/{rid}/close", data={"_csrf_token": _csrf(client)}, follow_redirects=False)
        assert form.status_code == (303 if desk == 200 else desk), login


def _csrf(client: TestClient[Litestar]) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/help").text)
    assert found is not None
    return found.group(1)


def test_the_help_link_never_carries_a_token_from_the_address(client: TestClient[Litestar]) -> None:
    for path in (
        "/password/reset/s3cr3t-t0k3n",
        "/password/unlock/s3cr3t-t0k3n",
        "/security/confirm-email/s3cr3t-t0k3n",
    ):
        page = client.get(path)
        link = re.search(r'href="(/help-requests/new\?[^"]*)"', page.text)
        assert link is not None, path
        assert "s3cr3t" not in link.group(1), link.group(1)
