"""Profile over HTTP: the API and the pages, field errors, the HR queue, and who may touch whose data."""

from __future__ import annotations

import asyncio
import re

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from ess.bootstrap import build_container
from ess.settings import Settings
from tests.conftest import make_settings
from tests.e2e.conftest import seed
from tests.e2e.helpers import PASSWORD, csrf_token, log_in

GOOD_IBAN = "DE89 3704 0044 0532 0130 00"
BAD_IBAN = "DE89 3704 0044 0532 0130 01"


async def provision_more(settings: Settings) -> None:
    container = build_container(settings)
    try:
        assert container.local_directory is not None
        for login in ("hanna.berger", "tobias.huber"):
            await container.local_directory.provision(login, password=PASSWORD, groups=[])
    finally:
        await container.close()


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    settings = make_settings(sqlite_url)
    asyncio.run(seed(settings))
    asyncio.run(provision_more(settings))
    return settings


def token(client: TestClient[Litestar], login: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"username": login, "password": PASSWORD})
    assert response.status_code in (200, 201), response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_get_profile_has_groups_policies_and_values(client: TestClient[Litestar]) -> None:
    body = client.get("/api/v1/me/profile", headers=token(client, "anna.schmidt")).json()
    assert body["personnel_number"] == "P10011"
    assert body["manager"] == {"personnel_number": "P10010", "display_name": "Markus Weber"}
    fields = body["fields"]
    assert fields["mobile_phone"] == {
        "group": "contact",
        "policy": "self_service",
        "value": {"mobile_phone": "+491701234567"},
        "pending_synchronisation": False,
        "open_request": None,
    }
    assert fields["address"]["policy"] == "notify_hr"
    assert fields["bank_account"]["policy"] == "approval"
    assert fields["legal_name"]["policy"] == "approval"


def test_patch_applies_refuses_per_field_and_keeps_everything_on_error(client: TestClient[Litestar]) -> None:
    anna = token(client, "anna.schmidt")
    bad = client.patch(
        "/api/v1/me/profile",
        json={"changes": {"mobile_phone": "+49 123", "iban": BAD_IBAN, "holder": "Anna Schmidt"}},
        headers=anna,
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert {(e["field"], e["code"]) for e in bad.json()["errors"]} == {
        ("mobile_phone", "phone_invalid"),
        ("iban", "iban_checksum"),
    }
    # Each says why in the caller's language (German by default), as the page does beside the field.
    assert any("Prüfziffern" in e["message"] for e in bad.json()["errors"])
    assert client.get("/api/v1/me/profile/history", headers=anna).json() == []

    ok = client.patch("/api/v1/me/profile", json={"changes": {"mobile_phone": "0151 23456789"}}, headers=anna)
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"applied": ["mobile_phone"], "requested": [], "unchanged": []}
    again = client.patch("/api/v1/me/profile", json={"changes": {"mobile_phone": "+4915123456789"}}, headers=anna)
    assert again.json() == {"applied": [], "requested": [], "unchanged": ["mobile_phone"]}
    [entry] = client.get("/api/v1/me/profile/history", headers=anna).json()
    assert entry["new"] == {"mobile_phone": "+4915123456789"} and entry["changed_by"] == "anna.schmidt"


def test_bank_change_through_the_api_and_hr_approves(client: TestClient[Litestar]) -> None:
    anna, hanna = token(client, "anna.schmidt"), token(client, "hanna.berger")
    change = {"changes": {"iban": GOOD_IBAN, "holder": "Anna Schmidt"}}
    assert client.patch("/api/v1/me/profile", json=change, headers=anna).status_code == 422  # no password
    created = client.patch("/api/v1/me/profile", json={**change, "current_password": PASSWORD}, headers=anna)
    assert created.status_code == 200, created.text
    [request] = created.json()["requested"]
    assert request["status"] == "pending"
    assert (
        client.get("/api/v1/me/profile", headers=anna).json()["fields"]["bank_account"]["open_request"]["id"]
        == (request["id"])
    )

    queue = client.get("/api/v1/hr/change-requests", headers=hanna).json()
    assert [(q["id"], q["employee"], q["new"]["iban"]) for q in queue] == [
        (request["id"], "P10011", "DE89370400440532013000")
    ]
    assert client.post(f"/api/v1/hr/change-requests/{request['id']}/reject", json={}, headers=hanna).status_code == 422
    approved = client.post(f"/api/v1/hr/change-requests/{request['id']}/approve", headers=hanna)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "applied"
    bank = client.get("/api/v1/me/profile", headers=anna).json()["fields"]["bank_account"]["value"]
    assert bank == {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "holder": "Anna Schmidt"}
    [entry] = client.get("/api/v1/me/profile/history", headers=anna).json()
    assert "0532" not in entry["new"]["iban"]  # masked in the employee's history


def test_every_route_refuses_someone_elses_objects(client: TestClient[Litestar]) -> None:
    anna, tobias = token(client, "anna.schmidt"), token(client, "tobias.huber")
    markus, hanna = token(client, "markus.weber"), token(client, "hanna.berger")
    [request] = client.patch(
        "/api/v1/me/profile", json={"changes": {"first_name": "Anna", "last_name": "Weber"}}, headers=anna
    ).json()["requested"]
    rid = request["id"]
    # Another employee: cannot withdraw, decide or list anna's request, nor read her profile.
    assert client.post(f"/api/v1/me/profile/change-requests/{rid}/withdraw", headers=tobias).status_code == 404
    assert client.post(f"/api/v1/hr/change-requests/{rid}/approve", headers=tobias).status_code == 403
    assert (
        client.post(f"/api/v1/hr/change-requests/{rid}/reject", json={"comment": "x"}, headers=tobias).status_code
        == 403
    )
    assert client.get("/api/v1/hr/change-requests", headers=tobias).status_code == 403
    assert client.get("/api/v1/employees/P10011/profile", headers=tobias).status_code == 404
    assert client.get("/api/v1/me/profile/change-requests", headers=tobias).json() == []
    # Her manager sees only the work contact data; HR sees all; she cannot decide her own request.
    work = client.get("/api/v1/employees/P10011/profile", headers=markus).json()
    assert set(work) == {"personnel_number", "display_name", "work_email", "work_phone", "org_unit"}
    assert client.get("/api/v1/employees/P10030/profile", headers=markus).status_code == 404
    assert client.get("/api/v1/employees/P10011/profile", headers=hanna).json()["fields"]["private_phone"]["value"] == {
        "private_phone": "+498928022194"
    }
    assert client.post(f"/api/v1/hr/change-requests/{rid}/approve", headers=anna).status_code == 403
    # The pages: another employee cannot withdraw it either.
    log_in(client, "tobias.huber", PASSWORD)
    page_token = csrf_token(client, "/profile")
    withdrawn = client.post(
        f"/profile/requests/{rid}/withdraw", data={"_csrf_token": page_token}, follow_redirects=False
    )
    assert withdrawn.status_code == 404
    assert client.get("/hr/change-requests").status_code == 403
    # Without a login nothing answers.
    client.cookies.clear()
    for path in ("/api/v1/me/profile", "/api/v1/me/profile/history", "/api/v1/hr/change-requests"):
        assert client.get(path).status_code == 401, path
    assert client.get("/profile/edit/contact", follow_redirects=False).status_code == 303


def test_pages_change_contact_data_show_field_errors_and_need_csrf(client: TestClient[Litestar]) -> None:
    log_in(client, "anna.schmidt", PASSWORD)
    page = client.get("/profile/edit/contact")
    assert page.status_code == 200 and 'value="0170 1234567"' in page.text  # shown nationally
    token_ = csrf_token(client, "/profile/edit/contact")
    without = client.post("/profile/edit/contact", data={"mobile_phone": "0151 23456789"}, follow_redirects=False)
    assert without.status_code == 403
    refused = client.post(
        "/profile/edit/contact",
        data={"_csrf_token": token_, "mobile_phone": "+49 123", "work_phone": "089 5550011"},
        follow_redirects=False,
    )
    assert refused.status_code == 422
    assert "Das ist keine gültige Telefonnummer" in refused.text
    assert 'aria-invalid="true"' in refused.text
    saved = client.post(
        "/profile/edit/contact",
        data={"_csrf_token": token_, "mobile_phone": "0151 23456789", "work_phone": "089 5550011"},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/profile?saved=applied&section=contact#contact"
    profile = client.get("/profile?saved=applied").text
    assert "01512 3456789" in profile  # stored as E.164, shown in the national form
    assert "Ihre Änderung wurde gespeichert." in profile
    history = client.get("/profile/history").text
    assert "Mobiltelefon" in history and "01512 3456789" in history


def test_hr_decides_on_the_queue_page(client: TestClient[Litestar]) -> None:
    log_in(client, "anna.schmidt", PASSWORD)
    token_ = csrf_token(client, "/profile/edit/name")
    sent = client.post(
        "/profile/edit/name",
        data={"_csrf_token": token_, "first_name": "Anna", "last_name": "Schmidt-Weber"},
        follow_redirects=False,
    )
    assert sent.headers["location"] == "/profile?saved=requested&section=name#name"
    assert "Schmidt-Weber" in client.get("/profile").text  # shown as waiting
    client.post("/logout", data={"_csrf_token": csrf_token(client, "/")})
    client.cookies.clear()

    log_in(client, "hanna.berger", PASSWORD)
    queue = client.get("/hr/change-requests")
    assert queue.status_code == 200 and "Schmidt-Weber" in queue.text
    match = re.search(r'action="/hr/change-requests/(\d+)"', queue.text)
    assert match is not None
    hr_token = csrf_token(client, "/hr/change-requests")
    no_comment = client.post(
        f"/hr/change-requests/{match.group(1)}", data={"_csrf_token": hr_token, "decision": "reject", "comment": ""}
    )
    assert no_comment.status_code == 422 and "Bitte füllen Sie dieses Feld aus" in no_comment.text
    decided = client.post(
        f"/hr/change-requests/{match.group(1)}",
        data={"_csrf_token": hr_token, "decision": "approve", "comment": ""},
        follow_redirects=False,
    )
    assert decided.status_code == 303
    assert "Es warten keine Änderungsanträge" in client.get("/hr/change-requests").text
