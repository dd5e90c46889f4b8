"""Help requests against real systems: the SQL repository on SQLite and PostgreSQL (reminders, retention, the export
of one employee), mails through an SMTP sink, and the handover by mail and by a signed webhook to a local receiver."""

from __future__ import annotations

import hmac
import http.server
import json
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ess.adapters.handover import ConfiguredHandover, HandoverTarget, signature
from ess.adapters.hr_files import read_hr_file
from ess.bootstrap import Container, build_container
from ess.cli import DEMO_COMPANY
from ess.domain.auth.model import Principal
from ess.domain.help_requests.model import DEFAULT_TOPICS, Status, Topic
from ess.domain.help_requests.queue import answer, close
from ess.domain.help_requests.records import ESCALATED
from ess.domain.help_requests.requests import AskForHelp, ask_for_help, my_request
from ess.domain.help_requests.upkeep import delete_expired, export_for_employee, remind_waiting
from ess.domain.hr.model import Role
from ess.domain.hr_import.importing import ImportEmployees, import_employees
from tests.conftest import make_settings
from tests.fakes import FixedClock
from tests.harness.ports import free_port
from tests.harness.smtp import SmtpSink, running_smtp_sink

SECRET = "webhook-secret-0123456789"


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    with running_smtp_sink() as server:
        yield server


@dataclass
class World:
    container: Container
    clock: FixedClock
    anna: Principal
    hr: Principal
    helpdesk: Principal


async def _principal(container: Container, login: str, *roles: Role) -> Principal:
    async with container.new_uow() as uow:
        employee = await uow.employees.by_login(login)
        assert employee is not None and employee.id is not None
    return Principal(login, employee.display_name, frozenset({Role.EMPLOYEE, *roles}), employee.id)


@pytest.fixture
async def world(database_url: str, sink: SmtpSink) -> AsyncIterator[World]:
    sink.clear()
    clock = FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    env = {"ESS_MAIL__BACKEND": "smtp", "ESS_MAIL__SMTP_HOST": "127.0.0.1", "ESS_MAIL__SMTP_PORT": str(sink.port)}
    container = build_container(make_settings(database_url, **env), clock=clock)
    await import_employees(
        ImportEmployees(records=read_hr_file(DEMO_COMPANY), source_name="company.csv", actor="test"),
        deps=container.hr_import,
    )
    sink.clear()
    try:
        yield World(
            container,
            clock,
            await _principal(container, "anna.schmidt"),
            await _principal(container, "hanna.berger", Role.HR),
            await _principal(container, "ivan.petrovic", Role.HELPDESK),
        )
    finally:
        await container.close()


def _ask(world: World, topic: str = "leave", **context: str) -> AskForHelp:
    return AskForHelp(world.anna, topic, "Urlaub abgelehnt", "Warum wurde mein Antrag abgelehnt?", context)


async def test_reminders_once_per_period_then_retention_deletes_closed_requests(world: World, sink: SmtpSink) -> None:
    deps = world.container.help_requests
    created = await ask_for_help(_ask(world, error_code="policy_violation", request_id="abc"), deps=deps)
    assert created.id is not None
    sink.wait_for(1)  # the HR mailbox hears of the new request
    world.clock.advance(timedelta(hours=25))
    assert await remind_waiting(deps=deps) == 1
    assert await remind_waiting(deps=deps) == 0, "one reminder per waiting period"
    reminders = [m for m in sink.wait_for(2) if created.reference in str(m["Subject"])]
    assert len(reminders) == 2  # new + reminder, both naming only the reference
    assert all("Warum" not in m.get_body().get_content() for m in reminders)  # type: ignore[union-attr]

    await answer(world.hr, created.id, "Ihr Resturlaub reicht nicht.", deps=deps)
    closed = await close(world.hr, created.id, deps=deps)
    assert closed.status is Status.CLOSED and closed.resolution_time() == timedelta(hours=25)
    exported = await export_for_employee(world.anna.employee_id, deps=deps)  # type: ignore[arg-type]
    assert [e["reference"] for e in exported] == [created.reference]
    assert exported[0]["context"] == {"error_code": "policy_violation", "request_id": "abc"}
    assert [m["kind"] for m in exported[0]["messages"]] == ["request", "answer"]

    world.clock.advance(deps.policy.retention - timedelta(days=1))
    assert await delete_expired(deps=deps) == 0
    world.clock.advance(timedelta(days=2))
    assert await delete_expired(deps=deps) == 1
    assert await export_for_employee(world.anna.employee_id, deps=deps) == []  # type: ignore[arg-type]
    async with world.container.new_uow() as uow:
        actions = [e.action for e in await uow.audit.recent(100)]
    assert ESCALATED in actions and "help_request.retention_deleted" in actions


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = http.server.HTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", received
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_handover_by_mail_with_the_reference_and_by_signed_webhook(
    world: World, sink: SmtpSink, receiver: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    url, received = receiver
    base = world.container.help_requests
    topics = (
        *(replace(t, handover={"leave": "tickets", "login": "hook"}.get(t.key, "")) for t in DEFAULT_TOPICS),
        Topic("broken", DEFAULT_TOPICS[0].team, "Broken", "Kaputt", "nowhere"),
    )
    targets = {
        "tickets": HandoverTarget("mail", address="tickets@example-ess.test"),
        "hook": HandoverTarget("webhook", url=url, secret=SECRET),
    }
    deps = replace(base, topics=topics, handover=ConfiguredHandover(targets, notifier=base.notifier, clock=world.clock))
    mailed = await ask_for_help(_ask(world, "leave", page="/vacation"), deps=deps)
    tickets = [m for m in sink.wait_for(2) if "tickets@" in str(m["To"])]
    assert len(tickets) == 1
    assert str(tickets[0]["Subject"]).startswith(f"[{mailed.reference}] Urlaub abgelehnt")
    assert "Warum wurde mein Antrag abgelehnt?" in tickets[0].get_body().get_content()  # type: ignore[union-attr]

    hooked = await ask_for_help(_ask(world, "login"), deps=deps)
    assert len(received) == 1
    headers, body = received[0]
    expected = signature(SECRET, headers["x-ess-timestamp"], body)
    assert hmac.compare_digest(headers["x-ess-signature"], expected)
    assert json.loads(body)["reference"] == hooked.reference
    assert signature("another-secret-000000", headers["x-ess-timestamp"], body) != expected

    # A handover that fails keeps the request in ESS and is audited as a failure.
    kept = await ask_for_help(_ask(world, "broken"), deps=deps)
    assert (await my_request(world.anna, kept.id or 0, deps=deps)).status is Status.RECEIVED
    async with world.container.new_uow() as uow:
        outcomes = [(e.action, e.outcome.value) for e in await uow.audit.recent(50)]
    assert ("help_request.handed_over", "failure") in outcomes
    assert outcomes.count(("help_request.handed_over", "success")) == 2
