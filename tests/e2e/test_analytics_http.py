"""Self-service analytics over HTTP (the in-process app on SQLite): the real pages record the journeys (nothing is
inserted by the test), "Did that solve your concern?" ends a flow without JavaScript, the API and the dashboard show
each role its own flows with figures below k withheld, and nothing stored names a person."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from ess.adapters.help_content import shipped_articles
from ess.adapters.hr_files import read_hr_file
from ess.adapters.sql.analytics import SqlJourneyRepository
from ess.app import create_app
from ess.bootstrap import build_container
from ess.cli import DEMO_COMPANY
from ess.demo_history import DEMO_PASSWORD
from ess.domain.analytics.recording import delete_expired
from ess.domain.help.articles import seed_articles
from ess.domain.hr_import.importing import ImportEmployees, import_employees
from tests.conftest import make_settings, migrate
from tests.e2e.helpers import CSRF_INPUT, log_in
from tests.fakes import FixedClock

NEW_PASSWORD = "Kanarienvogel singt im Treppenhaus 2026"
OTHER_PASSWORD = "Zitronenfalter tanzt am Gartenzaun 2027"
SOLVED_FORM = re.compile(r'name="flow" value="([a-z_]+)">\s*<input type="hidden" name="journey" value="([\w-]+)"')
BASE = "http://127.0.0.1:8000"
METRICS_TOKEN = "prometheus-scrape-token-0123456789"


@dataclass
class World:
    app: Litestar
    clock: FixedClock
    db: Path
    browser: TestClient[Litestar]  # one client: the app's lifespan (and its workers) runs on one event loop

    def client(self) -> TestClient[Litestar]:
        """The browser with no cookies: a new visitor."""
        self.browser.cookies.clear()
        return self.browser

    def rows(self, table: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db) as connection:
            return list(connection.execute(f"SELECT * FROM {table}"))  # noqa: S608 - the test's own table names


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    db = tmp_path / "ess.db"
    url = f"sqlite+aiosqlite:///{db}"
    migrate(url)
    settings = make_settings(url, ESS_ANALYTICS__K="2", ESS_METRICS__TOKEN=METRICS_TOKEN)
    clock = FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))  # a Monday
    container = build_container(settings, clock=clock)

    async def seed() -> None:
        await import_employees(
            ImportEmployees(records=read_hr_file(DEMO_COMPANY), source_name="company.csv", actor="test"),
            deps=container.hr_import,
        )
        assert container.local_directory is not None
        for login in ("anna.schmidt", "hanna.berger", "ivan.petrovic", "admin"):
            groups = ["ess-admins"] if login == "admin" else []
            await container.local_directory.provision(login, password=DEMO_PASSWORD, groups=groups)
        await seed_articles(shipped_articles(), review_due=date(2027, 11, 22), deps=container.help)

    asyncio.run(seed())
    app = create_app(settings, container=container)
    with TestClient(app=app, base_url=BASE) as browser:
        yield World(app, clock, db, browser)


def csrf(client: TestClient[Litestar], html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match is not None
    return match.group(1)


def signed_in(world: World, login: str) -> TestClient[Litestar]:
    client = world.client()
    assert log_in(client, login, DEMO_PASSWORD).status_code == 303
    return client


def answer(client: TestClient[Litestar], html: str, solved: str, comment: str = "") -> int:
    match = SOLVED_FORM.search(html)
    assert match is not None, "the page ending the flow asks whether it solved the concern"
    flow, journey = match.groups()
    data = {"_csrf_token": csrf(client, html), "flow": flow, "journey": journey, "solved": solved, "comment": comment}
    return client.post("/analytics/solved", data=data).status_code


def token(client: TestClient[Litestar], login: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    found = client.post("/api/v1/auth/token", json={"username": login, "password": password})
    assert found.status_code == 200, found.text
    return {"Authorization": f"Bearer {found.json()['access_token']}"}


def figures(client: TestClient[Litestar], login: str, day: str = "2026-11-23") -> dict[str, dict[str, Any]]:
    found = client.get("/api/v1/analytics/self-service", params={"from": day, "to": day}, headers=token(client, login))
    assert found.status_code == 200, found.text
    body = found.json()
    assert set(body) == {"flows", "savings"}
    assert set(body["savings"]) == {"hours", "amount", "currency", "formula"}
    return {f["flow"]: f for f in body["flows"]}


def change_password(client: TestClient[Litestar], current: str, new: str) -> str:
    form = client.get("/password").text
    data = {"_csrf_token": csrf(client, form), "current_password": current, "new_password": new,
            "new_password_repeat": new}  # fmt: skip
    done = client.post("/password", data=data)
    assert done.status_code == 200, done.text
    return done.text


def request_leave(client: TestClient[Litestar], start: str) -> None:
    page = client.get("/vacation").text
    created = client.post(
        "/vacation/requests", data={"_csrf_token": csrf(client, page), "start": start, "end": start},
        follow_redirects=False,
    )  # fmt: skip
    assert created.status_code == 303, created.text


async def recount(world: World) -> None:
    deps = world.app.dependencies["analytics"].dependency()
    async with deps.new_uow() as uow:
        assert isinstance(uow.journeys, SqlJourneyRepository)
        await uow.journeys.rebuild_counters()
        await uow.commit()


def test_the_flows_record_journeys_and_each_role_sees_its_own(world: World) -> None:
    anna = signed_in(world, "anna.schmidt")

    # Password change: a wrong current password fails, the right one completes; the answer page asks.
    form = anna.get("/password").text
    data = {"_csrf_token": csrf(anna, form), "current_password": "falsch", "new_password": NEW_PASSWORD,
            "new_password_repeat": NEW_PASSWORD}  # fmt: skip
    wrong = anna.post("/password", data=data)
    assert wrong.status_code != 200
    assert 'name="solved"' not in wrong.text
    change_password(anna, DEMO_PASSWORD, NEW_PASSWORD)
    after = anna.get("/").text  # the change ended every session: the next page asks, with the new session's form
    assert "Hat das Ihr Anliegen gelöst?" in after
    assert answer(anna, after, "yes") == 200
    world.clock.advance(timedelta(minutes=2))
    change_password(anna, NEW_PASSWORD, OTHER_PASSWORD)
    after = anna.get("/").text
    assert answer(anna, after, "partly", "Die Regeln waren unklar") == 200
    assert answer(anna, after, "maybe") == 422

    # Leave, twice: the page after the redirect asks once.
    request_leave(anna, "2026-12-07")
    after = anna.get("/vacation?created=1").text
    assert answer(anna, after, "no") == 200
    assert 'name="solved"' not in anna.get("/vacation?created=1").text  # shown once
    request_leave(anna, "2026-12-08")

    # Bank details: refused once, one journey only (below k).
    bank = anna.get("/profile/edit/bank").text
    refused = anna.post("/profile/edit/bank", data={"_csrf_token": csrf(anna, bank), "iban": "DE00 1234"})
    assert refused.status_code == 422

    # Search twice with a click-through once, and a search that finds nothing twice.
    anna.get("/search", params={"q": "Resturlaub"})
    anna.get("/help/urlaub-beantragen", headers={"Referer": f"{BASE}/search?q=Resturlaub"})
    anna.get("/search", params={"q": "Resturlaub"})
    anna.get("/search", params={"q": "Quxbarfoo"})
    anna.get("/search", params={"q": "quxbarfoo  "})

    client = world.client()
    it = figures(client, "ivan.petrovic")
    assert set(it) >= {"password_change", "password_reset", "unlock", "search"}
    assert "leave_request" not in it and "bank_change" not in it
    change = it["password_change"]
    assert (change["started"], change["completed"], change["failed"], change["suppressed"]) == (2, 2, 1, False)
    assert (change["solved_yes"], change["solved_partly"], change["solved_no"]) == (1, 1, 0)
    assert change["median_seconds"] is not None

    hr = figures(client, "hanna.berger")
    assert "password_change" not in hr
    leave = hr["leave_request"]
    assert (leave["started"], leave["completed"], leave["solved_no"]) == (2, 2, 1)
    assert hr["bank_change"]["suppressed"] is True and hr["bank_change"]["started"] is None
    search = hr["search"]
    assert (search["started"], search["completed"], search["failed"]) == (4, 1, 2)
    hr_savings = client.get("/api/v1/analytics/self-service", headers=token(client, "hanna.berger")).json()
    assert "(completed - escalated) x minutes per call" in hr_savings["savings"]["formula"]
    assert hr_savings["savings"]["currency"] == "CHF"

    denied = client.get("/api/v1/analytics/self-service", headers=token(client, "anna.schmidt", OTHER_PASSWORD))
    assert denied.status_code == 403
    assert denied.headers["content-type"].startswith("application/problem+json")
    bad = client.get("/api/v1/analytics/self-service", params={"from": "2026-11-30", "to": "2026-11-01"},
                     headers=token(client, "hanna.berger"))  # fmt: skip
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_input"
    assert client.get("/api/v1/analytics/self-service", params={"from": "gestern"},
                      headers=token(client, "hanna.berger")).status_code == 400  # fmt: skip

    metrics = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    assert 'ess_selfservice_journey_steps_total{flow="password_change",step="completed"} 2.0' in metrics

    # The counters kept event by event are what a recount from the stored journeys and events gives.
    before = figures(client, "admin")
    asyncio.run(recount(world))
    assert figures(client, "admin") == before

    # Nothing stored names a person: no login, name or personnel number in any analytics row.
    stored = repr(world.rows("analytics_events")) + repr(world.rows("analytics_journeys"))
    for personal in ("anna", "schmidt", "P10", "@", "127.0.0.1"):
        assert personal not in stored
    assert "quxbarfoo" in stored  # the folded search words, for the list of queries without results


def test_abandoned_journeys_and_the_retention_job(world: World) -> None:
    client = world.client()
    for _ in range(2):
        client.cookies.clear()
        assert client.get("/password/forgot").status_code == 200  # started, never finished
    client.cookies.clear()
    client.get("/password/forgot?purpose=unlock")
    world.clock.advance(timedelta(minutes=61))
    client = world.client()
    reset = figures(client, "ivan.petrovic")["password_reset"]
    assert (reset["started"], reset["completed"], reset["abandoned"]) == (2, 0, 2)
    assert figures(client, "ivan.petrovic")["unlock"]["suppressed"] is True

    world.clock.advance(timedelta(days=396))
    container_deps = world.app.dependencies["analytics"].dependency()
    assert asyncio.run(delete_expired(deps=container_deps)) == 3
    assert world.rows("analytics_events") == [] and world.rows("analytics_journeys") == []


def test_the_dashboard_is_for_hr_and_it_with_tables_csv_and_annotations(world: World) -> None:
    anna = signed_in(world, "anna.schmidt")
    for day in ("2026-12-07", "2026-12-08"):
        request_leave(anna, day)
    assert anna.get("/analytics").status_code == 403
    assert anna.get("/analytics/export.csv").status_code == 403

    hanna = signed_in(world, "hanna.berger")
    page = hanna.get("/analytics")
    assert page.status_code == 200
    assert "<svg" in page.text and "<table" in page.text
    assert "Urlaubsantrag" in page.text and "Passwort ändern" not in page.text
    added = hanna.post("/analytics/annotations", data={"_csrf_token": csrf(hanna, page.text), "day": "2026-11-20",
                                                       "text": "Neuer Artikel: Urlaub beantragen"},
                       follow_redirects=False)  # fmt: skip
    assert added.status_code == 303
    assert "Neuer Artikel: Urlaub beantragen" in hanna.get("/analytics").text
    refused = hanna.post("/analytics/annotations", data={"_csrf_token": csrf(hanna, page.text), "day": "bald",
                                                         "text": "x"})  # fmt: skip
    assert refused.status_code == 422
    assert hanna.get("/analytics", params={"from": "morgen"}).status_code == 200  # named on the form, not a 500

    exported = hanna.get("/analytics/export.csv", params={"from": "2026-11-01", "to": "2026-11-30"})
    assert exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.splitlines()
    assert lines[0].startswith("flow,started,completed,failed,abandoned,escalated")
    assert any(line.startswith("leave_request,2,2,") for line in lines)
    assert any(line.startswith("formula,") for line in lines)


def ask_for_help(client: TestClient[Litestar], topic: str) -> None:
    form = client.get("/help-requests/new", params={"topic": topic}).text
    sent = client.post(
        "/help-requests/new",
        data={
            "_csrf_token": csrf(client, form),
            "topic": topic,
            "subject": "Frage",
            "message": "Bitte helfen Sie mir.",
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text


def leave_figures(client: TestClient[Litestar]) -> dict[str, Any]:
    found = client.get(
        "/api/v1/analytics/self-service", params={"from": "2026-11-23", "to": "2026-11-30"},
        headers=token(client, "hanna.berger"),
    )  # fmt: skip
    assert found.status_code == 200, found.text
    [leave] = [f for f in found.json()["flows"] if f["flow"] == "leave_request"]
    return dict(leave)


def test_a_help_request_on_the_topic_escalates_the_journey_before_it(world: World) -> None:
    ivan = signed_in(world, "ivan.petrovic")
    request_leave(ivan, "2026-12-08")
    ivan_journey = ivan.cookies["ess_j_leave_request"]
    anna = signed_in(world, "anna.schmidt")  # the same test browser, now anna's (ivan's cookies are gone)
    request_leave(anna, "2026-12-07")
    world.clock.advance(timedelta(minutes=10))
    ask_for_help(anna, "login")  # another topic: the leave journey stays as it was
    leave = leave_figures(anna)
    assert (leave["started"], leave["completed"], leave["escalated"]) == (2, 2, 0)
    ask_for_help(anna, "leave")
    assert leave_figures(anna)["escalated"] == 1
    ask_for_help(anna, "leave")  # a second request escalates the same journey no further
    assert leave_figures(anna)["escalated"] == 1

    # Past the escalation window (48 hours) a help request does not count against the journey.
    world.clock.advance(timedelta(hours=49))
    ivan = signed_in(world, "ivan.petrovic")
    ivan.cookies.set("ess_j_leave_request", ivan_journey)
    ask_for_help(ivan, "leave")
    assert leave_figures(ivan)["escalated"] == 1
