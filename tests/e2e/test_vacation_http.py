"""Vacation over HTTP: the balance API, requests through the API and the pages, the manager's decision."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import TestClient

from tests.e2e.helpers import PASSWORD, csrf_token, log_in

BALANCE_FIELDS = {
    "as_of",
    "entitlement",
    "carried_over",
    "carry_over_expires_on",
    "taken",
    "approved_upcoming",
    "pending",
    "remaining",
}


def token(client: TestClient[Litestar], login: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"username": login, "password": PASSWORD})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_balance_api_has_the_documented_fields_as_decimal_strings(client: TestClient[Litestar]) -> None:
    auth = token(client, "anna.schmidt")
    body = client.get("/api/v1/me/vacation/balance?as_of=2026-06-30", headers=auth).json()
    assert set(body) >= BALANCE_FIELDS
    assert body["as_of"] == "2026-06-30"
    assert body["entitlement"] == "30.00"
    assert isinstance(body["remaining"], str)
    assert client.get("/api/v1/me/vacation/balance?as_of=not-a-date", headers=auth).status_code == 400


def test_request_through_the_api_and_the_manager_approves(client: TestClient[Litestar]) -> None:
    anna, markus = token(client, "anna.schmidt"), token(client, "markus.weber")
    created = client.post("/api/v1/me/leave-requests", json={"start": "2027-02-15", "end": "2027-02-19"}, headers=anna)
    assert created.status_code == 201, created.text
    request_id = created.json()["id"]
    assert created.json()["days"] == "5.0"
    clash = client.post("/api/v1/me/leave-requests", json={"start": "2027-02-19", "end": "2027-02-22"}, headers=anna)
    assert clash.status_code == 409
    assert clash.headers["content-type"] == "application/problem+json"
    waiting = client.get("/api/v1/manager/leave-requests", headers=markus).json()
    assert [w["id"] for w in waiting] == [request_id]
    assert client.get("/api/v1/manager/leave-requests", headers=anna).status_code == 403
    assert client.post(f"/api/v1/manager/leave-requests/{request_id}/approve", json={}, headers=anna).status_code == 403
    approved = client.post(
        f"/api/v1/manager/leave-requests/{request_id}/approve", json={"comment": "ok"}, headers=markus
    )
    assert approved.json()["status"] == "approved"
    balance = client.get("/api/v1/me/vacation/balance?as_of=2027-01-01", headers=anna).json()
    assert balance["approved_upcoming"] == "5.00"


def test_the_vacation_page_requests_leave_and_the_team_page_decides(client: TestClient[Litestar]) -> None:
    log_in(client, "anna.schmidt", PASSWORD)
    page = client.get("/vacation")
    assert page.status_code == 200
    assert "Jahreskalender" in page.text or "Year calendar" in page.text
    sent = client.post(
        "/vacation/requests",
        data={"_csrf_token": csrf_token(client, "/vacation"), "start": "2026-12-22", "end": "2027-01-09"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    listed = client.get("/vacation").text
    assert "22.12.2026 – 09.01.2027" in listed
    assert re.search(r"<td>11</td>", listed)  # DE-BY working days
    bad = client.post(
        "/vacation/requests", data={"_csrf_token": csrf_token(client, "/vacation"), "start": "", "end": ""}
    )
    assert bad.status_code == 422
    client.post("/logout", data={"_csrf_token": csrf_token(client, "/")})

    log_in(client, "markus.weber", PASSWORD)
    team = client.get("/vacation/team").text
    request_id = re.search(r'action="/vacation/team/(\d+)"', team)
    assert request_id is not None
    decided = client.post(
        f"/vacation/team/{request_id.group(1)}",
        data={"_csrf_token": csrf_token(client, "/vacation/team"), "decision": "approve", "comment": "Gute Erholung"},
        follow_redirects=False,
    )
    assert decided.status_code == 303
    assert 'action="/vacation/team/' not in client.get("/vacation/team").text


def test_employees_cannot_see_the_team_page(client: TestClient[Litestar]) -> None:
    log_in(client, "anna.schmidt", PASSWORD)
    assert client.get("/vacation/team").status_code == 403
