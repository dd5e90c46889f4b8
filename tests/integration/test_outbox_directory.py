"""Write-back through the outbox to a real slapd and a real Samba AD DC: landing, conflicts, an outage, a restart."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from ess.adapters.clock import SystemClock
from ess.adapters.ldap.connections import ConnectionSettings, DirectoryConnector
from ess.adapters.ldap.directory import LdapDirectory
from ess.adapters.mail import SmtpMailer
from ess.adapters.notifications import MailNotifier
from ess.adapters.sql.database import create_engine, create_session_factory
from ess.adapters.sql.unit_of_work import SqlUnitOfWork
from ess.app import create_app
from ess.bootstrap import build_container
from ess.domain.mail.ports import MailDeps
from ess.domain.mail.queue import QueuedNotifier
from ess.domain.outbox.delivery import deliver_due, run_worker
from ess.domain.outbox.model import DirectoryChange, OutboxStatus, RetryPolicy
from ess.domain.outbox.queue import pending_fields, record_directory_change
from ess.domain.outbox.retry import retry
from ess.domain.shared import Clock
from ess.domain.types import EmployeeId
from ess.settings import Settings
from tests.conftest import make_settings
from tests.factories import employee, outbox_deps
from tests.harness.directory import DirectoryEndpoint, DirectoryServer
from tests.harness.slapd import running_slapd
from tests.harness.smtp import running_smtp_sink
from tests.integration.test_mail import smtp_settings, text_of

PASSWORD = "Startpasswort 2026"
_numbers = itertools.count(1)
# Generous upper bounds for waiting on the background worker; the assertions are on outcomes, never on durations.
WAIT_SECONDS = 90.0


def attribute_map(kind: str) -> dict[str, str]:
    return {
        "work_phone": "telephoneNumber",
        "mobile_phone": "mobile",
        "display_name": "displayName",
        "street": "streetAddress" if kind == "activedirectory" else "street",
        "postal_code": "postalCode",
        "city": "l",
    }


def ldap_directory(endpoint: DirectoryEndpoint) -> LdapDirectory:
    connector = DirectoryConnector(
        ConnectionSettings(
            uris=endpoint.uris,
            start_tls=endpoint.start_tls,
            ca_file=str(endpoint.ca_file),
            verify_tls=True,
            connect_timeout=2.0,
            operation_timeout=5.0,
            bind_dn=endpoint.bind_dn,
            bind_password=endpoint.bind_password,
            pool_size=2,
        )
    )
    return LdapDirectory(
        connector,
        flavour=endpoint.kind,
        user_base_dn=endpoint.user_base_dn,
        user_filter=endpoint.user_filter,
        login_attribute=endpoint.login_attribute,
        email_attribute=endpoint.email_attribute,
        group_base_dn=endpoint.group_base_dn,
        attributes=attribute_map(endpoint.kind),
    )


@dataclass
class World:
    server: DirectoryServer
    directory: LdapDirectory
    new_uow: Any
    clock: Clock

    async def account(self, prefix: str, **attributes: str) -> tuple[str, EmployeeId]:
        login = f"{prefix}{next(_numbers)}"  # AD logins (sAMAccountName) have at most 20 characters
        await asyncio.to_thread(
            self.server.add_user,
            login,
            PASSWORD,
            given_name="Anna",
            surname="Schmidt",
            mail=f"{login}@example-ess.test",
            attributes=attributes,
        )
        async with self.new_uow() as uow:
            await uow.employees.save_all(
                [employee(personnel_number=f"P{login}", login=login, work_email=f"{login}@example-ess.test")]
            )
            hired = await uow.employees.by_login(login)
            await uow.commit()
        assert hired is not None
        assert hired.id is not None
        return login, hired.id

    async def queue(self, employee_id: EmployeeId, login: str, old: dict[str, str], new: dict[str, str]) -> int:
        async with self.new_uow() as uow:
            change = await record_directory_change(
                uow, employee_id=employee_id, login=login, old=old, new=new, now=self.clock.now(), actor=login
            )
            await uow.commit()
        assert change is not None
        assert change.id is not None
        return change.id

    async def entry(self, change_id: int) -> DirectoryChange:
        async with self.new_uow() as uow:
            found = await uow.outbox.get(change_id)
        assert found is not None
        return found


@pytest.fixture
async def world_on(sqlite_url: str) -> AsyncIterator[Any]:
    engine = create_engine(sqlite_url)
    factory = create_session_factory(engine)
    clock = SystemClock()
    made: list[LdapDirectory] = []

    def build(server: DirectoryServer) -> World:
        directory = ldap_directory(server.endpoint)
        made.append(directory)
        return World(server, directory, lambda: SqlUnitOfWork(factory, clock), clock)

    yield build
    for directory in made:
        directory.close()
    await engine.dispose()


@pytest.fixture(params=["openldap", "activedirectory"])
def server(request: pytest.FixtureRequest) -> DirectoryServer:
    fixture: DirectoryServer = request.getfixturevalue("slapd" if request.param == "openldap" else "samba")
    return fixture


FIELDS = ["work_phone", "mobile_phone", "display_name", "street", "postal_code", "city"]


async def test_an_entry_lands_in_the_directory(server: DirectoryServer, world_on: Any) -> None:
    world: World = world_on(server)
    street = "streetAddress" if server.endpoint.kind == "activedirectory" else "street"
    login, employee_id = await world.account(
        "ob.land", telephoneNumber="+49 89 1111", **{street: "Leopoldstraße 1"}, postalCode="80802", l="München"
    )
    old = {
        "work_phone": "+49 89 1111",
        "mobile_phone": "",
        "display_name": "Anna Schmidt",
        "street": "Leopoldstraße 1",
        "postal_code": "80802",
        "city": "München",
    }
    new = {
        "work_phone": "+49891234567",
        "mobile_phone": "+491701234567",
        "display_name": "Anna Schmidt-Weber",
        "street": "Hohe Straße 5",
        "postal_code": "50667",
        "city": "Köln",
    }
    change_id = await world.queue(employee_id, login, old, new)
    sync = outbox_deps(world.new_uow, world.directory, world.clock)
    report = await deliver_due(deps=sync)
    assert report.applied == [change_id]
    assert await world.directory.read_attributes(login, FIELDS) == new
    assert (await world.entry(change_id)).status is OutboxStatus.APPLIED
    # clearing a value lands too
    cleared = await world.queue(employee_id, login, new, {**new, "mobile_phone": ""})
    assert (await deliver_due(deps=sync)).applied == [cleared]
    assert (await world.directory.read_attributes(login, ["mobile_phone"])) == {"mobile_phone": ""}


async def test_a_value_changed_in_the_directory_is_reported_and_left_untouched(
    server: DirectoryServer, world_on: Any
) -> None:
    world: World = world_on(server)
    login, employee_id = await world.account("ob.conf", mobile="+49 170 9999999", l="München")
    change_id = await world.queue(
        employee_id,
        login,
        {"mobile_phone": "+491701111111", "city": "München"},
        {"mobile_phone": "+491702222222", "city": "Köln"},
    )
    with running_smtp_sink() as sink:
        postman = MailNotifier(SmtpMailer(smtp_settings(sink)), locale="de", company="Test", base_url="http://x")
        notifier = QueuedNotifier(
            MailDeps(
                new_uow=world.new_uow, postman=postman, clock=world.clock, policy=RetryPolicy(), wake=asyncio.Event()
            )
        )
        sync = outbox_deps(
            world.new_uow, world.directory, world.clock, notifier=notifier, hr_recipients=["hr@example-ess.test"]
        )
        report = await deliver_due(deps=sync)
        [mail] = await asyncio.to_thread(sink.wait_for, 1)
    assert report.conflicts == [change_id]
    assert mail["To"] == "hr@example-ess.test"
    assert mail["Subject"] == f"Verzeichnisänderung {change_id} für {login} wurde nicht übernommen"
    assert f"ess outbox retry {change_id} --force" in text_of(mail)
    assert "+49 170 9999999" not in text_of(mail)  # field names only: the values stay in ESS
    conflict = await world.entry(change_id)
    assert conflict.status is OutboxStatus.CONFLICT
    assert conflict.conflicts == {"mobile_phone": "+49 170 9999999"}
    # nothing of the entry was written, not even the city that did not conflict
    assert await world.directory.read_attributes(login, ["mobile_phone", "city"]) == {
        "mobile_phone": "+49 170 9999999",
        "city": "München",
    }
    async with world.new_uow() as uow:
        assert await pending_fields(uow, employee_id) == {"mobile_phone", "city"}
    await retry(change_id, deps=sync, force=True, actor="cli:hr")
    assert (await deliver_due(deps=sync)).applied == [change_id]
    assert await world.directory.read_attributes(login, ["mobile_phone", "city"]) == {
        "mobile_phone": "+491702222222",
        "city": "Köln",
    }


async def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not await condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.fixture(params=["openldap", "activedirectory"])
def stoppable_directory(request: pytest.FixtureRequest) -> Iterator[DirectoryServer]:
    """A slapd of this test's own: it is stopped and started, which would disturb the session's server. The Samba
    DC has fixed ports, so the session's one is stopped and started (as the directory contract's outage test does)."""
    if request.param == "activedirectory":
        samba: DirectoryServer = request.getfixturevalue("samba")
        yield samba
        samba.start()  # a no-op when the test started it again
        return
    with running_slapd() as server:
        yield server


async def test_with_the_directory_stopped_the_change_waits_and_lands_after_the_start(
    stoppable_directory: DirectoryServer, world_on: Any
) -> None:
    world: World = world_on(stoppable_directory)
    login, employee_id = await world.account("anna.schmidt", telephoneNumber="+49 89 1111")
    assert await world.directory.read_attributes(login, ["work_phone"]) == {"work_phone": "+49 89 1111"}
    policy = RetryPolicy(poll_seconds=0.05, backoff_base_seconds=0.3, backoff_max_seconds=1.2)
    sync = outbox_deps(world.new_uow, world.directory, world.clock, policy)
    await asyncio.to_thread(stoppable_directory.stop)
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(stop, deps=sync))
    try:
        change_id = await world.queue(employee_id, login, {"work_phone": "+49 89 1111"}, {"work_phone": "+4989222"})
        sync.wake.set()
        async with world.new_uow() as uow:
            assert await pending_fields(uow, employee_id) == {"work_phone"}  # the profile shows it as pending
        waits: dict[int, timedelta] = {}

        async def retried_three_times() -> bool:
            entry = await world.entry(change_id)
            if entry.attempts and entry.next_attempt_at and entry.last_attempt_at:
                waits[entry.attempts] = entry.next_attempt_at - entry.last_attempt_at
            return entry.attempts >= 4

        await wait_for(retried_three_times, "four failed attempts")
        entry = await world.entry(change_id)
        assert entry.status is OutboxStatus.PENDING
        assert entry.last_error
        # every observed wait follows the schedule, and the schedule grows until the cap
        assert all(wait == policy.backoff(attempt) for attempt, wait in waits.items()), waits
        assert sorted(waits.values()) == [waits[n] for n in sorted(waits)]
        assert len(set(waits.values())) >= 2, waits
        await asyncio.to_thread(stoppable_directory.start)  # nobody calls retry: the worker finds it due again

        async def applied() -> bool:
            return (await world.entry(change_id)).status is OutboxStatus.APPLIED

        await wait_for(applied, "the change to land after the directory came back")
    finally:
        stop.set()
        await asyncio.wait_for(worker, timeout=30)
    assert await world.directory.read_attributes(login, ["work_phone"]) == {"work_phone": "+4989222"}
    async with world.new_uow() as uow:
        assert await pending_fields(uow, employee_id) == set()


def ldap_settings(database_url: str, server: DirectoryServer) -> Settings:
    return make_settings(
        database_url,
        **ldap_env(server),
        ESS_OUTBOX__POLL_SECONDS="0.05",
        ESS_OUTBOX__BACKOFF_BASE_SECONDS="0.1",
    )


def ldap_env(server: DirectoryServer) -> dict[str, str]:
    """The ESS_* settings that point ESS at a test directory server."""
    endpoint = server.endpoint
    return {
        "ESS_DIRECTORY__KIND": endpoint.kind,
        "ESS_DIRECTORY__LDAP__URIS": json.dumps(list(endpoint.uris)),
        "ESS_DIRECTORY__LDAP__START_TLS": "true" if endpoint.start_tls else "false",
        "ESS_DIRECTORY__LDAP__CA_FILE": str(endpoint.ca_file),
        "ESS_DIRECTORY__LDAP__BIND_DN": endpoint.bind_dn,
        "ESS_DIRECTORY__LDAP__BIND_PASSWORD": endpoint.bind_password,
        "ESS_DIRECTORY__LDAP__USER_BASE_DN": endpoint.user_base_dn,
        "ESS_DIRECTORY__LDAP__GROUP_BASE_DN": endpoint.group_base_dn,
        "ESS_DIRECTORY__LDAP__USER_FILTER": endpoint.user_filter,
        "ESS_DIRECTORY__LDAP__LOGIN_ATTRIBUTE": endpoint.login_attribute,
        "ESS_DIRECTORY__LDAP__EMAIL_ATTRIBUTE": endpoint.email_attribute,
        "ESS_DIRECTORY__LDAP__CONNECT_TIMEOUT_SECONDS": "2",
        "ESS_DIRECTORY__LDAP__ATTRIBUTES": json.dumps(attribute_map(endpoint.kind)),
    }


def test_a_restart_loses_nothing_the_new_app_delivers(slapd: DirectoryServer, sqlite_url: str) -> None:
    settings = ldap_settings(sqlite_url, slapd)
    login = f"ob.restart{next(_numbers)}"
    slapd.add_user(login, PASSWORD, given_name="Anna", surname="Schmidt", mail=f"{login}@example-ess.test")

    async def before_the_crash() -> int:
        container = build_container(settings)
        try:
            async with container.new_uow() as uow:
                await uow.employees.save_all(
                    [employee(personnel_number=f"P{login}", login=login, work_email=f"{login}@example-ess.test")]
                )
                hired = await uow.employees.by_login(login)
                assert hired is not None
                assert hired.id is not None
                change = await record_directory_change(
                    uow,
                    employee_id=hired.id,
                    login=login,
                    old={"city": ""},
                    new={"city": "Leipzig"},
                    now=container.clock.now(),
                    actor=login,
                )
                await uow.commit()
            assert change is not None
            assert change.id is not None
            return change.id  # the process ends here: no kick, no worker ever saw the entry
        finally:
            await container.close()

    change_id = asyncio.run(before_the_crash())

    async def status() -> OutboxStatus:
        engine = create_engine(sqlite_url)
        try:
            async with SqlUnitOfWork(create_session_factory(engine), SystemClock()) as uow:
                found = await uow.outbox.get(change_id)
        finally:
            await engine.dispose()
        assert found is not None
        return found.status

    assert asyncio.run(status()) is OutboxStatus.PENDING
    with TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000"):  # a new process: new engine
        deadline = time.monotonic() + WAIT_SECONDS
        while asyncio.run(status()) is not OutboxStatus.APPLIED:
            assert time.monotonic() < deadline, "the new app did not deliver the entry"
            time.sleep(0.05)

    async def city() -> dict[str, str]:
        directory = ldap_directory(slapd.endpoint)
        try:
            return await directory.read_attributes(login, ["city"])
        finally:
            directory.close()

    assert asyncio.run(city()) == {"city": "Leipzig"}
