"""Durable mail with real `ess serve` processes, PostgreSQL and an SMTP sink: while the mail server is down every
accepted change queues its mail; one process is killed with SIGKILL in the middle of the load; once the mail server
is back and the process restarted, every mail of every accepted change is sent, each exactly once (several processes
deliver the one queue), and each directory change of the same requests is applied exactly once."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.harness.ess_processes import DEMO_PASSWORD, EssCluster, stop
from tests.harness.ports import free_port
from tests.harness.postgres import PostgresServer, create_database
from tests.harness.smtp import SmtpSink

pytestmark = pytest.mark.postgres

PROCESSES = 3
EMPLOYEES = ("anna.schmidt", "markus.weber", "sabine.keller", "stefan.hofmann")
CHANGES_PER_EMPLOYEE = 12
# Short backoff and claims so the test needs seconds, not minutes, to see retries and a dead process's claims lapse.
QUEUE_ENV = {
    "ESS_MAIL__BACKEND": "smtp",
    "ESS_MAIL__SMTP_HOST": "127.0.0.1",
    "ESS_MAIL__TIMEOUT_SECONDS": "5",
    "ESS_MAIL__QUEUE__POLL_SECONDS": "0.5",
    "ESS_MAIL__QUEUE__BACKOFF_BASE_SECONDS": "0.5",
    "ESS_MAIL__QUEUE__BACKOFF_MAX_SECONDS": "1",
    "ESS_MAIL__QUEUE__MAX_ATTEMPTS": "0",
    "ESS_MAIL__QUEUE__CLAIM_SECONDS": "3",
    "ESS_OUTBOX__POLL_SECONDS": "0.5",
    "ESS_OUTBOX__CLAIM_SECONDS": "3",
}
WAIT_SECONDS = 60.0


def _rows(database_url: str, query: str) -> list[tuple[object, ...]]:
    async def read() -> list[tuple[object, ...]]:
        engine = create_async_engine(database_url)
        try:
            async with engine.connect() as connection:
                return [tuple(row) for row in (await connection.execute(text(query))).all()]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _wait_until_nothing_pending(database_url: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        # A failed mail is one given up on purpose: the demo's bank-change notice, which had to go out before the
        # change and could not while the mail server was away (so the change was not made); none other may fail.
        failed = _rows(database_url, "SELECT kind FROM mail_queue WHERE status = 'failed'")
        assert {kind for (kind,) in failed} <= {"profile_bank_notice"}, failed
        [(mails,)] = _rows(database_url, "SELECT count(*) FROM mail_queue WHERE status = 'pending'")
        [(changes,)] = _rows(database_url, "SELECT count(*) FROM directory_outbox WHERE status <> 'applied'")
        if mails == 0 and changes == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"still waiting after {WAIT_SECONDS}s: {mails} mails, {changes} directory changes")


def _token(url: str, login: str) -> str:
    answer = httpx.post(f"{url}/api/v1/auth/token", json={"username": login, "password": DEMO_PASSWORD}, timeout=30)
    assert answer.status_code in {200, 201}, answer.text[:300]
    return str(answer.json()["access_token"])


class Load:
    """Phone number changes of several employees, spread over the processes, one thread per employee; counts the
    changes ESS answered 200 (accepted: committed, mail queued)."""

    def __init__(self, urls: list[str], tokens: dict[str, str]) -> None:
        self.urls = urls
        self.tokens = tokens
        self.accepted: Counter[str] = Counter()
        self.other: Counter[str] = Counter()  # other answers, for the failure message
        self.half_done = threading.Event()
        self._lock = threading.Lock()

    def run(self) -> None:
        threads = [threading.Thread(target=self._employee, args=(n, login)) for n, login in enumerate(EMPLOYEES)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _employee(self, number: int, login: str) -> None:
        headers = {"Authorization": f"Bearer {self.tokens[login]}"}
        urls = itertools.cycle(self.urls[number % len(self.urls) :] + self.urls[: number % len(self.urls)])
        with httpx.Client(timeout=30) as client:
            for change in range(CHANGES_PER_EMPLOYEE):
                phone = f"+49151234{number}{change:04d}"
                try:
                    answer = client.patch(
                        f"{next(urls)}/api/v1/me/profile", json={"changes": {"mobile_phone": phone}}, headers=headers
                    )
                except httpx.TransportError:
                    continue  # the killed process: not accepted, nothing promised
                if answer.status_code != 200:
                    with self._lock:
                        self.other[f"{answer.status_code} {answer.text[:200]}"] += 1
                if answer.status_code == 200:
                    with self._lock:
                        self.accepted[login] += 1
                        if sum(self.accepted.values()) >= len(EMPLOYEES) * CHANGES_PER_EMPLOYEE // 2:
                            self.half_done.set()


@pytest.fixture
def cluster(postgres_server: PostgresServer) -> Iterator[tuple[EssCluster, int]]:
    with tempfile.TemporaryDirectory(prefix="ess-mail-") as tmp:
        database_url = create_database(postgres_server, "ess_durable_mail")
        smtp_port = free_port()
        env = QUEUE_ENV | {"ESS_MAIL__SMTP_PORT": str(smtp_port)}
        cluster = EssCluster(Path(tmp), database_url, store="file", extra_env=env)
        cluster.prepare()
        yield cluster, smtp_port


def test_a_killed_process_loses_no_queued_mail_and_every_mail_and_change_is_delivered_once(
    cluster: tuple[EssCluster, int],
) -> None:
    ess, smtp_port = cluster
    sink = SmtpSink()
    processes = []
    try:
        for number in range(PROCESSES):
            processes.append(ess.start(number))
        urls = [url for _, url in processes]
        tokens = {login: _token(urls[0], login) for login in EMPLOYEES}
        load = Load(urls, tokens)
        loader = threading.Thread(target=load.run)
        loader.start()  # the mail server is down: every accepted change leaves its mail queued
        assert load.half_done.wait(WAIT_SECONDS), f"the load did not get going: {load.accepted}, {load.other}"
        victim, _ = processes[1]
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
        loader.join(timeout=WAIT_SECONDS)
        assert not loader.is_alive()
        accepted = sum(load.accepted.values())
        # The killed process took its share of the requests until it died, the others kept answering.
        assert 0 < accepted < len(EMPLOYEES) * CHANGES_PER_EMPLOYEE
        [(queued,)] = _rows(ess.database_url, "SELECT count(*) FROM mail_queue WHERE status = 'pending'")
        assert queued >= accepted  # nothing went out, nothing is lost: every accepted change has its mail waiting

        sink.start(smtp_port)  # the mail server is back; so is the killed process
        processes[1] = ess.start(1)
        _wait_until_nothing_pending(ess.database_url)
    finally:
        for process, _ in processes:
            stop(process)
        sink.stop()

    [(sent,)] = _rows(ess.database_url, "SELECT count(*) FROM mail_queue WHERE status = 'sent'")
    received = Counter(str(message["To"]).split("@")[0] for message in sink.messages)
    # Exactly once: as many mails arrived as the queue holds, no more, although three processes sent them.
    assert len(sink.messages) == sent
    for login in EMPLOYEES:
        assert received[login] >= load.accepted[login], (login, received[login], load.accepted[login])
    [(bodies_left,)] = _rows(ess.database_url, "SELECT count(*) FROM mail_queue WHERE body <> ''")
    assert bodies_left == 0  # once sent, the queue keeps no text (no link outlives its mail)
    # Every directory change (queued with the same requests) was applied exactly once across the processes.
    applied = _rows(
        ess.database_url,
        "SELECT details::json->>'change' FROM audit_events WHERE action = 'directory_change_applied'",
    )
    per_change = Counter(str(change) for (change,) in applied)
    [(changes,)] = _rows(ess.database_url, "SELECT count(*) FROM directory_outbox")
    assert len(per_change) == changes
    assert set(per_change.values()) == {1}
