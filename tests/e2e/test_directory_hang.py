"""The directory hangs (slapd stopped with SIGSTOP: connections are accepted, nothing is answered): a real `ess serve`
answers a login (which needs the directory) with a 503 and Retry-After within 2 s (the client gives up after that),
bearer-token reads (which go on without it) within 2 s too, /health/ready names the directory, /metrics counts the
timeouts and the open circuit, and once slapd runs again logins work without a restart (measured before: about 20 s
per bearer-token request)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import DEMO_COMPANY
from tests.harness.ess_processes import EssCluster, stop
from tests.harness.slapd import SlapdServer, running_slapd
from tests.integration.test_outbox_directory import ldap_env

PASSWORD = "Startpasswort 2026"
# The promise: a request that needs the hung directory is answered within this. The client waits no longer, so a
# slower answer fails the test as a ReadTimeout.
ANSWER_WITHIN_SECONDS = 2.0
OPEN_SECONDS = 3
WAIT_SECONDS = 30.0


@pytest.fixture
def own_slapd() -> Iterator[SlapdServer]:
    """A slapd of this test's own: it is paused and resumed."""
    with running_slapd() as server:
        yield server


@pytest.fixture
def ess_url(own_slapd: SlapdServer, sqlite_url: str) -> Iterator[str]:
    own_slapd.add_user(
        "anna.schmidt", PASSWORD, given_name="Anna", surname="Schmidt", mail="anna.schmidt@example-ess.test"
    )
    with tempfile.TemporaryDirectory(prefix="ess-hang-") as tmp:
        env = ldap_env(own_slapd) | {
            "ESS_DIRECTORY__BREAKER__OPEN_SECONDS": str(OPEN_SECONDS),
            "ESS_DIRECTORY__BREAKER__CALL_TIMEOUT_SECONDS": "1",  # the production default, which this test is about
        }
        ess = EssCluster(Path(tmp), sqlite_url, store="file", extra_env=env)
        ess.cli("db", "upgrade")
        ess.cli("hr", "import", str(DEMO_COMPANY))
        process, url = ess.start(0)
        try:
            yield url
        finally:
            stop(process)


def _assert_unavailable(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text[:300]
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "service_unavailable"
    assert 1 <= int(answer.headers["retry-after"]) <= OPEN_SECONDS


def _metric(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        head, _, value = line.rpartition(" ")
        if head == (f"{name}{{{wanted}}}" if labels else name):
            return float(value)
    return 0.0


def test_while_the_directory_hangs_requests_that_need_it_fail_fast_and_ready_names_it(
    own_slapd: SlapdServer, ess_url: str
) -> None:
    login = {"username": "anna.schmidt", "password": PASSWORD}
    with httpx.Client(base_url=ess_url, timeout=ANSWER_WITHIN_SECONDS) as client:
        issued = client.post("/api/v1/auth/token", json=login)
        assert issued.status_code in {200, 201}, issued.text
        auth = {"Authorization": f"Bearer {issued.json()['access_token']}"}
        assert client.get("/api/v1/me/profile", headers=auth).status_code == 200

        own_slapd.pause()
        try:
            logins, reads = [], []
            for _ in range(4):
                started = time.perf_counter()
                answer = client.post("/api/v1/auth/token", json=login)
                logins.append(round(time.perf_counter() - started, 3))
                _assert_unavailable(answer)  # a login needs the directory
                started = time.perf_counter()
                answer = client.get("/api/v1/me/profile", headers=auth)
                reads.append(round(time.perf_counter() - started, 3))
                # A token check asks the directory whether the account is still enabled; while it cannot answer,
                # the token goes on with the roles HR data gives (auth.login.still_allowed).
                assert answer.status_code == 200, answer.text[:300]
            print(f"while the directory hangs (s): logins {logins}, bearer reads {reads}")  # noqa: T201 - the figure
            ready = client.get("/health/ready")
            assert ready.status_code == 503
            assert ready.json()["checks"] == {"database": "ok", "directory": "unavailable"}
            metrics = client.get("/metrics").text
            assert _metric(metrics, "ess_directory_errors_total", operation="authenticate", reason="timeout") >= 1
            assert _metric(metrics, "ess_directory_errors_total", operation="authenticate", reason="circuit_open") >= 1
            assert _metric(metrics, "ess_directory_errors_total", operation="ping", reason="circuit_open") == 1
            assert _metric(metrics, "ess_directory_circuit_open") == 1
            # The calls it answered before it hung.
            assert _metric(metrics, "ess_directory_call_duration_seconds_count", operation="authenticate") >= 1
        finally:
            own_slapd.resume()

        # Without a restart: after OPEN_SECONDS the breaker lets a trial through and closes when it is answered.
        deadline = time.monotonic() + WAIT_SECONDS
        while client.post("/api/v1/auth/token", json=login).status_code not in {200, 201}:
            assert time.monotonic() < deadline, "the directory is back but requests still fail"
            time.sleep(0.2)
        assert client.get("/health/ready").status_code == 200
