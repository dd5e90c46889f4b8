"""The portal over HTTP: a leave request refused for each reason says why (page and API, in German), and the start
page shows each role what it comes for."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from ess.bootstrap import build_container
from ess.domain.vacation.reminders import remind_waiting
from ess.settings import Settings
from tests.conftest import make_settings
from tests.e2e.conftest import seed
from tests.e2e.helpers import PASSWORD, csrf_token, log_in
from tests.fakes import FixedClock


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    """The demo company, with leave refused more than 14 days back ([vacation] backdate_days)."""
    settings = make_settings(sqlite_url, ESS_VACATION__BACKDATE_DAYS="14")
    asyncio.run(seed(settings))
    return settings


def token(client: TestClient[Litestar], login: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"username": login, "password": PASSWORD})
    return {"Authorization": f"Bearer {response.json()['access_token']}", "Accept-Language": "de"}


def _today() -> date:
    return datetime.now(ZoneInfo("Europe/Berlin")).date()  # the app's clock: the company's offices


def _next_weekday(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _provision(settings: Settings, login: str) -> None:
    async def run() -> None:
        container = build_container(settings)
        try:
            assert container.local_directory is not None
            await container.local_directory.provision(login, password=PASSWORD, groups=[])
        finally:
            await container.close()

    asyncio.run(run())


def test_each_refusal_of_a_leave_request_says_why_in_the_api(client: TestClient[Litestar]) -> None:
    anna = token(client, "anna.schmidt")
    today = _today()
    monday = _next_weekday(today + timedelta(days=14), 0)
    saturday = monday + timedelta(days=5)
    ok = client.post(
        "/api/v1/me/leave-requests", json={"start": monday.isoformat(), "end": monday.isoformat()}, headers=anna
    )
    assert ok.status_code == 201, ok.text
    cases = {
        "leave_end_before_start": ({"start": monday.isoformat(), "end": (monday - timedelta(days=1)).isoformat()},
                                   "end", "Der letzte Urlaubstag liegt vor dem ersten"),
        "leave_no_working_day": ({"start": saturday.isoformat(), "end": (saturday + timedelta(days=1)).isoformat()},
                                 "end", "kein Arbeitstag"),
        "leave_overlap": ({"start": monday.isoformat(), "end": monday.isoformat()}, "start",
                          f"Am {monday.strftime('%d.%m.%Y')} haben Sie bereits"),
        "leave_year_out_of_range": ({"start": f"{today.year + 3}-03-01", "end": f"{today.year + 3}-03-02"}, "as_of",
                                    f"{today.year + 1}"),
        "leave_too_far_in_past": ({"start": (today - timedelta(days=60)).isoformat(),
                                   "end": (today - timedelta(days=59)).isoformat()}, "start", "rückwirkend"),
        "leave_not_enough": ({"start": monday.isoformat() if False else f"{today.year + 1}-01-04",
                              "end": f"{today.year + 1}-04-30"}, "end", "Nicht genug Urlaub"),
    }  # fmt: skip
    for rule, (body, field, words) in cases.items():
        refused = client.post("/api/v1/me/leave-requests", json=body, headers=anna)
        assert 400 <= refused.status_code < 500, (rule, refused.text)
        problem = refused.json()
        assert problem["rule"] == rule, problem
        assert words in problem["message"], problem
        assert problem["errors"][0] == {"field": field, "message": problem["message"], "code": rule}


def test_a_refused_leave_request_page_shows_the_reason_beside_the_field_and_links_to_it(
    client: TestClient[Litestar],
) -> None:
    log_in(client, "anna.schmidt", PASSWORD)
    monday = _next_weekday(_today() + timedelta(days=14), 0)
    page = client.post(
        "/vacation/requests",
        data={
            "_csrf_token": csrf_token(client, "/vacation"),
            "start": monday.isoformat(),
            "end": (monday - timedelta(days=3)).isoformat(),
        },
    )
    assert page.status_code == 422
    assert "Die Anfrage konnte nicht ausgeführt werden" not in page.text
    beside = re.search(r'<p class="field-error" id="end-error-1">([^<]+)</p>\s*<input id="end"', page.text)
    assert beside is not None and "Der letzte Urlaubstag liegt vor dem ersten" in beside.group(1)
    assert re.search(r'<input id="end"[^>]*aria-invalid="true" aria-describedby="end-error-1', page.text)
    assert '<a href="#end">Der letzte Urlaubstag liegt vor dem ersten' in page.text


def test_recent_leave_is_accepted_with_a_warning(client: TestClient[Litestar]) -> None:
    log_in(client, "anna.schmidt", PASSWORD)
    today = _today()
    day = today - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    sent = client.post(
        "/vacation/requests",
        data={"_csrf_token": csrf_token(client, "/vacation"), "start": day.isoformat(), "end": day.isoformat()},
    )
    if (today - day).days > 14 or day.year != today.year:
        return  # not a day this rule can show (the first days of a year)
    assert sent.status_code == 200, sent.text
    assert "Dieser Urlaub liegt in der Vergangenheit" in sent.text


def test_the_start_page_shows_each_role_what_it_comes_for(client: TestClient[Litestar], settings: Settings) -> None:
    year = _today().year
    log_in(client, "anna.schmidt", PASSWORD)
    start = client.get("/")
    assert f"Resturlaub {year}" in start.text
    assert re.search(r'id="remaining-days">30 Tage<', start.text)
    assert "Kein genehmigter Urlaub in Sicht" in start.text
    monday = _next_weekday(_today() + timedelta(days=21), 0)
    client.post(
        "/vacation/requests",
        data={"_csrf_token": csrf_token(client, "/vacation"), "start": monday.isoformat(), "end": monday.isoformat()},
    )
    start = client.get("/")
    assert monday.strftime("%d.%m.%Y") in start.text
    assert "Wartet auf Ihre Entscheidung" not in start.text
    client.post("/logout", data={"_csrf_token": csrf_token(client, "/")})

    log_in(client, "markus.weber", PASSWORD)
    start = client.get("/")
    assert re.search(r'Wartet auf Ihre Entscheidung <span class="count">1</span>', start.text), start.text
    assert f"Anna Schmidt: {monday.strftime('%d.%m.%Y')}" in start.text
    client.post("/logout", data={"_csrf_token": csrf_token(client, "/")})

    _provision(settings, "hanna.berger")
    log_in(client, "hanna.berger", PASSWORD)
    start = client.get("/")
    assert "Wartende Änderungsanträge" in start.text
    client.post("/logout", data={"_csrf_token": csrf_token(client, "/")})

    log_in(client, "anna.schmidt", "not the password")
    log_in(client, "admin", PASSWORD)
    start = client.get("/")
    assert "Fehlgeschlagene Anmeldungen zuletzt" in start.text
    assert "anna.schmidt</a>:" in start.text


def test_the_team_calendar_is_a_month_with_weekdays_holidays_and_navigation(
    client: TestClient[Litestar], settings: Settings
) -> None:
    anna = token(client, "anna.schmidt")
    year = _today().year + 1
    monday = _next_weekday(date(year, 5, 4), 0)
    body = {"start": monday.isoformat(), "end": (monday + timedelta(days=1)).isoformat()}
    assert client.post("/api/v1/me/leave-requests", json=body, headers=anna).status_code == 201
    log_in(client, "markus.weber", PASSWORD)
    page = client.get(f"/vacation/calendar?month={year}-05")
    assert page.status_code == 200
    assert f"Mai {year}" in page.text
    assert f'<abbr title="Montag {monday.strftime("%d.%m.%Y")}">Mo</abbr>' in page.text  # weekday names with the date
    assert "Erster Mai" in page.text  # 1 May, a public holiday in Bavaria, shaded per person
    assert 'class="cal-weekend"' in page.text
    assert f"?month={year}-04" in page.text and f"?month={year}-06" in page.text
    assert '<td class="cal-pending">' in page.text  # the manager sees the request is still open
    assert "Organisationseinheit" not in page.text  # the unit filter is HR's
    assert 'href="/vacation/calendar"' in client.get("/").text  # in the menu
    assert client.get("/vacation/calendar?month=2099-01").status_code == 422

    api = client.get(f"/api/v1/team/calendar?year={year}&month=5", headers=token(client, "markus.weber")).json()
    member = next(m for m in api["members"] if m["name"] == "Anna Schmidt")
    shown = next(d for d in member["days"] if d["day"] == monday.isoformat())
    assert (shown["leave"], shown["status"], shown["holiday"]) == ("1.0", "pending", ""), shown
    assert api["with_status"] is True
    client.post("/logout", data={"_csrf_token": csrf_token(client, "/")})

    _provision(settings, "hanna.berger")
    log_in(client, "hanna.berger", PASSWORD)
    whole = client.get(f"/vacation/calendar?month={year}-05")
    assert "Organisationseinheit" in whole.text and "Katharina Vogt" in whole.text
    it_only = client.get(f"/vacation/calendar?month={year}-05&unit=MUC-IT")
    assert "Anna Schmidt" in it_only.text and "Katharina Vogt" not in it_only.text


def test_the_manager_decides_with_the_balance_after_who_else_is_away_and_the_substitute(
    client: TestClient[Litestar], settings: Settings
) -> None:
    _provision(settings, "lukas.wagner")
    monday = _next_weekday(_today() + timedelta(days=35), 0)
    lukas = token(client, "lukas.wagner")
    assert (
        client.post(
            "/api/v1/me/leave-requests", json={"start": monday.isoformat(), "end": monday.isoformat()}, headers=lukas
        ).status_code
        == 201
    )
    log_in(client, "anna.schmidt", PASSWORD)
    sent = client.post(
        "/vacation/requests",
        data={
            "_csrf_token": csrf_token(client, "/vacation"),
            "start": monday.isoformat(),
            "end": (monday + timedelta(days=4)).isoformat(),
            "substitute": "Lukas Wagner",
        },
    )
    assert sent.status_code == 200
    told = [p.read_text() for p in Path(settings.mail.folder).glob("*.eml")]
    assert any("lukas.wagner@example-ess.test" in m and "Vertretung" in m for m in told), told
    client.post("/logout", data={"_csrf_token": csrf_token(client, "/")})

    log_in(client, "markus.weber", PASSWORD)
    team = client.get("/vacation/team").text
    card = team[team.index("Anna Schmidt: " + monday.strftime("%d.%m.%Y")) :]
    card = card[: card.index("</li>")]
    assert f"25 Tage in {monday.year}" in card or monday.year != _today().year
    assert "Lukas Wagner" in card  # also away, and the substitute
    assert f"?month={monday.year:04d}-{monday.month:02d}" in card


def test_a_request_nobody_decides_reminds_the_manager_then_goes_to_hr(
    client: TestClient[Litestar], settings: Settings
) -> None:
    monday = _next_weekday(_today() + timedelta(days=40), 0)
    anna = token(client, "anna.schmidt")
    created = client.post(
        "/api/v1/me/leave-requests", json={"start": monday.isoformat(), "end": monday.isoformat()}, headers=anna
    )
    assert created.status_code == 201
    filed = datetime.fromisoformat(created.json()["created_at"])
    folder = Path(settings.mail.folder)

    async def run_on(day: datetime) -> tuple[int, int]:
        container = build_container(settings)
        try:
            done = await remind_waiting(deps=replace(container.vacation, clock=FixedClock(day)))
        finally:
            await container.close()
        return done.reminded, done.escalated

    before = set(folder.glob("*.eml"))
    assert asyncio.run(run_on(filed + timedelta(days=2))) == (0, 0)
    assert asyncio.run(run_on(filed + timedelta(days=3))) == (1, 0)
    reminder = [p.read_text() for p in set(folder.glob("*.eml")) - before]
    assert any("markus.weber@example-ess.test" in m and "Anna Schmidt" in m for m in reminder), reminder
    assert asyncio.run(run_on(filed + timedelta(days=7))) == (0, 1)
    told = [p.read_text() for p in set(folder.glob("*.eml")) - before]
    assert any("hanna.berger@example-ess.test" in m for m in told), told


def test_the_deputy_api_names_lists_decides_and_ends(client: TestClient[Litestar], settings: Settings) -> None:
    _provision(settings, "julia.schneider")
    markus, julia, anna = (token(client, login) for login in ("markus.weber", "julia.schneider", "anna.schmidt"))
    assert client.get("/api/v1/manager/deputies", headers=anna).status_code == 403  # no team, no deputies
    listed = client.get("/api/v1/manager/deputies", headers=markus).json()
    assert listed["entries"] == [] and "P10020" in [c["personnel_number"] for c in listed["choices"]]
    today = _today()
    refused = client.post(
        "/api/v1/manager/deputies",
        json={"deputy": "P10020", "first_day": today.isoformat(), "last_day": (today - timedelta(days=1)).isoformat()},
        headers=markus,
    )
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"][0]["field"] == "last_day"
    assert "nicht vor dem ersten Tag" in refused.json()["errors"][0]["message"]
    unknown = client.post(
        "/api/v1/manager/deputies",
        json={"deputy": "P10011", "first_day": today.isoformat(), "last_day": today.isoformat()},
        headers=markus,
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "deputy"
    named = client.post(
        "/api/v1/manager/deputies",
        json={"deputy": "P10020", "first_day": today.isoformat(), "last_day": today.isoformat()},
        headers=markus,
    )
    assert named.status_code == 201, named.text
    assert (named.json()["deputy"], named.json()["active"], named.json()["mine"]) == ("Julia Schneider", True, True)

    monday = _next_weekday(today + timedelta(days=50), 0)
    body = {"start": monday.isoformat(), "end": monday.isoformat(), "substitute": "nobody"}
    wrong = client.post("/api/v1/me/leave-requests", json=body, headers=anna)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "substitute"
    filed = client.post("/api/v1/me/leave-requests", json=body | {"substitute": "P10015"}, headers=anna)
    assert filed.status_code == 201 and filed.json()["substitute"] == "Lukas Wagner"
    waiting = client.get("/api/v1/manager/leave-requests", headers=julia).json()
    mine = next(r for r in waiting if r["id"] == filed.json()["id"])
    assert mine["on_behalf_of"] == "Markus Weber"
    approved = client.post(f"/api/v1/manager/leave-requests/{mine['id']}/approve", json={}, headers=julia)
    assert approved.status_code == 200 and approved.json()["decided_by"] == "julia.schneider"

    entry = named.json()["id"]
    assert client.delete(f"/api/v1/manager/deputies/{entry}", headers=julia).status_code == 404  # not hers to end
    assert client.delete(f"/api/v1/manager/deputies/{entry}", headers=markus).status_code == 204
    assert client.delete(f"/api/v1/manager/deputies/{entry}", headers=markus).status_code == 404
    assert client.get("/api/v1/manager/leave-requests", headers=julia).json() == []
