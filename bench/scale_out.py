"""Benchmark: several `ess serve` processes (standing in for hosts) on one PostgreSQL and one Redis.

    .venv/bin/python bench/scale_out.py [--seconds 5] [--concurrency 32]

Starts a throwaway PostgreSQL and redis-server (tests/harness; needs postgresql and redis-server installed), seeds the
demo company, then:

1. the login limit: 20 parallel wrong passwords for one account, spread over 1, 2 and 4 processes, once with the old
   file store (each process counts on its own) and once with Redis; prints how many reached the directory (limit 5);
2. throughput for 1, 2 and 4 processes with Redis: an authenticated API read (bearer token: a database lookup) and an
   authenticated page (session in Redis), as requests per second and as the ratio to one process.

Load comes from client processes on the same machine, so on a small machine the clients compete with the servers:
read the ratios with the core count printed next to them. The script prints figures, it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness.ess_processes import DEMO_PASSWORD, EssCluster  # noqa: E402
from tests.harness.postgres import create_database, running_postgres  # noqa: E402
from tests.harness.redis import running_redis  # noqa: E402

COUNTS = (1, 2, 4)
CLIENT_PROCESSES = 2


async def _wrong_passwords(urls: list[str], login: str, attempts: int) -> list[int]:
    """The answers' statuses."""
    async with httpx.AsyncClient(timeout=60) as http:
        answers = await asyncio.gather(
            *(
                http.post(
                    f"{urls[i % len(urls)]}/api/v1/auth/token", json={"username": login, "password": f"wrong {i}"}
                )
                for i in range(attempts)
            )
        )
    return [answer.status_code for answer in answers]


def locked(cluster: EssCluster, login: str) -> bool:
    """Whether the (embedded) directory locked the account: what ESS promises never to cause."""

    async def read() -> bool:
        from sqlalchemy import text  # noqa: PLC0415
        from sqlalchemy.ext.asyncio import create_async_engine  # noqa: PLC0415

        engine = create_async_engine(cluster.database_url)
        try:
            async with engine.connect() as connection:
                query = text("SELECT locked_until FROM local_accounts WHERE login = :login")
                return (await connection.execute(query, {"login": login})).scalar_one() is not None
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _load(urls: list[str], path: str, headers: dict[str, str], seconds: float, concurrency: int, out: object) -> None:  # noqa: PLR0917
    async def worker(http: httpx.AsyncClient, index: int, deadline: float) -> int:
        done = 0
        while time.monotonic() < deadline:
            answer = await http.get(f"{urls[(index + done) % len(urls)]}{path}", headers=headers)
            if answer.status_code != 200:
                raise RuntimeError(f"{path}: {answer.status_code}")
            done += 1
        return done

    async def run() -> int:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(timeout=60, limits=limits) as http:
            deadline = time.monotonic() + seconds
            return sum(await asyncio.gather(*(worker(http, i, deadline) for i in range(concurrency))))

    out.put(asyncio.run(run()))  # type: ignore[attr-defined]


def throughput(urls: list[str], path: str, headers: dict[str, str], seconds: float, concurrency: int) -> float:
    queue: multiprocessing.Queue[int] = multiprocessing.Queue()
    per_client = max(1, concurrency // CLIENT_PROCESSES)
    clients = [
        multiprocessing.Process(target=_load, args=(urls, path, headers, seconds, per_client, queue))
        for _ in range(CLIENT_PROCESSES)
    ]
    for client in clients:
        client.start()
    total = sum(queue.get(timeout=seconds + 60) for _ in clients)
    for client in clients:
        client.join()
    return total / seconds


def _session_cookie(url: str) -> dict[str, str]:
    with httpx.Client(follow_redirects=False) as browser:
        page = browser.get(f"{url}/login").text
        token = page.split('name="_csrf_token" value="', 1)[1].split('"', 1)[0]
        answer = browser.post(
            f"{url}/login", data={"_csrf_token": token, "username": "anna.schmidt", "password": DEMO_PASSWORD}
        )
        assert answer.status_code == 303
        return {"Cookie": f"ess_session={browser.cookies['ess_session']}"}


def main(seconds: float, concurrency: int) -> None:
    with running_postgres() as postgres, running_redis() as redis, tempfile.TemporaryDirectory() as tmp:
        database_url = create_database(postgres, "ess_bench_scale")
        redis_cluster = EssCluster(Path(tmp), database_url, redis=redis)
        redis_cluster.prepare()
        logins = iter(["markus.weber", "anna.schmidt", "juergen.weiss", "zoe.lefevre", "lukas.wagner", "elif.demir"])

        print("20 parallel wrong passwords for one account (limit 5): how many reached the directory (each 401 is")
        print("one password check there; 429 = held back by ESS) and whether the directory locked the account")
        print(f"{'processes':>9}  {'file store: checked':>19}  {'locked':>6}  {'redis: checked':>14}  {'locked':>6}")
        for count in COUNTS:
            # Each run starts with empty counters: a file store of its own, Redis flushed.
            file_cluster = EssCluster(
                Path(tmp), database_url, store="file", extra_env={"ESS_SESSIONS__PATH": f"{tmp}/sessions-{count}"}
            )
            redis.flush()
            row = []
            for cluster in (file_cluster, redis_cluster):
                login = next(logins)
                with cluster.running(count) as urls:
                    checked = asyncio.run(_wrong_passwords(urls, login, 20)).count(401)
                row.append((checked, "yes" if locked(cluster, login) else "no"))
            (file_checked, file_locked), (redis_checked, redis_locked) = row
            print(f"{count:>9}  {file_checked:>19}  {file_locked:>6}  {redis_checked:>14}  {redis_locked:>6}")
        redis.flush()

        cores = os.cpu_count()
        print(f"\nThroughput with Redis, {seconds:.0f} s per run, {concurrency} concurrent clients, {cores} cores")
        print(f"{'processes':>9}  {'API read req/s':>14}  {'ratio':>5}  {'page req/s':>10}  {'ratio':>5}")
        base: tuple[float, float] | None = None
        for count in COUNTS:
            with redis_cluster.running(count) as urls:
                token = httpx.post(
                    f"{urls[0]}/api/v1/auth/token", json={"username": "anna.schmidt", "password": DEMO_PASSWORD}
                ).json()["access_token"]
                api = throughput(urls, "/api/v1/me", {"Authorization": f"Bearer {token}"}, seconds, concurrency)
                page = throughput(urls, "/", _session_cookie(urls[0]), seconds, concurrency)
            base = base or (api, page)
            print(f"{count:>9}  {api:>14.0f}  {api / base[0]:>5.2f}  {page:>10.0f}  {page / base[1]:>5.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    arguments = parser.parse_args()
    main(arguments.seconds, arguments.concurrency)
