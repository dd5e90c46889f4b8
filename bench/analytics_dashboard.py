"""Benchmark: the self-service dashboard (every figure, trend and list of the page, for an administrator who sees
every flow) over 1,000,000 journey events, next to one raw aggregate query over the same events.

    .venv/bin/python bench/analytics_dashboard.py [--events 1000000] [--rounds 5] [--database-url URL]

Without --database-url it builds a fresh, migrated SQLite file in a temporary directory. A PostgreSQL URL
(postgresql+asyncpg://...) must point at an empty database; it is migrated here. The events are generated as the
pages record them (started, steps reached, failures, completed, a few escalations and answers) over one year, and
written straight into the tables: a benchmark may, a test may not. The dashboard reads the one-row-per-journey
summary the recording keeps; the raw query folds the events per journey itself. The script prints figures, it
asserts nothing. Goal: the dashboard under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from ess.adapters.sql.analytics import SqlJourneyRepository
from ess.adapters.sql.tables import JourneyEventRow, JourneyRow
from ess.bootstrap import build_container
from ess.domain.analytics.model import Flow, new_journey_id
from ess.domain.analytics.report import dashboard
from ess.domain.auth.model import Principal
from ess.domain.hr.model import Role
from ess.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
GOAL_MS = 1000.0
START = datetime(2025, 12, 1, 6, 0, tzinfo=UTC)
ERRORS = ("invalid_input", "policy_violation", "wrong_current_password", "password_rejected", "recovery_link_invalid")
WORDS = ("urlaub", "passwort vergessen", "resturlaub", "adresse ändern", "iban", "konto gesperrt", "vpn", "krank")
RAW_QUERY = """
SELECT flow, COUNT(*) AS started, SUM(done) AS completed, SUM(CASE WHEN failures > 0 THEN 1 ELSE 0 END) AS failed,
       SUM(CASE WHEN done = 0 AND first_at <= :abandoned THEN 1 ELSE 0 END) AS abandoned, SUM(escalated) AS escalated
FROM (
    SELECT flow, journey, MIN(at) AS first_at,
           MAX(CASE WHEN step = 'completed' THEN 1 ELSE 0 END) AS done,
           SUM(CASE WHEN step = 'failed' THEN 1 ELSE 0 END) AS failures,
           MAX(CASE WHEN step = 'escalated' THEN 1 ELSE 0 END) AS escalated
    FROM analytics_events WHERE day BETWEEN :start AND :end GROUP BY flow, journey
) AS journeys
GROUP BY flow
"""


def migrate(url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")


def journey_rows(events: int, rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Events and journey summaries as the recording would have written them."""
    flows = [f for f in Flow if f is not Flow.HELP_REQUEST]
    event_rows: list[dict[str, Any]] = []
    journeys: list[dict[str, Any]] = []
    while len(event_rows) < events:
        flow = rng.choice(flows)
        journey = new_journey_id()
        at = START + timedelta(seconds=rng.randrange(365 * 86400))
        steps: list[tuple[str, str, str]] = [("started", "", rng.choice(WORDS) if flow is Flow.SEARCH else "")]
        failures = 0
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            steps.append(("reached", "", "link_opened"))
        if rng.random() < 0.3:
            failures = rng.choice((1, 1, 2))
            steps += [("failed", rng.choice(ERRORS), "")] * failures
        completed = rng.random() < 0.75
        if completed:
            steps.append(("completed", "", ""))
        escalated = rng.random() < 0.05
        if escalated:
            steps.append(("escalated", "", ""))
        moment, completed_at = at, None
        for step, code, detail in steps:
            moment += timedelta(seconds=rng.randrange(5, 240))
            if step == "completed":
                completed_at = moment
            event_rows.append(
                {"flow": flow.value, "journey": journey, "step": step, "error_code": code, "detail": detail,
                 "at": moment, "day": moment.date()}
            )  # fmt: skip
        seconds = int((completed_at - at).total_seconds()) if completed_at else None
        journeys.append(
            {"flow": flow.value, "journey": journey, "started_at": at, "started_day": at.date(), "last_at": moment,
             "completed_at": completed_at, "seconds": seconds, "failures": failures, "escalated": escalated,
             "solved": rng.choice(("yes", "yes", "partly", "no")) if completed and rng.random() < 0.3 else None,
             "comment": ""}
        )  # fmt: skip
    return event_rows, journeys


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await call()
    return (time.perf_counter() - start) * 1000


async def run(url: str, events: int, rounds: int, mail_folder: str) -> None:
    """Long because it is the whole benchmark in order: build, load, warm up, time both, print."""
    settings = load_settings(
        ROOT / "config" / "ess.toml",
        environ={
            "ESS_MODE": "test",
            "ESS_SECRET_KEY": "bench-secret-key-of-sufficient-length-0123456789",
            "ESS_SESSIONS__STORE": "memory",
            "ESS_DATABASE_URL": url,
            "ESS_MAIL__FOLDER": mail_folder,
        },
    )
    container = build_container(settings)
    assert container.engine is not None
    rng = random.Random(17)
    began = time.perf_counter()
    event_rows, journeys = journey_rows(events, rng)
    async with container.engine.begin() as connection:
        for chunk in range(0, len(event_rows), 50_000):
            await connection.execute(insert(JourneyEventRow), event_rows[chunk : chunk + 50_000])
        for chunk in range(0, len(journeys), 50_000):
            await connection.execute(insert(JourneyRow), journeys[chunk : chunk + 50_000])
    # The daily counters the recording keeps event by event, counted here in one go from the same rows.
    async with container.engine.begin() as connection, AsyncSession(bind=connection) as session:
        await SqlJourneyRepository(session).rebuild_counters()
    async with container.engine.begin() as connection:
        # What autovacuum (PostgreSQL) or `PRAGMA optimize` (SQLite) does for a table that grew: statistics.
        await connection.execute(text("ANALYZE"))
    print(f"{len(event_rows):,} events in {len(journeys):,} journeys loaded in {time.perf_counter() - began:.1f} s")

    admin = Principal("admin", "Admin", frozenset({Role.EMPLOYEE, Role.ADMIN}))
    first, last = START.date(), (START + timedelta(days=366)).date()
    deps = container.analytics

    async def board() -> None:
        await dashboard(admin, first, last, deps=deps)

    async def raw() -> None:
        async with container.engine.connect() as connection:  # type: ignore[union-attr]
            rows = await connection.execute(
                text(RAW_QUERY),
                {"start": first, "end": last, "abandoned": datetime.now(UTC) - timedelta(hours=1)},
            )
            rows.fetchall()

    await board()
    await raw()
    dash = [await timed(board) for _ in range(rounds)]
    base = [await timed(raw) for _ in range(rounds)]
    one_month = [
        await timed(lambda: dashboard(admin, date(2026, 6, 1), date(2026, 6, 30), deps=deps)) for _ in range(rounds)
    ]
    dialect = container.engine.dialect.name
    print(f"database: {dialect}; rounds: {rounds}; period: {first} to {last} (every event)")
    print(f"dashboard (figures, median, trends, failures, searches, votes): median {statistics.median(dash):8.1f} ms")
    print(f"raw aggregate query over the events (figures only):           median {statistics.median(base):8.1f} ms")
    print(f"ratio dashboard / raw query: {statistics.median(dash) / statistics.median(base):.2f}")
    print(
        f"dashboard for one month (June 2026):                          median {statistics.median(one_month):8.1f} ms"
    )
    verdict = "met" if statistics.median(dash) < GOAL_MS else "NOT met"
    print(f"goal: dashboard < {GOAL_MS:.0f} ms over the whole year -> {verdict}")
    await container.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ess-bench-analytics-") as workdir:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(workdir) / 'ess.db'}"
        migrate(url)
        asyncio.run(run(url, args.events, args.rounds, str(Path(workdir) / "mail")))


if __name__ == "__main__":
    main()
