"""Benchmark: what one authenticated request costs the server, against a bare Litestar app in the same run.

    .venv/bin/python bench/request_overhead.py [--requests 300] [--seconds 5]

Starts one `ess serve` on a fresh SQLite database with the demo company (file session store, as the demo runs) and
`bench/bare_app.py` (a bare Litestar JSON route and a bare Jinja page) under the same uvicorn options, then for each
pair (the balance API with a bearer token against the bare JSON route; the /vacation page with a session cookie
against the bare page):

- CPU per request: the server process's user+system time (from /proc) over `--requests` sequential requests;
- throughput at 1 and at 50 concurrent connections for `--seconds` each.

- the floors of the stack (bench/bare_app.py --floor): the bare JSON route after one SQLAlchemy Core query
  (`/json-db`: plain async engine on aiosqlite), after one and after three queries in a read-only transaction on
  ESS's own engine and driver (`/json-ess-1`, `/json-ess-3`; three is the issue's statement budget for an
  authenticated read), each against the bare route and the balance API against each; the three-query floor's
  req/s at 50 connections against the bare route's. No database-backed request on this stack undercuts them;
- memory: the server's RSS when idle (after the first answer) and after `--memory-requests` more requests
  (10,000 by default), against the same for the bare app.

It prints figures and the ratio to the bare app; it asserts nothing. The client runs on the same machine, so the
throughput figures compete with it for the cores: read the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from cold_start import Bare, timed_start  # noqa: E402

from tests.harness.ess_processes import DEMO_PASSWORD, EssCluster, stop  # noqa: E402
from tests.harness.ports import free_port  # noqa: E402

LOGIN = "anna.schmidt"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float:
    """Resident set size of a process now, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def rss_after(pid: int, url: str, headers: dict[str, str], requests: int) -> tuple[float, float]:
    """RSS (MB) idle and after `requests` more requests at 10 connections."""
    idle = rss_mb(pid)
    asyncio.run(_count(url, headers, requests, 10))
    return idle, rss_mb(pid)


async def _count(url: str, headers: dict[str, str], requests: int, concurrency: int) -> None:
    parsed = httpx.URL(url)
    request = _raw_request(parsed, headers)
    share = requests // concurrency

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
        try:
            for _ in range(share):
                await _get(reader, writer, request)
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def _raw_request(parsed: httpx.URL, headers: dict[str, str]) -> bytes:
    lines = [f"GET {parsed.raw_path.decode()} HTTP/1.1", f"Host: {parsed.host}:{parsed.port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def cpu_per_request(pid: int, url: str, headers: dict[str, str], requests: int) -> float:
    """Milliseconds of server CPU per request, sequential requests on one connection."""
    with httpx.Client(headers=headers, timeout=60) as http:
        for _ in range(20):  # warm up: caches, imports, the first connection
            _ok(http.get(url))
        before = cpu_seconds(pid)
        for _ in range(requests):
            _ok(http.get(url))
        return (cpu_seconds(pid) - before) * 1000 / requests


def _ok(answer: httpx.Response) -> None:
    if answer.status_code != 200:
        raise RuntimeError(f"{answer.request.url}: {answer.status_code} {answer.text[:200]}")


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> None:
    """One keep-alive GET on a raw connection: a client much lighter than the servers it measures (httpx with 50
    connections in one process is slower than the bare app)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = head.split(b" ", 2)[1]
    if status != b"200":
        raise RuntimeError(f"status {status.decode()}")
    length = next(
        int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
    )
    await reader.readexactly(length)


async def _throughput(url: str, headers: dict[str, str], seconds: float, concurrency: int) -> float:
    parsed = httpx.URL(url)
    request = _raw_request(parsed, headers)
    deadline = time.monotonic() + seconds

    async def worker() -> int:
        reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
        done = 0
        try:
            while time.monotonic() < deadline:
                await _get(reader, writer, request)
                done += 1
        finally:
            writer.close()
        return done

    started = time.monotonic()
    total = sum(await asyncio.gather(*(worker() for _ in range(concurrency))))
    return total / (time.monotonic() - started)


def throughput(url: str, headers: dict[str, str], seconds: float, concurrency: int) -> float:
    return asyncio.run(_throughput(url, headers, seconds, concurrency))


def session_cookie(url: str) -> dict[str, str]:
    with httpx.Client(follow_redirects=False) as browser:
        page = browser.get(f"{url}/login").text
        token = page.split('name="_csrf_token" value="', 1)[1].split('"', 1)[0]
        answer = browser.post(f"{url}/login", data={"_csrf_token": token, "username": LOGIN, "password": DEMO_PASSWORD})
        if answer.status_code != 303:
            raise RuntimeError(f"login: {answer.status_code}")
        return {"Cookie": f"ess_session={browser.cookies['ess_session']}"}


def bearer(url: str) -> dict[str, str]:
    answer = httpx.post(f"{url}/api/v1/auth/token", json={"username": LOGIN, "password": DEMO_PASSWORD})
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def start_bare(
    workdir: Path, *, floor: bool = False, ess_page: tuple[EssCluster, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """bench/bare_app.py; with `ess_page` (ESS's configuration and a session cookie of it) also `/ess-page`, ESS's
    vacation.html rendered with the context of one real request."""
    port = free_port()
    command = [sys.executable, str(ROOT / "bench" / "bare_app.py"), str(port), *(["--floor"] if floor else [])]
    env = None
    if ess_page is not None:
        cluster, cookie = ess_page
        command += ["--ess-page", cookie.split("=", 1)[1]]
        env = cluster.env()
    with (workdir / "bare.log").open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)  # noqa: S603 - our own script
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + (90 if ess_page else 30)
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/json").status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.05)
    stop(process)
    raise RuntimeError("the bare app did not start")


def cold_start(cluster: EssCluster, workdir: Path) -> tuple[float, float]:
    """Seconds from starting each server process to its first answer, as bench/cold_start.py takes them (one round
    of it): ESS's /health/ready and the bare app's /json, polled with a light client every 10 ms."""
    port = free_port()
    command = [sys.executable, "-m", "ess.cli", "serve"]
    url = f"http://127.0.0.1:{port}/health/ready"
    ess, _cpu = timed_start(command, cluster.env(port), workdir, url, workdir / "ess-cold.log")
    bare, _cpu = Bare().start()
    return ess, bare


def main(requests: int, seconds: float, memory_requests: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        cluster = EssCluster(workdir, f"sqlite+aiosqlite:///{workdir}/ess.db", store="file")
        cluster.prepare()
        bare_process, bare_url = start_bare(workdir)
        try:
            ess_process, url = cluster.start(0)
            try:
                _measure(
                    ess_process.pid,
                    url,
                    bare_process.pid,
                    bare_url,
                    requests=requests,
                    seconds=seconds,
                    memory_requests=memory_requests,
                )
                _same_template(cluster, ess_process.pid, url, requests)
            finally:
                stop(ess_process)
        finally:
            stop(bare_process)
        ess_start, bare_start = cold_start(cluster, workdir)
        print(f"{'cold start to first answer, s':44} {ess_start:9.2f} {bare_start:9.2f} {ess_start / bare_start:7.1f}")


def _same_template(cluster: EssCluster, ess_pid: int, url: str, requests: int) -> None:
    """/vacation against a bare app rendering ESS's vacation.html with the context of a real request."""
    cookie = session_cookie(url)
    process, bare_url = start_bare(
        Path(tempfile.mkdtemp(prefix="bare-ess-page-")), ess_page=(cluster, cookie["Cookie"])
    )
    try:
        ess_cpu = cpu_per_request(ess_pid, f"{url}/vacation", cookie, requests)
        bare_cpu = cpu_per_request(process.pid, f"{bare_url}/ess-page", {}, requests * 2)
    finally:
        stop(process)
    label = "/vacation vs bare app, same template+context"
    print(f"{label:44} {ess_cpu:9.2f} {bare_cpu:9.2f} {ess_cpu / bare_cpu:7.1f}")


def _floors(
    ess_pid: int,
    balance: str,
    api_headers: dict[str, str],
    bare_pid: int,
    bare_json: str,
    *,
    requests: int,
    seconds: float,
) -> None:
    """The floors of a database-backed JSON request on this stack (bench/bare_app.py --floor) against the bare
    route, and the balance API against them: what the goals leave for ESS's own work."""
    floor_process, floor_url = start_bare(Path(tempfile.mkdtemp(prefix="bare-floor-")), floor=True)
    floors = {
        "JSON + one Core query (aiosqlite)": "/json-db",
        "JSON + one query, ESS's engine (read-only)": "/json-ess-1",
        "JSON + three queries, ESS's engine": "/json-ess-3",
    }
    try:
        ess_cpu = cpu_per_request(ess_pid, balance, api_headers, requests)
        bare_cpu = cpu_per_request(bare_pid, bare_json, {}, requests * 5)
        print(f"floors, CPU ms/request{'':21} {'floor':>9} {'bare':>9} {'ratio':>7}  balance API / floor")
        for label, path in floors.items():
            floor_cpu = cpu_per_request(floor_process.pid, f"{floor_url}{path}", {}, requests * 2)
            print(
                f"  {label:42} {floor_cpu:9.2f} {bare_cpu:9.2f} {floor_cpu / bare_cpu:7.1f}  {ess_cpu / floor_cpu:.1f}"
            )
        floor_rate = throughput(f"{floor_url}/json-ess-3", {}, seconds, 50)
        bare_rate = throughput(bare_json, {}, seconds, 50)
        label = "  three queries, req/s at 50 connections"
        print(f"{label:44} {floor_rate:9.0f} {bare_rate:9.0f} {floor_rate / bare_rate:7.3f}")
    finally:
        stop(floor_process)


def _measure(
    ess_pid: int, url: str, bare_pid: int, bare_url: str, *, requests: int, seconds: float, memory_requests: int
) -> None:
    """Print CPU per request, throughput and memory of ESS and the bare app, and the ratios."""
    api_headers, page_headers = bearer(url), session_cookie(url)
    balance = f"{url}/api/v1/me/vacation/balance"
    pairs = [
        ("balance API vs bare JSON", balance, api_headers, f"{bare_url}/json"),
        ("/vacation page vs bare page", f"{url}/vacation", page_headers, f"{bare_url}/page"),
    ]
    print(f"{os.cpu_count()} cores; CPU over {requests} requests in a row; throughput {seconds:.0f} s each")
    print(f"{'':44} {'ESS':>9} {'bare':>9} {'ratio':>7}")
    for name, ess_url, headers, base_url in pairs:
        ess_cpu = cpu_per_request(ess_pid, ess_url, headers, requests)
        # Five times the requests: the bare app's CPU is a few clock ticks (10 ms each) over `requests`.
        bare_cpu = cpu_per_request(bare_pid, base_url, {}, requests * 5)
        print(f"{name + ': CPU ms/request':44} {ess_cpu:9.2f} {bare_cpu:9.2f} {ess_cpu / bare_cpu:7.1f}")
        for concurrency in (1, 50):
            ess_rate = throughput(ess_url, headers, seconds, concurrency)
            bare_rate = throughput(base_url, {}, seconds, concurrency)
            label = f"  req/s at {concurrency} connection(s)"
            print(f"{label:44} {ess_rate:9.0f} {bare_rate:9.0f} {ess_rate / bare_rate:7.3f}")
    _floors(ess_pid, balance, api_headers, bare_pid, f"{bare_url}/json", requests=requests, seconds=seconds)
    if memory_requests:
        idle, after = rss_after(ess_pid, balance, api_headers, memory_requests)
        bare_idle, bare_after = rss_after(bare_pid, f"{bare_url}/json", {}, memory_requests)
        print(f"{'RSS MB idle':44} {idle:9.0f} {bare_idle:9.0f} {idle / bare_idle:7.1f}")
        label = f"RSS MB after {memory_requests} more requests"
        print(f"{label:44} {after:9.0f} {bare_after:9.0f} {after / bare_after:7.1f}")
        print(f"{'  after / idle':44} {after / idle:9.2f} {bare_after / bare_idle:9.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--memory-requests", type=int, default=10_000)
    arguments = parser.parse_args()
    main(arguments.requests, arguments.seconds, arguments.memory_requests)
