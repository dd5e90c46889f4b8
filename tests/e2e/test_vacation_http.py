"""Vacation over HTTP: the balance API, requests through the API and the pages, the manager's decision."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from litestar import Litestar
from litestar.testing import TestClient

from ess.app import create_app
from ess.bootstrap import build_container
from ess.domain.vacation.year_end import grant_year, send_expiry_warnings
from ess.settings import Settings
from tests.conftest import make_settings
from tests.e2e.conftest import seed
from tests.e2e.helpers import PASSWORD, csrf_token, log_in
from tests.fakes import FixedClock
from tests.harness.smtp import running_smtp_sink

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
    assert not re.search(r'action="/vacation/team/\d+"', client.get("/vacation/team").text)


def test_employees_cannot_see_the_team_page(client: TestClient[Litestar]) -> None:
    log_in(client, "anna.schmidt", PASSWORD)
    assert client.get("/vacation/team").status_code == 403


def test_the_manager_and_the_employee_are_told_by_mail(sqlite_url: str) -> None:
    with running_smtp_sink() as sink:
        settings = make_settings(
            sqlite_url,
            ESS_MAIL__BACKEND="smtp",
            ESS_MAIL__SMTP_PORT=str(sink.port),
            ESS_BASE_URL="https://ess.example.com",
        )
        asyncio.run(seed(settings))
        with TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as client:
            anna, markus = token(client, "anna.schmidt"), token(client, "markus.weber")
            created = client.post(
                "/api/v1/me/leave-requests",
                json={"start": "2027-03-01", "end": "2027-03-05", "note": "Ostsee"},
                headers=anna,
            ).json()
            (to_manager,) = sink.wait_for(1)
            assert to_manager["To"] == "markus.weber@example-ess.test"
            assert to_manager["Subject"] == "Urlaubsantrag von Anna Schmidt: 01.03.2027 – 05.03.2027"
            body = to_manager.get_content()
            assert "5 Arbeitstage" in body
            assert "Ostsee" in body
            assert "https://ess.example.com/vacation/team" in body  # from the configured base URL
            client.post(
                f"/api/v1/manager/leave-requests/{created['id']}/approve", json={"comment": "Viel Spaß"}, headers=markus
            )
            to_employee = sink.wait_for(2)[1]
            assert to_employee["To"] == "anna.schmidt@example-ess.test"
            assert to_employee["Subject"] == "Urlaub genehmigt: 01.03.2027 – 05.03.2027"
            assert "Viel Spaß" in to_employee.get_content()


def test_hr_sees_every_balance_as_a_page_and_as_csv(client: TestClient[Litestar], settings: Settings) -> None:
    async def grant() -> int:
        container = build_container(settings)
        try:
            return await grant_year(2026, deps=container.vacation)
        finally:
            await container.close()

    assert asyncio.run(grant()) >= 60
    assert asyncio.run(grant()) == 0  # idempotent
    log_in(client, "anna.schmidt", PASSWORD)
    assert client.get("/hr/vacation-report").status_code == 403
    client.post("/logout", data={"_csrf_token": csrf_token(client, "/")})
    asyncio.run(make_account(settings, "hanna.berger"))
    log_in(client, "hanna.berger", PASSWORD)
    page = client.get("/hr/vacation-report?as_of=2026-06-30")
    assert page.status_code == 200
    assert "Anna Schmidt" in page.text
    csv = client.get("/hr/vacation-report/csv?as_of=2026-06-30")
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0].startswith("Personnel number;")
    assert any(line.startswith("P10011;Anna Schmidt;") and line.endswith(";30.00") for line in lines)
    # The page shows 100 rows at a time and links to the next page; the CSV keeps every one of the 64 employees.
    assert len(lines) == 65
    small = client.get("/hr/vacation-report?as_of=2026-06-30&limit=10&offset=60")
    row = '<tr><th scope="row" class="sticky-col">'
    assert small.text.count(row) == 4
    assert 'rel="prev"' in small.text and 'rel="next"' not in small.text
    assert "Zeilen 61 bis 64 von 64" in small.text  # the default language is German
    found = client.get("/hr/vacation-report?as_of=2026-06-30&search=schmidt")
    assert found.text.count(row) == 1 and "Anna Schmidt" in found.text
    hr = token(client, "hanna.berger")
    api = client.get("/api/v1/hr/leave-report?as_of=2026-06-30&limit=10&offset=60", headers=hr).json()
    assert (api["total"], api["offset"], api["limit"], len(api["rows"])) == (64, 60, 10, 4)
    everyone = [
        row["personnel_number"]
        for offset in range(0, 64, 25)
        for row in client.get(f"/api/v1/hr/leave-report?as_of=2026-06-30&limit=25&offset={offset}", headers=hr).json()[
            "rows"
        ]
    ]
    assert everyone == [line.split(";", 1)[0] for line in lines[1:]]
    assert client.get("/api/v1/hr/leave-report?limit=1001", headers=hr).status_code == 400
    assert client.get("/api/v1/hr/leave-report", headers=token(client, "anna.schmidt")).status_code == 403
    _sorted_filtered_and_totalled(client, hr, lines)


def _sorted_filtered_and_totalled(client: TestClient[Litestar], hr: dict[str, str], lines: list[str]) -> None:
    """Issue 12 / 18 item 5: sort by any column, filter by unit, region and "lapses soon", totals of the filter."""
    report = "/api/v1/hr/leave-report?as_of=2026-06-30&limit=1000&totals=true"
    everyone = client.get(report, headers=hr).json()
    assert everyone["totals"]["employees"] == 64
    assert Decimal(everyone["totals"]["entitlement"]) == sum(Decimal(r["entitlement"]) for r in everyone["rows"])
    assert Decimal(everyone["totals"]["remaining"]) == sum(Decimal(r["remaining"]) for r in everyone["rows"])
    by_name = client.get(f"{report}&sort=name&order=desc", headers=hr).json()["rows"]
    names = [r["name"].casefold() for r in by_name]
    assert names == sorted(names, reverse=True)
    by_remaining = client.get(f"{report}&sort=remaining", headers=hr).json()["rows"]
    assert [Decimal(r["remaining"]) for r in by_remaining] == sorted(Decimal(r["remaining"]) for r in by_remaining)
    unit = next(r["org_unit"] for r in everyone["rows"] if r["org_unit"])
    in_unit = client.get(f"{report}&unit={quote(unit)}", headers=hr).json()
    assert in_unit["rows"] and {r["org_unit"] for r in in_unit["rows"]} == {unit}
    assert in_unit["totals"]["employees"] == in_unit["total"] == len(in_unit["rows"])
    assert Decimal(in_unit["totals"]["taken"]) == sum(Decimal(r["taken"]) for r in in_unit["rows"])
    region = everyone["rows"][0]["location"]
    country = region.split("-")[0]
    assert {r["location"] for r in client.get(f"{report}&region={region}", headers=hr).json()["rows"]} == {region}
    in_country = client.get(f"{report}&region={country}", headers=hr).json()["rows"]
    assert in_country and all(r["location"].split("-")[0] == country for r in in_country)
    lapsing = client.get(f"{report}&lapses_soon=true", headers=hr).json()
    assert all(Decimal(r["lapsing"]) > 0 for r in lapsing["rows"])
    assert lapsing["lapse_by"] == "2026-09-28"
    assert client.get(f"{report}&sort=salary", headers=hr).status_code == 400
    page = client.get(f"/hr/vacation-report?as_of=2026-06-30&unit={quote(unit)}&sort=name&order=desc")
    assert page.status_code == 200
    assert 'aria-sort="descending"' in page.text
    assert page.text.count('<tr><th scope="row" class="sticky-col">') == len(in_unit["rows"])
    assert "<tfoot>" in page.text
    assert len(lines) == 65


async def make_account(settings: Settings, login: str) -> None:
    container = build_container(settings)
    try:
        assert container.local_directory is not None
        await container.local_directory.provision(login, password=PASSWORD)
    finally:
        await container.close()


def test_the_private_calendar_feed_and_its_revocation(client: TestClient[Litestar]) -> None:
    anna = token(client, "anna.schmidt")
    client.post("/api/v1/me/leave-requests", json={"start": "2027-04-06", "end": "2027-04-09"}, headers=anna)
    log_in(client, "anna.schmidt", PASSWORD)
    page = client.post("/vacation/feed", data={"_csrf_token": csrf_token(client, "/vacation")})
    url = re.search(r'id="feed-url" type="text" readonly value="([^"]+)"', page.text)
    assert url is not None
    path = url.group(1).removeprefix("http://127.0.0.1:8000")
    feed = client.get(path)
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    assert "DTSTART;VALUE=DATE:20270406" in feed.text
    assert "DTEND;VALUE=DATE:20270410" in feed.text
    assert client.get(path.replace(".ics", "x.ics")).status_code == 404
    client.post("/vacation/feed/revoke", data={"_csrf_token": csrf_token(client, "/vacation")})
    assert client.get(path).status_code == 404


def test_colleagues_see_only_absent_and_the_manager_sees_details(
    client: TestClient[Litestar], settings: Settings
) -> None:
    anna = token(client, "anna.schmidt")
    today = datetime.now(ZoneInfo("Europe/Berlin")).date()  # the app's clock
    start = today + timedelta(days=(7 - today.weekday()) % 7 or 7)  # next Monday: the calendar shows its month
    client.post("/api/v1/me/leave-requests", json={"start": start.isoformat(), "end": start.isoformat()}, headers=anna)
    asyncio.run(make_account(settings, "lukas.wagner"))  # a colleague of anna (same manager)
    log_in(client, "lukas.wagner", PASSWORD)
    month = f"?month={start.year:04d}-{start.month:02d}"  # the month view that holds next Monday
    pending_only = client.get("/vacation/calendar" + month).text
    assert "Anna Schmidt" in pending_only
    assert "●" not in pending_only  # a pending request is nobody else's business yet
    client.post("/logout", data={"_csrf_token": csrf_token(client, "/")})
    log_in(client, "markus.weber", PASSWORD)
    manager_view = client.get("/vacation/calendar" + month).text
    assert "offen" in manager_view  # the manager sees the status


def test_hr_adjusts_an_entitlement_with_a_reason(client: TestClient[Litestar], settings: Settings) -> None:
    asyncio.run(make_account(settings, "hanna.berger"))
    hr = token(client, "hanna.berger")
    body = {"personnel_number": "P10011", "year": 2026, "days": "-3", "reason": "Urlaubsbescheinigung Vorarbeitgeber"}
    adjusted = client.post("/api/v1/hr/leave-adjustments", json=body, headers=hr)
    assert adjusted.status_code == 201, adjusted.text
    assert adjusted.json()["entitlement"] == "27.00"
    assert client.post("/api/v1/hr/leave-adjustments", json={**body, "reason": " "}, headers=hr).status_code == 422
    anna = token(client, "anna.schmidt")
    assert client.post("/api/v1/hr/leave-adjustments", json=body, headers=anna).status_code == 403


def test_the_leave_page_shows_the_projection_and_the_deadline_ahead(settings: Settings) -> None:
    """Next year's balance carries this year's rest over as close-year will (marked as projected), and a recorded
    warning makes the page say when those days lapse ("verfällt am ...")."""
    clock = FixedClock(datetime(2026, 11, 22, 9, 0, tzinfo=ZoneInfo("UTC")))

    async def warn() -> None:
        container = build_container(settings, clock=clock)
        try:
            await send_expiry_warnings(2026, deps=container.vacation)
        finally:
            await container.close()

    with TestClient(app=create_app(container=build_container(settings, clock=clock))) as client:
        log_in(client, "anna.schmidt", PASSWORD)
        before = client.get("/vacation?as_of=2027-03-01").text
        assert "voraussichtlich: 30 Tage Rest aus dem Vorjahr" in before
        assert "verfällt am" not in before  # not warned: German leave does not lapse (EuGH C-684/16)
        asyncio.run(warn())
        warned = client.get("/vacation?as_of=2027-03-01").text
        assert "verfällt am 31.03.2027: 30 Tage" in warned
        assert "(voraussichtlich)" in warned  # the projected lines of the calculation say so
