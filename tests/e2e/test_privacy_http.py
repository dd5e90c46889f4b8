"""The audit viewer, "my data" and the operator console through the real app (SQLite, the local directory): each
role sees exactly its events, downloads are audited, the export is the caller's own, and the console's upload
refuses a broken file and changes nothing."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Final

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import text

from ess.app import create_app
from ess.bootstrap import build_container
from ess.domain.audit import AuditEvent, Outcome
from ess.settings import Settings
from tests.conftest import make_settings
from tests.e2e.conftest import DEMO_COMPANY, DEMO_PASSWORD, seed
from tests.e2e.helpers import csrf_token, log_in

SEEDED_ACTIONS: Final = (
    "auth.login",
    "recovery.link_sent",
    "helpdesk.unlock",
    "mfa.enrolled",
    "password.change",
    "hr.import",
    "profile.change",
    "leave.requested",
    "help.article_saved",
    "outbox.applied",
)
SECURITY: Final = {"auth.login", "recovery.link_sent", "helpdesk.unlock", "mfa.enrolled", "password.change"}
HR: Final = {"hr.import", "profile.change", "leave.requested"}


async def _seed(settings: Settings) -> None:
    await seed(settings)
    container = build_container(settings)
    try:
        assert container.local_directory is not None
        for login, groups in (("dsb", ["ess-datenschutz"]), ("hanna.berger", []), ("lukas.wagner", [])):
            await container.local_directory.provision(login, password=DEMO_PASSWORD, groups=groups)
        async with container.new_uow() as uow:
            await uow.audit.add(AuditEvent(datetime(2026, 1, 5, tzinfo=UTC), "seed", "marker", Outcome.SUCCESS))
            for action in SEEDED_ACTIONS:
                event = AuditEvent(datetime(2026, 1, 6, tzinfo=UTC), "seeder", action, Outcome.SUCCESS, "someone")
                await uow.audit.add(event)
            await uow.commit()
    finally:
        await container.close()


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    settings = make_settings(sqlite_url)
    asyncio.run(_seed(settings))
    return settings


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient[Litestar]]:
    with TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


def _as(client: TestClient[Litestar], login: str) -> None:
    """Logged in for the pages (session cookie) and for the API (bearer token)."""
    client.cookies.clear()
    client.headers.pop("Authorization", None)
    assert log_in(client, login, DEMO_PASSWORD).status_code == 303
    token = client.post("/api/v1/auth/token", json={"username": login, "password": DEMO_PASSWORD}).json()
    client.headers["Authorization"] = f"Bearer {token['access_token']}"


def _seeded_actions(client: TestClient[Litestar]) -> set[str]:
    response = client.get("/api/v1/audit-events", params={"actor": "seeder", "limit": 1000})
    assert response.status_code == 200, response.text
    return {event["action"] for event in response.json()["events"]}


@pytest.mark.parametrize(
    ("login", "expected"),
    [("dsb", set(SEEDED_ACTIONS)), ("lukas.wagner", SECURITY), ("admin", SECURITY), ("hanna.berger", HR)],
)
def test_each_role_sees_exactly_its_events(client: TestClient[Litestar], login: str, expected: set[str]) -> None:
    _as(client, login)
    assert _seeded_actions(client) == expected
    page = client.get("/audit", params={"actor": "seeder"})
    assert page.status_code == 200
    for action in SEEDED_ACTIONS:
        assert (f"<strong>{action}</strong>" in page.text) == (action in expected), action


def test_an_employee_sees_no_audit_trail(client: TestClient[Litestar]) -> None:
    _as(client, "anna.schmidt")
    response = client.get("/api/v1/audit-events")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    assert client.get("/audit").status_code == 403


def test_filters_and_paging(client: TestClient[Litestar]) -> None:
    _as(client, "dsb")
    api = "/api/v1/audit-events"
    assert {e["action"] for e in client.get(api, params={"action": "leave."}).json()["events"]} == {"leave.requested"}
    by_time = client.get(api, params={"since": "2026-01-05T00:00:00Z", "until": "2026-01-06T00:00:00Z"}).json()
    assert [e["action"] for e in by_time["events"]] == ["marker"]
    assert {e["target"] for e in client.get(api, params={"subject": "someone"}).json()["events"]} == {"someone"}
    first = client.get(api, params={"actor": "seeder", "limit": 4}).json()
    second = client.get(api, params={"actor": "seeder", "limit": 4, "before_id": first["next_before_id"]}).json()
    assert len(first["events"]) == len(second["events"]) == 4
    assert first["events"][-1]["id"] > second["events"][0]["id"]
    bad = client.get(api, params={"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"})
    assert bad.status_code == 422


def test_csv_and_json_downloads_are_scoped_and_audited(client: TestClient[Litestar]) -> None:
    _as(client, "hanna.berger")
    csv_text = client.get("/audit/export", params={"format": "csv", "actor": "seeder"}).text
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("id;occurred_at;actor;action")
    assert sorted(line.split(";")[3] for line in lines[1:]) == sorted(HR)
    events = json.loads(client.get("/audit/export", params={"format": "json", "actor": "seeder"}).text)
    assert {e["action"] for e in events} == HR
    _as(client, "dsb")
    exported = client.get("/api/v1/audit-events", params={"action": "privacy.audit_exported"}).json()["events"]
    assert [(e["actor"], e["details"]["format"]) for e in exported] == [
        ("hanna.berger", "json"),
        ("hanna.berger", "csv"),
    ]


def test_my_data_page_zip_and_api_hold_only_the_callers_data(client: TestClient[Litestar]) -> None:
    _as(client, "anna.schmidt")
    page = client.get("/my-data")
    assert page.status_code == 200 and "hr_record" in page.text and "anna.schmidt@example-ess.test" in page.text
    token = csrf_token(client, "/my-data")
    download = client.post("/my-data/download", data={"_csrf_token": token})
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        data = json.loads(archive.read("data.json"))
        assert "sections/hr_record.json" in archive.namelist()
    assert data["login"] == "anna.schmidt" and data["sections"]["hr_record"][0]["personnel_number"] == "P10011"
    api = client.get("/api/v1/me/export").json()
    assert api["sections"]["hr_record"] == data["sections"]["hr_record"]
    assert "markus" not in json.dumps(api).lower()
    _as(client, "dsb")
    events = client.get("/api/v1/audit-events", params={"action": "privacy.data_exported"}).json()["events"]
    assert [e["actor"] for e in events] == ["anna.schmidt"] * 4  # two page views, the ZIP, the API


def test_the_console_is_for_admins_only(client: TestClient[Litestar]) -> None:
    _as(client, "hanna.berger")
    assert client.get("/admin").status_code == 403
    assert client.get("/admin/hr-import").status_code == 403
    _as(client, "admin")
    page = client.get("/admin")
    assert page.status_code == 200
    assert "secret_key" in page.text and "test-secret-key" not in page.text
    token = csrf_token(client, "/admin")
    checked = client.post("/admin/directory-check", data={"_csrf_token": token})
    assert checked.status_code == 200 and "local directory" in checked.text


def _employees(settings: Settings) -> list[tuple[str, ...]]:
    async def read() -> list[tuple[str, ...]]:
        container = build_container(settings)
        try:
            async with container.new_uow() as uow:
                session = getattr(uow, "session")  # noqa: B009 - raw rows, to compare before and after
                rows = await session.execute(text("SELECT personnel_number, login, first_name, street FROM employees"))
                return sorted(tuple(row) for row in rows)
        finally:
            await container.close()

    return asyncio.run(read())


def test_the_console_upload_previews_and_refuses_a_broken_file_changing_nothing(
    client: TestClient[Litestar], settings: Settings
) -> None:
    _as(client, "admin")
    before = _employees(settings)
    good = DEMO_COMPANY.read_text(encoding="utf-8").replace("Sendlinger Straße 18", "Sendlinger Straße 20")
    broken = good.replace("P10015,lukas.wagner,Lukas", "P10015,lukas.wagner,", 1).replace(
        ",2022-08-01,", ",2022-13-01,"
    )

    def upload(content: str, action: str) -> str:
        token = csrf_token(client, "/admin/hr-import")
        files = {"file": ("company.csv", content.encode(), "text/csv")}
        response = client.post("/admin/hr-import", data={"_csrf_token": token, "action": action}, files=files)
        assert response.status_code == 200, response.text
        return response.text

    preview = upload(good, "preview")
    assert "1 changed" in preview or "1 geändert" in preview
    refused = upload(broken, "import")
    assert "first_name" in refused and "hire_date" in refused  # every bad row, by field
    assert _employees(settings) == before  # neither the preview nor the refused import changed anything
    upload(good, "import")
    assert _employees(settings) != before


def _sql(settings: Settings, statement: str, **params: object) -> list[tuple[object, ...]]:
    async def go() -> list[tuple[object, ...]]:
        container = build_container(settings)
        try:
            async with container.new_uow() as uow:
                session = getattr(uow, "session")  # noqa: B009 - raw rows for the set-up and the checks
                result = await session.execute(text(statement), params)
                rows = [tuple(row) for row in result] if result.returns_rows else []
                await uow.commit()
                return rows
        finally:
            await container.close()

    return asyncio.run(go())


def test_the_console_retries_a_given_up_mail_and_a_failed_directory_change(
    client: TestClient[Litestar], settings: Settings
) -> None:
    _sql(
        settings,
        "INSERT INTO mail_queue (kind, recipients, subject, body, status, created_at, attempts, last_error) "
        "VALUES ('leave_decided', '[\"x@example-ess.test\"]', 's', 'sealed', 'failed', :now, 12, 'gave up')",
        now=datetime(2026, 11, 1, tzinfo=UTC),
    )
    [(mail_id,)] = _sql(settings, "SELECT id FROM mail_queue WHERE status = 'failed'")
    [(anna_id,)] = _sql(settings, "SELECT id FROM employees WHERE login = 'anna.schmidt'")
    _sql(
        settings,
        'INSERT INTO directory_outbox (employee_id, login, "values", expected, status, created_at, attempts, '
        "last_error, conflicts, forced_by) VALUES (:e, 'anna.schmidt', '{\"work_phone\": \"+49895550099\"}', "
        "'{}', 'failed', :now, 9, 'gave up', '{}', '')",
        e=anna_id,
        now=datetime(2026, 11, 1, tzinfo=UTC),
    )
    [(change_id,)] = _sql(settings, "SELECT id FROM directory_outbox WHERE status = 'failed'")
    _as(client, "admin")
    console = client.get("/admin")
    assert f"#{mail_id}" in console.text and f"#{change_id}" in console.text
    token = csrf_token(client, "/admin")
    sent = client.post(f"/admin/mail/{mail_id}/retry", data={"_csrf_token": token}, follow_redirects=False)
    assert sent.status_code == 303
    retried = client.post(f"/admin/outbox/{change_id}/retry", data={"_csrf_token": token}, follow_redirects=False)
    assert retried.status_code == 303 and "done=" in retried.headers["location"]
    actions = _sql(settings, "SELECT action FROM audit_events WHERE actor = 'admin' ORDER BY id")
    assert ("mail_retried",) in actions and ("directory_change_retried",) in actions
    [(status,)] = _sql(settings, "SELECT status FROM directory_outbox WHERE id = :id", id=change_id)
    assert status in {"applied", "pending"}  # due again, and tried at once
    missing = client.post("/admin/mail/999999/retry", data={"_csrf_token": token}, follow_redirects=False)
    assert missing.status_code == 303 and missing.headers["location"].endswith("done=refused#mail")
