"""Benchmark: the all-employee leave balance report against a plain scan of the ledger, on SQLite or PostgreSQL.

    .venv/bin/python bench/vacation_report.py [--employees 10000] [--database-url URL | --postgres] [--as-of 2026-06-30]

Without --database-url it builds a fresh, migrated SQLite file in a temporary directory. A PostgreSQL URL
(postgresql+asyncpg://...) must point at an empty, migrated database; --postgres starts a throwaway cluster from
tests/harness (it needs the postgresql package) and migrates a fresh database in it. The script prints figures, it
asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from ess.adapters.holidays_calendar import HolidaysCalendar
from ess.adapters.sql.database import create_engine, create_session_factory
from ess.adapters.sql.reports import SqlLeaveReport
from ess.adapters.sql.tables import (
    EmployeeRow,
    LeaveBucketRow,
    LeaveLedgerRow,
    LeaveRequestDayRow,
    LeaveRequestRow,
    OrgUnitRow,
)
from ess.adapters.sql.unit_of_work import SqlUnitOfWork
from ess.domain.shared import Notice
from ess.domain.vacation.model import VacationPolicy
from ess.domain.vacation.ports import VacationDeps
from ess.domain.vacation.report import PAGE_SIZE, ReportQuery, balance_report, balance_report_page, report_csv, to_csv

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 6, 30)
GOAL_SECONDS = 1.0
CHUNK = 20_000
HALF = Decimal("0.5")
TAKE_SIZES = (HALF, Decimal(1), Decimal(1), Decimal(2), Decimal(3))
SUBDIVISIONS = ("BY", "BW", "NW", "HE", "BE")
FIRST_NAMES = ("Anna", "Ben", "Clara", "Deniz", "Emil", "Fatma", "Georg", "Hanna", "Ilse", "Jonas", "Özlem", "Jürgen")


@dataclass(frozen=True, slots=True)
class Built:
    employees: int
    ledger_rows: int
    requests: int


def migrate(url: str) -> None:
    """Alembic to head, as tests/conftest.py does it."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")


def _weekday_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


class _Ids:
    """Explicit primary keys (after whatever the tables already hold), so rows can refer to each other
    without a round trip per insert."""

    def __init__(self, start: dict[str, int]) -> None:
        self._next = dict(start)

    def take(self, table: str) -> int:
        self._next[table] += 1
        return self._next[table]


def _year_of_leave(
    ids: _Ids, rng: random.Random, employee_id: int, year: int, created: datetime
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Buckets and ledger entries of one employee and year: grants, a carry-over that partly expires, ~10 takes."""
    jan1, march31 = date(year, 1, 1), date(year, 3, 31)
    buckets = {}
    for kind, expires in (("statutory", None), ("contractual", None), ("carryover", march31)):
        buckets[kind] = ids.take("leave_buckets")
        yield (
            "leave_buckets",
            {
                "id": buckets[kind],
                "employee_id": employee_id,
                "kind": kind,
                "leave_year": year,
                "valid_from": jan1,
                "expires_on": expires,
            },
        )

    def entry(kind: str, day: date, amount: Decimal, entry_type: str) -> tuple[str, dict[str, Any]]:
        return (
            "leave_ledger",
            {
                "id": ids.take("leave_ledger"),
                "bucket_id": buckets[kind],
                "employee_id": employee_id,
                "effective_date": day,
                "amount": amount,
                "entry_type": entry_type,
                "request_id": None,
                "created_by": "bench",
                "created_at": created,
                "reason": "",
            },
        )

    yield entry("statutory", jan1, Decimal(20), "grant")
    yield entry("contractual", jan1, Decimal(10), "grant")
    left = {"carryover": HALF * rng.randint(0, 16), "statutory": Decimal(20), "contractual": Decimal(10)}
    yield entry("carryover", jan1, left["carryover"], "carry_in")
    expired = False
    takes = rng.randint(8, 12)
    for k in range(takes):
        day = _weekday_on_or_after(jan1 + timedelta(days=k * (355 // takes) + rng.randint(0, 20)))
        if day > march31 and not expired:
            expired = True
            if left["carryover"] > 0:
                yield entry("carryover", march31, -left["carryover"], "expire")
                left["carryover"] = Decimal(0)
        amount = rng.choice(TAKE_SIZES)
        usable = ("carryover", "statutory", "contractual") if day <= march31 else ("statutory", "contractual")
        source = next((b for b in usable if left[b] >= amount), None)
        if source is None:
            continue
        left[source] -= amount
        yield entry(source, day, -amount, "take")
        if rng.random() < 0.05:  # a cancelled booking comes back as a reversing entry
            left[source] += amount
            yield entry(source, day, amount, "reverse")
    if not expired and left["carryover"] > 0:
        yield entry("carryover", march31, -left["carryover"], "expire")


def _pending_requests(
    ids: _Ids, rng: random.Random, employee_id: int, as_of: date, created: datetime
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Up to three pending requests after `as_of` in its year, in different months, so no day is booked twice."""
    months = list(range(as_of.month + 1, 13))
    for month in rng.sample(months, min(len(months), rng.randint(0, 3))):
        start = _weekday_on_or_after(date(as_of.year, month, rng.randint(1, 20)))
        days = [start + timedelta(days=n) for n in range(rng.randint(1, 4))]
        days = [d for d in days if d.weekday() < 5 and d.month == month]
        end_half = rng.random() < 0.2
        request_id = ids.take("leave_requests")
        yield (
            "leave_requests",
            {
                "id": request_id,
                "employee_id": employee_id,
                "start_date": days[0],
                "end_date": days[-1],
                "start_half": False,
                "end_half": end_half,
                "status": "pending",
                "note": "",
                "substitute": "",
                "created_at": created,
                "decided_by": "",
                "decided_at": None,
                "decision_comment": "",
            },
        )
        for n, day in enumerate(days):
            last = n == len(days) - 1
            yield (
                "leave_request_days",
                {
                    "id": ids.take("leave_request_days"),
                    "request_id": request_id,
                    "employee_id": employee_id,
                    "day": day,
                    "fraction": HALF if last and end_half else Decimal(1),
                    "active": True,
                },
            )


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        OrgUnitRow.__table__,
        EmployeeRow.__table__,
        LeaveBucketRow.__table__,
        LeaveRequestRow.__table__,
        LeaveLedgerRow.__table__,
        LeaveRequestDayRow.__table__,
    )
    if isinstance(t, Table)
}


async def _flush(connection: AsyncConnection, pending: dict[str, list[dict[str, Any]]], *, force: bool) -> None:
    if not force and all(len(batch) < CHUNK for batch in pending.values()):
        return
    # All tables, in foreign-key order: rows only ever point at rows written before them.
    for name, table in TABLES.items():
        if batch := pending[name]:
            await connection.execute(insert(table), batch)
            batch.clear()


async def build_world(
    engine: AsyncEngine, employees: int, *, as_of: date = AS_OF, years: int = 3, seed: int = 20260630
) -> Built:
    """Add `employees` employees with `years` leave years of ledger history up to the year of `as_of` and pending
    requests after `as_of`, with bulk inserts. Existing rows stay; new ids start after the highest ones."""
    rng = random.Random(seed)
    created = datetime(as_of.year - years, 12, 15, 8, 0, tzinfo=UTC)
    async with engine.begin() as connection:
        start = {name: (await connection.scalar(select(func.max(t.c.id)))) or 0 for name, t in TABLES.items()}
        ids = _Ids(start)
        pending: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
        units = [ids.take("org_units") for _ in range(max(1, min(100, employees // 100)))]
        pending["org_units"] = [{"id": u, "code": f"BENCH-{u}", "name": f"Bench unit {u:03d}"} for u in units]
        for n in range(employees):
            employee_id = ids.take("employees")
            number = f"BENCH{employee_id:07d}"
            pending["employees"].append(
                {
                    "id": employee_id,
                    "personnel_number": number,
                    "login": number.lower(),
                    "first_name": rng.choice(FIRST_NAMES),
                    "last_name": f"Tester{employee_id}",
                    "preferred_name": "",
                    "birth_date": None,
                    "work_email": f"{number.lower()}@example-ess.test",
                    "hire_date": date(2015 + n % 8, 1 + n % 12, 1),
                    "exit_date": None,
                    "country": "DE",
                    "subdivision": rng.choice(SUBDIVISIONS),
                    "work_pattern": "1|1|1|1|1|0|0",
                    "annual_leave_days": Decimal(30),
                    "manager_id": None,
                    # One in twenty belongs to no unit: the report must still list them.
                    "org_unit_id": None if n % 20 == 19 else rng.choice(units),
                    "cost_center": "",
                    "updated_at": created,
                }
            )
            for year in range(as_of.year - years + 1, as_of.year + 1):
                for name, values in _year_of_leave(ids, rng, employee_id, year, created):
                    pending[name].append(values)
            for name, values in _pending_requests(ids, rng, employee_id, as_of, created):
                pending[name].append(values)
            await _flush(connection, pending, force=False)
        await _flush(connection, pending, force=True)
        if connection.dialect.name == "postgresql":
            # Explicit ids leave the sequences behind: move them on so later inserts by the app do not collide.
            for name in TABLES:
                await connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")  # noqa: S608 - our table names
                )
        ledger_rows = await connection.scalar(select(func.count()).select_from(LeaveLedgerRow))
        requests = await connection.scalar(select(func.count()).select_from(LeaveRequestRow))
    if engine.dialect.name == "postgresql":
        # Autovacuum would analyse the fresh tables soon after a load like this; do it now, outside the transaction.
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("ANALYZE"))
    return Built(employees=employees, ledger_rows=ledger_rows or 0, requests=requests or 0)


async def _best_of(action: Callable[[], Awaitable[object]], repeat: int) -> float:
    await action()  # warm-up: connections, statement caches, the database's page cache
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        await action()
        timings.append(time.perf_counter() - started)
    return min(timings)


async def run(url: str, employees: int, as_of: date, repeat: int) -> None:
    engine = create_engine(url)
    try:
        started = time.perf_counter()
        built = await build_world(engine, employees, as_of=as_of)
        build_seconds = time.perf_counter() - started
        sessions = create_session_factory(engine)
        report = SqlLeaveReport(sessions)
        ledger = LeaveLedgerRow.__table__.c
        scan_statement = select(ledger.employee_id, ledger.amount, ledger.entry_type, ledger.effective_date)

        async def scan() -> Sequence[object]:
            async with sessions() as session:
                return (await session.execute(scan_statement)).all()

        rows = await report.rows(as_of)
        scanned = len(await scan())
        report_seconds = await _best_of(lambda: report.rows(as_of), repeat)
        scan_seconds = await _best_of(scan, repeat)
        deps = _deps(sessions, report)
        plain = ReportQuery(totals=False)
        page_seconds = await _best_of(lambda: balance_report_page(as_of, deps=deps, query=plain), repeat)
        totals_seconds = await _best_of(lambda: balance_report_page(as_of, deps=deps), repeat)
        by_figure = ReportQuery(sort="remaining", descending=True, totals=False)
        sorted_seconds = await _best_of(lambda: balance_report_page(as_of, deps=deps, query=by_figure), repeat)
        lapsing = ReportQuery(lapses_soon=True, region="DE", totals=False)
        filtered_seconds = await _best_of(lambda: balance_report_page(as_of, deps=deps, query=lapsing), repeat)

        async def export() -> str:
            return to_csv(await balance_report(as_of, deps=deps))

        async def stream() -> int:
            return sum([len(piece) async for piece in report_csv(as_of, deps=deps)])

        csv_seconds = await _best_of(export, repeat)
        stream_seconds = await _best_of(stream, repeat)
    finally:
        await engine.dispose()
    print(f"database:         {engine.dialect.name} ({engine.url.render_as_string(hide_password=True)})")
    print(f"build:            {build_seconds:.1f} s")
    print(f"ledger rows:      {built.ledger_rows} (scan fetched {scanned})")
    print(f"pending requests: {built.requests}")
    print(f"employees:        {built.employees} (report rows {len(rows)}, as of {as_of.isoformat()})")
    print(f"report time:      {report_seconds * 1000:.0f} ms (best of {repeat} after a warm-up)")
    print(f"scan time:        {scan_seconds * 1000:.0f} ms (best of {repeat} after a warm-up)")
    print(f"ratio:            {report_seconds / scan_seconds:.2f} (report / scan)")
    print(f"goal (< {GOAL_SECONDS:.0f} s):     {'met' if report_seconds < GOAL_SECONDS else 'NOT met'}")
    ratio = page_seconds / report_seconds
    print(
        f"first page ({PAGE_SIZE}): {page_seconds * 1000:.0f} ms (balance_report_page; {ratio:.2f} x the report query)"
    )
    print(f"  with the totals of every row: {totals_seconds * 1000:.0f} ms (what the HR page shows)")
    print(f"  sorted by remaining: {sorted_seconds * 1000:.0f} ms (sorted and cut by the database, from the year sums)")
    print(f"  lapses soon in DE:   {filtered_seconds * 1000:.0f} ms")
    print(f"CSV of every row: {csv_seconds * 1000:.0f} ms (balance_report + to_csv, in memory)")
    print(f"CSV streamed:     {stream_seconds * 1000:.0f} ms (report_csv: one read, sent 2,000 rows a piece)")


class _Clock:
    def now(self) -> datetime:
        return datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

    def today(self) -> date:
        return self.now().date()


class _NoNotices:
    async def notify(self, notice: Notice) -> None:
        pass

    async def notify_first(self, notice: Notice) -> None:
        pass


def _deps(sessions: async_sessionmaker[AsyncSession], report: SqlLeaveReport) -> VacationDeps:
    clock = _Clock()
    return VacationDeps(
        new_uow=lambda: SqlUnitOfWork(sessions, clock),
        clock=clock,
        calendar=HolidaysCalendar(),
        notifier=_NoNotices(),
        report=report,
        policy=VacationPolicy(),
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--database-url", help="an empty, migrated database (default: a fresh SQLite file)")
    parser.add_argument("--postgres", action="store_true", help="a fresh database in a throwaway PostgreSQL cluster")
    parser.add_argument("--as-of", type=date.fromisoformat, default=AS_OF)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if args.database_url:
        asyncio.run(run(args.database_url, args.employees, args.as_of, args.repeat))
        return
    if args.postgres:
        sys.path.insert(0, str(ROOT))  # the test harness starts the throwaway cluster
        from tests.harness.postgres import create_database, running_postgres  # noqa: PLC0415

        with running_postgres() as server:
            url = create_database(server, "bench_report")
            migrate(url)
            asyncio.run(run(url, args.employees, args.as_of, args.repeat))
        return
    with tempfile.TemporaryDirectory(prefix="ess-bench-") as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'ess.db'}"
        migrate(url)  # before the event loop: Alembic's env.py runs its own
        asyncio.run(run(url, args.employees, args.as_of, args.repeat))


if __name__ == "__main__":
    main()
