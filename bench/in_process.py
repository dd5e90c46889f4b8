"""Benchmark: CPU per request of the balance API and /vacation with the ASGI app called directly, no HTTP.

    .venv/bin/python bench/in_process.py [--before TREE] [--rounds 6] [--requests 400]
    .venv/bin/python bench/in_process.py --driver-ab [--rounds 12] [--requests 150]

Each measurement is a fresh process: it migrates a SQLite database, seeds the demo company (file session store, as
the demo runs), builds ESS's app from a source tree (this checkout, or `--before TREE` from `git archive`), signs in
once (a bearer token, a session cookie) and then calls the app's ASGI entry point `--requests` times per route with
a minimal HTTP scope, counting the process's CPU (every thread: aiosqlite's too). The baseline, in the same rounds:
a bare Litestar app's JSON route (`bench/bare_app.py`) called the same way. Trees and the baseline alternate round by
round; the script prints each round, the medians and the ratios (to the bare route, and after/before). Without the
HTTP server and client the figures are the app's own cost, steadier than `request_overhead.py` on a shared
machine. It asserts nothing.

`--driver-ab` compares, in one process on one database, the SQLite driver's two ways of running a read-only
transaction (ess/adapters/sql/sqlite_driver.py): its SELECTs on the event loop, and each in a trip to aiosqlite's
thread (as before reads ran on the loop: the BEGIN sent first, then one trip per statement and one for the commit),
switched block by block; it prints the medians and the median of the blocks' ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LOGIN = "anna.schmidt"

Call = Callable[[], Awaitable[None]]


def _caller(app: Any, path: str, headers: list[tuple[bytes, bytes]]) -> Call:
    async def call() -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"ess.test"), *headers],
            "client": ("127.0.0.1", 5555),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        if sent[0]["status"] != 200:
            raise RuntimeError(f"{path}: {sent[0]['status']}")

    return call


async def _cpu_ms(call: Call, requests: int) -> float:
    for _ in range(30):  # warm-up: caches, the first statements compiled
        await call()
    start = time.process_time()
    for _ in range(requests):
        await call()
    return (time.process_time() - start) / requests * 1000


@contextlib.asynccontextmanager
async def _signed_in_calls() -> AsyncIterator[dict[str, Call]]:
    """The app of this process's tree, started (lifespan) and signed in once: a call of the balance API and one of
    /vacation."""
    from litestar.testing import AsyncTestClient  # noqa: PLC0415 - in the measuring process only

    from ess.app import create_app  # noqa: PLC0415
    from tests.harness.ess_processes import DEMO_PASSWORD  # noqa: PLC0415

    app = create_app()
    async with AsyncTestClient(app=app, base_url="http://ess.test") as client:
        answer = await client.post("/api/v1/auth/token", json={"username": LOGIN, "password": DEMO_PASSWORD})
        token = f"Bearer {answer.json()['access_token']}".encode()
        login = (await client.get("/login")).text
        csrf = login.split('name="_csrf_token" value="', 1)[1].split('"', 1)[0]
        form = {"_csrf_token": csrf, "username": LOGIN, "password": DEMO_PASSWORD}
        if (await client.post("/login", data=form, follow_redirects=False)).status_code != 303:
            raise RuntimeError("login failed")
        cookie = f"ess_session={client.cookies['ess_session']}".encode()
        yield {
            "API": _caller(app, "/api/v1/me/vacation/balance", [(b"authorization", token)]),
            "page": _caller(app, "/vacation", [(b"cookie", cookie)]),
        }


async def _measure_ess(requests: int) -> dict[str, float]:
    async with _signed_in_calls() as calls:
        return {route: await _cpu_ms(call, requests) for route, call in calls.items()}


async def _driver_ab(rounds: int, requests: int) -> None:
    from ess.adapters.sql import sqlite_driver  # noqa: PLC0415

    on_the_loop = sqlite_driver.OneHopConnection.run_inline

    def in_the_thread(
        self: sqlite_driver.OneHopConnection, begin: str | None, operation: str, parameters: Any, *, many: bool
    ) -> None:
        if begin is not None:
            self._connection._conn.execute(begin)
        # None: the statement goes to the thread, and so does the commit (the connection never went inline)

    figures: dict[tuple[str, str], list[float]] = {}
    ways = {"loop": on_the_loop, "thread": in_the_thread}
    async with _signed_in_calls() as calls:
        for block in range(rounds):
            for way in ("loop", "thread") if block % 2 == 0 else ("thread", "loop"):
                sqlite_driver.OneHopConnection.run_inline = ways[way]  # type: ignore[method-assign]
                for route, call in calls.items():
                    figures.setdefault((route, way), []).append(await _cpu_ms(call, requests))
    sqlite_driver.OneHopConnection.run_inline = on_the_loop  # type: ignore[method-assign]
    for route in ("API", "page"):
        loop, thread = figures[(route, "loop")], figures[(route, "thread")]
        ratios = [a / b for a, b in zip(loop, thread, strict=True)]
        print(
            f"{route}: on the loop {statistics.median(loop):.3f} ms, in the thread {statistics.median(thread):.3f} ms,"
            f" loop/thread {statistics.median(ratios):.2f} (blocks: {', '.join(f'{r:.2f}' for r in ratios)})"
        )


async def _measure_bare(requests: int) -> dict[str, float]:
    from litestar import Litestar  # noqa: PLC0415

    sys.path.insert(0, str(BENCH))
    import bare_app  # noqa: PLC0415

    app = Litestar(route_handlers=[bare_app.json_route])
    return {"bare JSON": await _cpu_ms(_caller(app, "/json", []), requests * 5)}


def _demo_database() -> None:
    """A migrated SQLite database with the demo company, and ESS's configuration for it in the environment."""
    from tests.harness.ess_processes import EssCluster  # noqa: PLC0415

    workdir = Path(tempfile.mkdtemp(prefix="ess-in-process-"))
    cluster = EssCluster(workdir, f"sqlite+aiosqlite:///{workdir}/ess.db", store="file")
    os.environ.update(cluster.env())
    os.chdir(workdir)
    cluster.prepare()


def _child(kind: str, requests: int) -> None:
    """In the measuring process: print the figures as one JSON line."""
    if kind == "bare":
        figures = asyncio.run(_measure_bare(requests))
    else:
        _demo_database()
        figures = asyncio.run(_measure_ess(requests))
    print(json.dumps(figures), flush=True)


def _run(kind: str, tree: Path, requests: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    result = subprocess.run(  # noqa: S603 - this interpreter and this script
        [sys.executable, str(BENCH / "in_process.py"), "--child", kind, "--requests", str(requests)],
        env=env,
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{kind} in {tree} failed:\n{result.stderr[-3000:]}")
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def main(before: Path | None, rounds: int, requests: int) -> None:
    trees = {"after": ROOT} if before is None else {"before": before, "after": ROOT}
    figures: dict[str, list[float]] = {}
    for number in range(rounds):
        order = list(trees.items()) if number % 2 == 0 else list(reversed(trees.items()))
        for name, tree in order:
            for route, value in _run("ess", tree, requests).items():
                figures.setdefault(f"{route} {name}", []).append(value)
        for route, value in _run("bare", ROOT, requests).items():
            figures.setdefault(route, []).append(value)
        print(f"round {number + 1}: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in sorted(figures.items())), flush=True)
    median = {name: statistics.median(values) for name, values in figures.items()}
    bare = median["bare JSON"]
    print("median CPU ms per request: " + ", ".join(f"{k} {v:.3f}" for k, v in sorted(median.items())))
    for route in ("API", "page"):
        after = median[f"{route} after"]
        line = f"{route}: after {after:.3f} ms = {after / bare:.1f}x the bare route"
        if before is not None:
            paired = [a / b for a, b in zip(figures[f"{route} after"], figures[f"{route} before"], strict=True)]
            line += (
                f"; before {median[f'{route} before'] / bare:.1f}x; after/before {statistics.median(paired):.2f}"
                f" (median of the rounds' ratios; each round: {', '.join(f'{r:.2f}' for r in paired)})"
            )
        print(line)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, help="another source tree of ESS (from git archive) to compare with")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--driver-ab", action="store_true", help="the SQLite driver's two ways, in one process")
    parser.add_argument("--child", choices=("ess", "bare"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.driver_ab:
        sys.path.insert(0, str(ROOT))
        _demo_database()
        asyncio.run(_driver_ab(arguments.rounds, arguments.requests))
    elif arguments.child:
        sys.path.insert(0, str(Path.cwd()))
        _child(arguments.child, arguments.requests)
    else:
        main(arguments.before, arguments.rounds, arguments.requests)
