"""Password-expiry reminders: expiry read from the local directory, a real slapd (pwdMaxAge) and a real Samba AD DC
(maxPwdAge, msDS-UserPasswordExpiryTimeComputed); mail read from a real SMTP sink; each offset once."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import update

from ess.adapters.sql.tables import LocalAccountRow
from ess.bootstrap import build_container
from ess.domain.passwords.reminders import ReminderRun, due_offset, send_password_reminders
from ess.settings import Settings
from tests.conftest import TEST_ENV, make_settings, migrate
from tests.factories import employee
from tests.fakes import FixedClock
from tests.harness.directory import DirectoryServer
from tests.harness.slapd import POLICY_DN
from tests.harness.smtp import SmtpSink, running_smtp_sink

PASSWORD = "Startpasswort fuer Erinnerungen 2026"
# Relative to the directories' 90-day maximum age: the first run is inside the 95-day offset.
OFFSETS = [120, 95, 30, 7]
_numbers = itertools.count(1)
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    with running_smtp_sink() as server:
        yield server


def mail_env(sink: SmtpSink) -> dict[str, str]:
    return {"ESS_MAIL__BACKEND": "smtp", "ESS_MAIL__SMTP_HOST": "127.0.0.1", "ESS_MAIL__SMTP_PORT": str(sink.port)}


def directory_env(server: DirectoryServer) -> dict[str, str]:
    endpoint = server.endpoint
    return {
        "ESS_DIRECTORY__KIND": endpoint.kind,
        "ESS_DIRECTORY__LDAP__URIS": f'["{endpoint.uris[0]}"]',
        "ESS_DIRECTORY__LDAP__START_TLS": "true" if endpoint.start_tls else "false",
        "ESS_DIRECTORY__LDAP__CA_FILE": str(endpoint.ca_file),
        "ESS_DIRECTORY__LDAP__BIND_DN": endpoint.bind_dn,
        "ESS_DIRECTORY__LDAP__BIND_PASSWORD": endpoint.bind_password,
        "ESS_DIRECTORY__LDAP__USER_BASE_DN": endpoint.user_base_dn,
        "ESS_DIRECTORY__LDAP__GROUP_BASE_DN": endpoint.group_base_dn,
        "ESS_DIRECTORY__LDAP__USER_FILTER": endpoint.user_filter,
        "ESS_DIRECTORY__LDAP__LOGIN_ATTRIBUTE": endpoint.login_attribute,
        "ESS_DIRECTORY__LDAP__EMAIL_ATTRIBUTE": endpoint.email_attribute,
        "ESS_DIRECTORY__LDAP__DEFAULT_POLICY_DN": POLICY_DN if endpoint.kind == "openldap" else "",
    }


async def hire(settings: Settings, *logins: str) -> None:
    container = build_container(settings)
    try:
        async with container.new_uow() as uow:
            await uow.employees.save_all(
                [
                    employee(
                        personnel_number=f"R{next(_numbers)}",
                        login=login,
                        first_name="Rita",
                        last_name="Reminder",
                        work_email=f"{login}@example-ess.test",
                    )
                    for login in logins
                ]
            )
            await uow.commit()
    finally:
        await container.close()


async def provision_local(settings: Settings, login: str, expires_at: datetime) -> None:
    container = build_container(settings)
    try:
        assert container.local_directory is not None and container.engine is not None
        await container.local_directory.provision(login, password=PASSWORD, email=f"{login}@example-ess.test")
        async with container.engine.begin() as connection:
            await connection.execute(
                update(LocalAccountRow).where(LocalAccountRow.login == login).values(password_expires_at=expires_at)
            )
    finally:
        await container.close()


def remind(settings: Settings, at: datetime) -> ReminderRun:
    async def run() -> ReminderRun:
        container = build_container(settings, clock=FixedClock(at))
        try:
            return await send_password_reminders(offsets=OFFSETS, deps=container.passwords)
        finally:
            await container.close()

    return asyncio.run(run())


@pytest.fixture(params=["local", "openldap", "activedirectory"])
def reminded(request: pytest.FixtureRequest, sqlite_url: str, sink: SmtpSink) -> tuple[Settings, str]:
    """An employee whose password expires in about 90 days, in each directory."""
    login = f"rem.rita{next(_numbers)}"
    if request.param == "local":
        settings = make_settings(sqlite_url, **mail_env(sink))
        asyncio.run(provision_local(settings, login, NOW + timedelta(days=90)))
    else:
        server: DirectoryServer = request.getfixturevalue("slapd" if request.param == "openldap" else "samba")
        server.add_user(login, PASSWORD, given_name="Rita", surname="Reminder", mail=f"{login}@example-ess.test")
        settings = make_settings(sqlite_url, **mail_env(sink), **directory_env(server))
    asyncio.run(hire(settings, login))
    sink.clear()
    return settings, login


def texts(messages: list[EmailMessage]) -> list[str]:
    return [str(m.get_body(preferencelist=("plain",)).get_content()) for m in messages]  # type: ignore[union-attr]


def test_each_offset_is_sent_once_and_a_missed_day_sends_only_the_nearest(
    reminded: tuple[Settings, str], sink: SmtpSink
) -> None:
    settings, login = reminded
    first = remind(settings, NOW)
    assert (first.sent, first.checked, first.failed) == (1, 1, [])
    [mail] = sink.messages
    assert mail["To"] == f"{login}@example-ess.test"
    assert mail["Subject"].startswith("Ihr Passwort läuft in")  # German by default
    body = texts([mail])[0]
    assert "http://127.0.0.1:8000/password" in body
    assert PASSWORD not in body

    again = remind(settings, NOW + timedelta(hours=3))  # a second run the same day sends nothing
    assert (again.sent, again.already_sent) == (0, 1)
    assert len(sink.messages) == 1

    # 61 days later the 30-day offset is due (the 95-day one went out already).
    later = remind(settings, NOW + timedelta(days=61))
    assert later.sent == 1
    assert len(sink.messages) == 2
    # The job did not run for weeks: only the nearest offset (7) goes out, not every one it missed.
    late = remind(settings, NOW + timedelta(days=86))
    assert late.sent == 1
    assert remind(settings, NOW + timedelta(days=86, hours=1)).sent == 0
    assert len(sink.messages) == 3
    assert re.fullmatch(r"Ihr Passwort läuft in [45] Tagen ab", sink.messages[-1]["Subject"])

    async def audited() -> list[str]:
        container = build_container(settings)
        try:
            async with container.new_uow() as uow:
                events = await uow.audit.recent(50)
            return [str(e.details["offset_days"]) for e in events if e.action == "password.expiry_reminder"]
        finally:
            await container.close()

    assert sorted(asyncio.run(audited())) == ["30", "7", "95"]


@pytest.mark.parametrize(
    ("days_left", "sent", "expected"),
    [
        (20, set(), None),
        (14, set(), 14),
        (13.5, {14}, None),
        (5, {14}, 7),  # a missed day: the nearest due offset, once
        (5, set(), 7),
        (0.5, {14, 7}, 1),  # 3 was missed
        (-1, set(), None),  # expired already: the login page takes over
    ],
)
def test_the_due_offset(days_left: float, sent: set[int], expected: int | None) -> None:
    assert due_offset(NOW + timedelta(days=days_left), NOW, [14, 7, 3, 1], sent) == expected


def test_the_command_prints_a_summary_and_sends_once(tmp_path: Path, sink: SmtpSink) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ess.db'}"
    migrate(url)
    settings = make_settings(url, **mail_env(sink))
    asyncio.run(provision_local(settings, "cli.rita", datetime.now(UTC) + timedelta(days=10)))
    asyncio.run(hire(settings, "cli.rita"))
    sink.clear()
    env = {**os.environ, **TEST_ENV, "ESS_DATABASE_URL": url, **mail_env(sink)}
    command = [sys.executable, "-m", "ess.cli", "password", "remind"]
    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().startswith("Password reminders: 1 sent, 1 accounts checked")
    second = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert second.returncode == 0, second.stderr
    assert "0 sent" in second.stdout
    assert len(sink.messages) == 1
    assert "10 Tagen" in sink.messages[0]["Subject"]
