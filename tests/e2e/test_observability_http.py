"""What operators see, over HTTP: Prometheus /metrics behind a token or an address list, and a request id on every
answer and error page."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from ess.app import create_app
from ess.bootstrap import build_container
from ess.domain.mail.model import ComposedMail, MailStatus, queued
from ess.domain.outbox.model import DirectoryChange, OutboxStatus
from ess.settings import Settings
from tests.conftest import make_settings
from tests.e2e.conftest import seed
from tests.e2e.helpers import PASSWORD, app_at_a_window_start

METRICS_TOKEN = "prometheus-scrape-token-0123456789"
BEARER = {"Authorization": f"Bearer {METRICS_TOKEN}"}


@pytest.fixture
def observed(sqlite_url: str) -> Iterator[tuple[Settings, TestClient[Litestar]]]:
    settings = make_settings(sqlite_url, ESS_METRICS__TOKEN=METRICS_TOKEN)
    asyncio.run(seed(settings))
    # Logins are counted at the start of a throttling window: strangers' tries are spread over the window.
    with TestClient(app=app_at_a_window_start(settings), base_url="http://127.0.0.1:8000") as client:
        yield settings, client


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the Prometheus text format (labels in any order)."""
    for line in text.splitlines():
        match = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line)
        if match is None or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(match.group(3))
    raise AssertionError(f"no sample {name} {labels}")


def test_metrics_need_the_token_or_an_allowed_address(observed: tuple[Settings, TestClient[Litestar]]) -> None:
    _, client = observed
    assert client.get("/metrics").status_code == 404  # the test client's address is on no list
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong-token-0123456789abcdef"}).status_code == 404
    answer = client.get("/metrics", headers=BEARER)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "/metrics" not in client.get("/schema/openapi.json").text


def test_requests_are_counted_by_route_template_status_and_time(
    observed: tuple[Settings, TestClient[Litestar]],
) -> None:
    _, client = observed
    for _ in range(3):
        assert client.get("/health/live").status_code == 200
    client.get("/password/reset/a-secret-one-time-token")
    client.get("/no/such/page")
    text = client.get("/metrics", headers=BEARER).text
    assert _sample(text, "ess_http_requests_total", method="GET", route="/health/live", status="200") == 3
    assert _sample(text, "ess_http_request_duration_seconds_count", method="GET", route="/health/live") == 3
    assert _sample(text, "ess_http_request_duration_seconds_bucket", route="/health/live", le="+Inf") == 3
    # The template, not the path: one series per route, and no one-time token in the metrics.
    assert _sample(text, "ess_http_requests_total", method="GET", route="/password/reset/{token}") == 1
    assert "a-secret-one-time-token" not in text
    assert _sample(text, "ess_http_requests_total", route="unmatched", status="404") == 1


def test_logins_and_throttles_are_counted_by_outcome(observed: tuple[Settings, TestClient[Litestar]]) -> None:
    settings, client = observed
    client.post("/api/v1/auth/token", json={"username": "anna.schmidt", "password": PASSWORD})
    tries = settings.security.login_failures_per_account + 2
    for _ in range(tries):
        client.post("/api/v1/auth/token", json={"username": "markus.weber", "password": "wrong password"})
    text = client.get("/metrics", headers=BEARER).text
    # An API client is a stranger to the throttle: at the start of a window it gets half of the strangers' share
    # (all but the tries kept for the owner's known browsers) at once; the rest are refused before the directory.
    security = settings.security
    at_once = (security.login_failures_per_account - security.login_known_device_failures + 1) // 2
    assert at_once == 2
    assert _sample(text, "ess_logins_total", channel="api", outcome="success") == 1
    assert _sample(text, "ess_logins_total", channel="api", outcome="failure") == at_once
    assert _sample(text, "ess_logins_total", channel="api", outcome="throttled") == tries - at_once
    assert _sample(text, "ess_throttled_total", route="/api/v1/auth/token") == tries - at_once


def test_the_outbox_backlog_and_the_database_pool_are_read_at_scrape_time(
    observed: tuple[Settings, TestClient[Litestar]],
) -> None:
    settings, client = observed
    text = client.get("/metrics", headers=BEARER).text
    assert _sample(text, "ess_outbox_backlog") == 0
    assert _sample(text, "ess_outbox_oldest_age_seconds") == 0
    assert _sample(text, "ess_database_up") == 1
    assert _sample(text, "ess_db_pool_size") >= 1
    asyncio.run(_queue_change(settings, age=timedelta(minutes=10)))
    text = client.get("/metrics", headers=BEARER).text
    assert _sample(text, "ess_outbox_backlog") == 1
    assert 600 <= _sample(text, "ess_outbox_oldest_age_seconds") < 900


async def _queue_change(settings: Settings, *, age: timedelta) -> None:
    container = build_container(settings)
    try:
        async with container.new_uow() as uow:
            anna = await uow.employees.by_login("anna.schmidt")
            assert anna is not None and anna.id is not None
            change = DirectoryChange(
                id=None,
                employee_id=anna.id,
                login="anna.schmidt",
                values={"mobile_phone": "+4915112345678"},
                expected={"mobile_phone": ""},
                status=OutboxStatus.PENDING,
                created_at=datetime.now(UTC) - age,
            )
            await uow.outbox.add(change)
            await uow.commit()
    finally:
        await container.close()


def test_every_answer_carries_a_request_id_and_error_pages_show_it(
    observed: tuple[Settings, TestClient[Litestar]],
) -> None:
    _, client = observed
    answers = [client.get(path) for path in ("/health/live", "/login", "/static/ess.css", "/no/such/page")]
    ids = [answer.headers["x-request-id"] for answer in answers]
    assert all(re.fullmatch(r"[0-9a-f]{24}", request_id) for request_id in ids)
    assert len(set(ids)) == len(ids)
    assert answers[3].status_code == 404
    assert f"<code>{ids[3]}</code>" in answers[3].text
    # A client's own id is not taken over (only a trusted proxy's is).
    assert client.get("/health/live", headers={"X-Request-ID": "my-own-id-123"}).headers["x-request-id"] != (
        "my-own-id-123"
    )


def test_metrics_can_be_switched_off(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, ESS_METRICS__ENABLED="false", ESS_METRICS__TOKEN=METRICS_TOKEN)
    with TestClient(app=create_app(settings)) as client:
        assert client.get("/metrics", headers=BEARER).status_code == 404


def test_the_mail_queue_backlog_its_oldest_mail_and_the_failed_ones_are_read_at_scrape_time(
    observed: tuple[Settings, TestClient[Litestar]],
) -> None:
    settings, client = observed
    text = client.get("/metrics", headers=BEARER).text
    assert _sample(text, "ess_mail_queue_backlog") == 0
    assert _sample(text, "ess_mail_queue_oldest_age_seconds") == 0
    assert _sample(text, "ess_mail_queue_failed") == 0
    asyncio.run(_queue_mails(settings, age=timedelta(minutes=10)))
    text = client.get("/metrics", headers=BEARER).text
    assert _sample(text, "ess_mail_queue_backlog") == 2
    assert 600 <= _sample(text, "ess_mail_queue_oldest_age_seconds") < 900
    assert _sample(text, "ess_mail_queue_failed") == 1


async def _queue_mails(settings: Settings, *, age: timedelta) -> None:
    """Two mails waiting (the older one `age` old) and one given up, written as the worker would leave them."""
    container = build_container(settings)
    now = datetime.now(UTC)
    try:
        async with container.new_uow() as uow:
            for created, status in (
                (now - age, MailStatus.PENDING),
                (now, MailStatus.PENDING),
                (now, MailStatus.FAILED),
            ):
                mail = queued(ComposedMail("leave_requested", ("a@example.test",), "S", "sealed"), created)
                # Not due for an hour: the app's own worker must not send them while the test reads the figures.
                await uow.mail.add(replace(mail, status=status, next_attempt_at=now + timedelta(hours=1)))
            await uow.commit()
    finally:
        await container.close()
