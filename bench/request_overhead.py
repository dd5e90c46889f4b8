"""Benchmark: what one authenticated request costs the server, against a bare Litestar app in the same run.

    .venv/bin/python bench/request_overhead.py [--requests 300] [--seconds 5]

Starts one `ess serve` on a fresh SQLite database with the demo company (file session store, as the demo runs) and
`bench/bare_app.py` (a bare Litestar JSON route and a bare Jinja page) under the same uvicorn options, then for each
pair (the balance API with a bearer token against the bare JSON route; the /vacation page with a session cookie
against the bare page):

- CPU per request: the server process's user+system time (from /proc) over `--requests` sequential requests;
- throughput at 1 and at 50 concurrent connections for `--seconds` each.

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

from tests.harness.ess_processes import DEMO_PASSWORD, EssCluster, stop  # noqa: E402
from tests.harness.ports import free_port  # noqa: E402

LOGIN = "anna.schmidt"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


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
    lines = [f"GET {parsed.raw_path.decode()} HTTP/1.1", f"Host: {parsed.host}:{parsed.port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
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


def start_bare(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with (workdir / "bare.log").open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own script with this interpreter
            [sys.executable, str(ROOT / "bench" / "bare_app.py"), str(port)], stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/json").status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.05)
    stop(process)
    raise RuntimeError("the bare app did not start")


def cold_start(cluster: EssCluster, workdir: Path) -> tuple[float, float]:
    """Seconds from starting each server process to its first answer: ESS (/health/live) and the bare app."""
    started = time.monotonic()
    process, _url = cluster.start(99)
    ess = time.monotonic() - started
    stop(process)
    started = time.monotonic()
    process, _url = start_bare(workdir)
    bare = time.monotonic() - started
    stop(process)
    return ess, bare


def main(requests: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        cluster = EssCluster(workdir, f"sqlite+aiosqlite:///{workdir}/ess.db", store="file")
        cluster.prepare()
        bare_process, bare_url = start_bare(workdir)
        try:
            ess_process, url = cluster.start(0)
            try:
                ess_pid = ess_process.pid
                api_headers, page_headers = bearer(url), session_cookie(url)
                pairs = [
                    ("balance API vs bare JSON", f"{url}/api/v1/me/vacation/balance", api_headers, f"{bare_url}/json"),
                    ("/vacation page vs bare page", f"{url}/vacation", page_headers, f"{bare_url}/page"),
                ]
                print(f"{os.cpu_count()} cores; CPU over {requests} requests in a row; throughput {seconds:.0f} s each")
                print(f"{'':28} {'ESS':>9} {'bare':>9} {'ratio':>7}")
                for name, ess_url, headers, base_url in pairs:
                    ess_cpu = cpu_per_request(ess_pid, ess_url, headers, requests)
                    bare_cpu = cpu_per_request(bare_process.pid, base_url, {}, requests)
                    print(f"{name + ': CPU ms/request':28} {ess_cpu:9.2f} {bare_cpu:9.2f} {ess_cpu / bare_cpu:7.1f}")
                    for concurrency in (1, 50):
                        ess_rate = throughput(ess_url, headers, seconds, concurrency)
                        bare_rate = throughput(base_url, {}, seconds, concurrency)
                        label = f"  req/s at {concurrency} connection(s)"
                        print(f"{label:44} {ess_rate:9.0f} {bare_rate:9.0f} {ess_rate / bare_rate:7.3f}")
            finally:
                stop(ess_process)
        finally:
            stop(bare_process)
        ess_start, bare_start = cold_start(cluster, workdir)
        print(f"{'cold start to first answer, s':28} {ess_start:9.2f} {bare_start:9.2f} {ess_start / bare_start:7.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=5.0)
    arguments = parser.parse_args()
    main(arguments.requests, arguments.seconds)
