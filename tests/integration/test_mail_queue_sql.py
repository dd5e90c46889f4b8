"""The mail queue on SQLite and PostgreSQL with a real SMTP sink: a one-time link and its mail are committed together,
the queue holds the mail sealed (no link in clear, not even while the mail server is down), the worker sends it once
the server is back, and `ess mail list|retry` show and resend what failed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import text

from ess.bootstrap import Container, build_container
from ess.domain.auth.model import Purpose
from ess.domain.mail.delivery import send_due
from ess.domain.recovery.links import issue_link
from ess.settings import Settings
from tests.conftest import TEST_ENV, make_settings
from tests.e2e.recovery_helpers import link_in
from tests.fakes import FixedClock
from tests.harness.ports import free_port
from tests.harness.smtp import SmtpSink

ADDRESS = "anna.privat@example.org"


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def settings(database_url: str, smtp_port: int) -> Settings:
    return make_settings(
        database_url,
        ESS_MAIL__BACKEND="smtp",
        ESS_MAIL__SMTP_HOST="127.0.0.1",
        ESS_MAIL__SMTP_PORT=str(smtp_port),
        ESS_MAIL__QUEUE__MAX_ATTEMPTS="2",
    )


@pytest.fixture
async def container(settings: Settings) -> AsyncIterator[Container]:
    built = build_container(settings, clock=FixedClock())
    try:
        yield built
    finally:
        await built.close()


async def _queue(container: Container) -> list[tuple[str, str, str, int]]:
    async with container.new_uow() as uow:
        session = getattr(uow, "session")  # noqa: B009 - the SQL unit of work's session, to read the raw rows
        rows = await session.execute(text("SELECT kind, status, body, attempts FROM mail_queue ORDER BY id"))
        return [(r.kind, r.status, r.body, r.attempts) for r in rows]


async def test_a_link_mail_is_queued_sealed_and_sent_when_the_mail_server_is_back(
    container: Container, smtp_port: int
) -> None:
    deps = container.recovery
    # The mail server is down: the link is stored and its mail queued, in one transaction.
    await issue_link(deps, "anna.schmidt", Purpose.RESET, ADDRESS, actor="helpdesk", client="", name="Anna")
    [(kind, status, body, attempts)] = await _queue(container)
    assert (kind, status, attempts) == ("recovery_link_reset", "pending", 1)
    assert body and "/password/reset/" not in body and "Anna" not in body  # sealed: no link in clear
    sink = SmtpSink()
    sink.start(smtp_port)
    try:
        assert isinstance(container.clock, FixedClock)
        container.clock.advance(timedelta(minutes=1))
        report = await send_due(deps=container.mail)
        [message] = await asyncio.to_thread(sink.wait_for, 1)
    finally:
        sink.stop()
    assert len(report.sent) == 1
    assert message["To"] == ADDRESS
    url, token = link_in(message)
    assert url.endswith(f"/password/reset/{token}")
    [(_, status, body, _)] = await _queue(container)
    assert (status, body) == ("sent", "")  # once sent the queue keeps no link


def test_ess_mail_list_and_retry_show_and_resend_what_failed(settings: Settings, smtp_port: int) -> None:
    async def give_up() -> None:
        container = build_container(settings, clock=FixedClock())
        try:
            recovery = container.recovery
            await issue_link(recovery, "anna.schmidt", Purpose.RESET, ADDRESS, actor="hd", client="", name="A")
            assert isinstance(container.clock, FixedClock)
            container.clock.advance(timedelta(minutes=1))
            await send_due(deps=container.mail)  # the second attempt: given up (max_attempts = 2)
        finally:
            await container.close()

    asyncio.run(give_up())
    env = {"ESS_DATABASE_URL": settings.database.url, "ESS_MAIL__BACKEND": "smtp", "ESS_MAIL__SMTP_HOST": "127.0.0.1"}
    env["ESS_MAIL__SMTP_PORT"] = str(smtp_port)
    listed = _ess(env, "mail", "list")
    assert listed.returncode == 0, listed.stderr
    [header, row] = listed.stdout.strip().splitlines()
    assert header.startswith("ID\tSTATUS\tKIND\tTO")
    assert row.startswith(f"1\tfailed\trecovery_link_reset\t{ADDRESS}\t")
    assert "Gave up" in row
    sink = SmtpSink()
    sink.start(smtp_port)
    try:
        retried = _ess(env, "mail", "retry", "--all")
        assert retried.returncode == 0, retried.stdout + retried.stderr
        assert "1 mails due again. Sent now: 1" in retried.stdout
        [message] = sink.wait_for(1)
    finally:
        sink.stop()
    assert link_in(message)[0].startswith("http")
    assert _ess(env, "mail", "list").stdout.strip() == "No mails."
    sent = _ess(env, "mail", "list", "--status", "sent").stdout
    assert "\tsent\trecovery_link_reset\t" in sent
    assert _ess(env, "mail", "retry", "1").returncode == 1  # sent already: refused


def _ess(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **TEST_ENV, **env}
    return subprocess.run(
        [sys.executable, "-m", "ess.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
