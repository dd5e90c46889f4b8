"""The acceptance case: with the directory stopped, anna.schmidt changes her phone. The change is saved and shown as
pending; after the directory is started again it lands there without anyone touching it (the app's own worker)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from ess.adapters.hr_files import read_hr_file
from ess.app import create_app
from ess.bootstrap import build_container
from ess.domain.hr_import.importing import ImportEmployees, import_employees
from ess.settings import Settings
from tests.e2e.conftest import DEMO_COMPANY
from tests.harness.directory import DirectoryServer
from tests.harness.slapd import running_slapd
from tests.integration.test_outbox_directory import ldap_directory, ldap_settings

PASSWORD = "Startpasswort 2026"
WAIT_SECONDS = 90.0  # an upper bound for the worker; the test asserts outcomes, never durations


@pytest.fixture
def own_slapd() -> Iterator[DirectoryServer]:
    """A slapd of this test's own: it is stopped and started."""
    with running_slapd() as server:
        yield server


async def import_demo_company(settings: Settings) -> None:
    container = build_container(settings)
    try:
        await import_employees(
            ImportEmployees(records=read_hr_file(DEMO_COMPANY), source_name="company.csv", actor="test"),
            deps=container.hr_import,
        )
    finally:
        await container.close()


def mobile_in_directory(server: DirectoryServer) -> str:
    async def read() -> str:
        directory = ldap_directory(server.endpoint)
        try:
            return (await directory.read_attributes("anna.schmidt", ["mobile_phone"]))["mobile_phone"]
        finally:
            directory.close()

    return asyncio.run(read())


def test_a_phone_change_while_the_directory_is_down_lands_after_it_is_back(
    own_slapd: DirectoryServer, sqlite_url: str
) -> None:
    own_slapd.add_user(
        "anna.schmidt",
        PASSWORD,
        given_name="Anna",
        surname="Schmidt",
        mail="anna.schmidt@example-ess.test",
        attributes={"mobile": "+491701234567"},
    )
    settings = ldap_settings(sqlite_url, own_slapd)
    asyncio.run(import_demo_company(settings))

    with TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as client:
        issued = client.post("/api/v1/auth/token", json={"username": "anna.schmidt", "password": PASSWORD})
        assert issued.status_code in (200, 201), issued.text
        auth = {"Authorization": f"Bearer {issued.json()['access_token']}"}

        own_slapd.stop()
        changed = client.patch("/api/v1/me/profile", json={"changes": {"mobile_phone": "0151 23456789"}}, headers=auth)
        assert changed.status_code == 200, changed.text
        assert changed.json()["applied"] == ["mobile_phone"]
        mobile = client.get("/api/v1/me/profile", headers=auth).json()["fields"]["mobile_phone"]
        assert mobile["value"] == {"mobile_phone": "+4915123456789"}  # saved in the HR record
        assert mobile["pending_synchronisation"] is True  # and shown as waiting for the directory
        time.sleep(1.0)  # the worker tries and backs off meanwhile
        assert client.get("/api/v1/me/profile", headers=auth).json()["fields"]["mobile_phone"][
            "pending_synchronisation"
        ]

        own_slapd.start()  # nobody calls retry
        deadline = time.monotonic() + WAIT_SECONDS
        while client.get("/api/v1/me/profile", headers=auth).json()["fields"]["mobile_phone"][
            "pending_synchronisation"
        ]:
            if time.monotonic() > deadline:
                pytest.fail("the change did not land after the directory came back")
            time.sleep(0.1)

    assert mobile_in_directory(own_slapd) == "+4915123456789"
