"""`ess serve --workers N` and its shutdown: worker processes sharing Redis, requests in flight finished on SIGTERM,
and a refusal where several workers could not share state."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness.ess_processes import DEMO_PASSWORD, EssCluster, stop
from tests.harness.redis import RedisServer


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer) -> Iterator[EssCluster]:
    workdir = tmp_path_factory.mktemp("workers")
    cluster = EssCluster(workdir, f"sqlite+aiosqlite:///{workdir / 'ess.db'}", redis=redis_server)
    cluster.prepare()
    yield cluster


def _workers(pid: int) -> list[int]:
    """The server's worker processes (uvicorn spawns them; multiprocessing's resource tracker is no worker)."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(child) for child in (task / "children").read_text().split()]
    return [child for child in children if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()]


def test_two_workers_serve_and_stop_together(prepared: EssCluster, redis: RedisServer) -> None:
    process, url = prepared.start(0, "--workers", "2")
    try:
        workers = _workers(process.pid)
        assert len(workers) == 2
        with httpx.Client(base_url=url, follow_redirects=False) as browser:
            token = browser.post(
                "/api/v1/auth/token", json={"username": "anna.schmidt", "password": DEMO_PASSWORD}
            ).json()["access_token"]
            # Many requests over fresh connections land on both workers; every one knows the token and the session.
            for _ in range(20):
                me = httpx.get(f"{url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
                assert me.status_code == 200
            ready = httpx.get(f"{url}/health/ready").json()
            assert ready["checks"]["sessions"] == "ok"
            # /metrics adds up the workers' counts (prometheus_client's multiprocess mode).
            metrics = httpx.get(f"{url}/metrics").text
            served = [line for line in metrics.splitlines() if line.startswith("ess_http_requests_total{")]
            assert sum(float(line.split()[-1]) for line in served if 'route="/api/v1/me"' in line) == 20
    finally:
        assert stop(process) in {0, -signal.SIGTERM}
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


def test_a_request_in_flight_is_answered_after_sigterm(prepared: EssCluster) -> None:
    """Graceful shutdown: the listener closes, but a request whose body is still arriving gets its answer."""
    process, url = prepared.start(1)
    port = int(url.rsplit(":", 1)[1])
    body = b'{"username": "anna.schmidt", "password": "' + DEMO_PASSWORD.encode() + b'"}'
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(
                b"POST /api/v1/auth/token HTTP/1.1\r\nHost: ess.test\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body[:10]
            )
            time.sleep(0.3)
            process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            assert process.poll() is None  # still finishing the request in flight
            connection.sendall(body[10:])
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert b"access_token" in answer
        # uvicorn ends by re-raising the SIGTERM it handled: a clean stop for systemd and container engines.
        assert process.wait(timeout=20) in {0, -signal.SIGTERM}
        log = (prepared.workdir / "ess-1.log").read_text()
        assert log.index("Waiting for application shutdown") < log.index("Application shutdown complete")
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/health/live")
    finally:
        stop(process)


def test_several_workers_without_a_shared_store_are_refused(prepared: EssCluster) -> None:
    env = prepared.env() | {"ESS_SESSIONS__STORE": "file"}
    result = subprocess.run(
        [sys.executable, "-m", "ess.cli", "serve", "--workers", "3"],
        env=env,
        cwd=prepared.workdir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert 'ESS refuses to start: 3 workers need sessions.store = "redis"' in " ".join(result.stderr.split())


def test_json_logs_carry_the_request_id_and_no_one_time_token(prepared: EssCluster) -> None:
    json_logs = EssCluster(
        prepared.workdir,
        prepared.database_url,
        redis=prepared.redis,
        extra_env={"ESS_LOGGING__FORMAT": "json", "ESS_SERVER__TRUSTED_PROXIES": '["127.0.0.1/32"]'},
    )
    process, url = json_logs.start(2)
    try:
        proxied = httpx.get(f"{url}/password/reset/SECRET-one-time-token", headers={"X-Request-ID": "nginx-4f2a9c0e1b"})
        assert proxied.headers["x-request-id"] == "nginx-4f2a9c0e1b"  # the trusted proxy's id is kept
        own = httpx.get(f"{url}/health/live").headers["x-request-id"]
    finally:
        stop(process)
    lines = [line for line in (prepared.workdir / "ess-2.log").read_text().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    access = [entry for entry in entries if entry["logger"] == "uvicorn.access"]
    by_id = {entry.get("request_id"): entry for entry in access}
    assert by_id["nginx-4f2a9c0e1b"]["path"] == "/password/reset/[redacted]"
    assert by_id[own]["path"] == "/health/live"
    assert by_id[own]["status"] == 200
    assert "SECRET-one-time-token" not in "\n".join(lines)
