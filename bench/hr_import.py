"""Benchmark: the HR import of N rows against a raw `executemany` of the same rows, in the same run.

    .venv/bin/python bench/hr_import.py [--rows 1000 10000 100000] [--postgres] [--skip-reimport]

For each size: a fresh migrated database (SQLite in a temporary directory; with --postgres a throwaway PostgreSQL
cluster from tests/harness, which needs the postgresql package), then

- the import of N new employees (`import_employees`, every row parsed and checked, one transaction),
- the same file again (nothing changes: the unchanged re-import),
- the same file with every tenth work pattern changed (those employees' booked leave is recomputed),
- the floor: a raw `executemany` INSERT of the same N rows into the employees table of another fresh database.

It prints seconds, the ratio to the floor and the peak RSS of each import (the records are made as they are read,
as from a file being read); it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ess.adapters.regions import HolidaysRegions  # noqa: E402
from ess.adapters.sql.database import create_engine, create_session_factory  # noqa: E402
from ess.adapters.sql.tables import EmployeeRow  # noqa: E402
from ess.adapters.sql.unit_of_work import SqlUnitOfWork  # noqa: E402
from ess.domain.hr_import.format import SourceRecord  # noqa: E402
from ess.domain.hr_import.importing import ImportEmployees, import_employees  # noqa: E402
from ess.domain.hr_import.ports import HrImportDeps  # noqa: E402
from tests.conftest import migrate  # noqa: E402
from tests.fakes import FakeNotifier, FixedClock  # noqa: E402

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def records(count: int, *, changed_every: int = 0) -> Iterator[SourceRecord]:
    """`count` valid rows, made as they are read (as a file being read would hand them over): 50 managers, everyone
    else reporting to one of them; every `changed_every`-th row works four days instead of five."""
    for n in range(count):
        number = f"B{n:07d}"
        four_days = changed_every and n % changed_every == 0
        yield (
            SourceRecord(
                position=n + 2,
                values={
                    "personnel_number": number,
                    "login": f"user{n:07d}",
                    "first_name": "Erika",
                    "last_name": f"Muster{n}",
                    "work_email": f"user{n:07d}@example-ess.test",
                    "postal_code": "80802",
                    "city": "München",
                    "address_country": "DE",
                    "hire_date": "2020-01-01",
                    "country": "DE",
                    "subdivision": "BY",
                    "days_per_week": "4" if four_days else "5",
                    "annual_leave_days": "30",
                    "org_unit": f"OU{n % 40:02d}",
                    "org_unit_name": f"Unit {n % 40}",
                    "manager_personnel_number": "" if n < 50 else f"B{n % 50:07d}",
                    "roles": "",
                },
            )
        )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> None:
    """Let go of freed memory and restart the kernel's high-water mark, so the next phase's peak is its own."""
    gc.collect()
    with suppress(OSError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def phase_peak_mb() -> float:
    """The high-water mark of RSS since `reset_peak` (VmHWM), or the process's peak where /proc has none."""
    with suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return peak_rss_mb()


async def timed_import(url: str, rows: Iterable[SourceRecord]) -> float:
    engine = create_engine(url)
    clock = FixedClock(NOW)
    factory = create_session_factory(engine)
    deps = HrImportDeps(
        new_uow=lambda: SqlUnitOfWork(factory, clock), clock=clock, regions=HolidaysRegions(), notifier=FakeNotifier()
    )
    try:
        started = time.perf_counter()
        await import_employees(ImportEmployees(records=rows, source_name="bench.csv", actor="bench"), deps=deps)
        return time.perf_counter() - started
    finally:
        await engine.dispose()


async def raw_executemany(url: str, count: int) -> float:
    """The floor: the same number of employee rows in one raw executemany, one transaction."""
    engine = create_engine(url)
    values = [
        {
            "personnel_number": f"B{n:07d}",
            "login": f"user{n:07d}",
            "first_name": "Erika",
            "last_name": f"Muster{n}",
            "preferred_name": "",
            "work_email": f"user{n:07d}@example-ess.test",
            "private_email": "",
            "work_phone": "",
            "mobile_phone": "",
            "private_phone": "",
            "street": "",
            "postal_code": "80802",
            "city": "München",
            "address_country": "DE",
            "hire_date": date(2020, 1, 1),
            "country": "DE",
            "subdivision": "BY",
            "work_pattern": "Mon-Fri",
            "annual_leave_days": Decimal(30),
            "cost_center": "",
            "updated_at": NOW,
        }
        for n in range(count)
    ]
    try:
        started = time.perf_counter()
        async with engine.begin() as connection:
            await connection.execute(insert(EmployeeRow.__table__), values)
        return time.perf_counter() - started
    finally:
        await engine.dispose()


@contextmanager
def sqlite_databases(tmp: Path) -> Iterator[Callable[[str], str]]:
    def fresh(name: str) -> str:
        url = f"sqlite+aiosqlite:///{tmp}/{name}.db"
        migrate(url)
        return url

    yield fresh


@contextmanager
def postgres_databases() -> Iterator[Callable[[str], str]]:
    from tests.harness.postgres import create_database, running_postgres  # noqa: PLC0415

    with running_postgres() as server:

        def fresh(name: str) -> str:
            url = create_database(server, name)
            migrate(url)
            return url

        yield fresh


def main(sizes: list[int], *, postgres: bool, reimport: bool, as_list: bool = False) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        databases: AbstractContextManager[Callable[[str], str]] = (
            postgres_databases() if postgres else sqlite_databases(Path(tmp))
        )
        with databases as fresh:
            print(f"{'PostgreSQL' if postgres else 'SQLite'}: seconds (ratio to the raw executemany of the same rows)")
            heads = ("executemany", "import", "unchanged again", "10% changed")
            print(f"{'rows':>8} {heads[0]:>11} {heads[1]:>16} {heads[2]:>16} {heads[3]:>16} {'peak RSS MB':>11}")
            for size in sizes:
                url = fresh(f"import_{size}")
                floor_url = fresh(f"floor_{size}")

                # The imports first, each phase's peak RSS on its own (the floor's 100,000 dicts are not theirs).
                def source(changed_every: int = 0, size: int = size) -> Iterable[SourceRecord]:
                    made = records(size, changed_every=changed_every)
                    return list(made) if as_list else made

                reset_peak()
                first = asyncio.run(timed_import(url, source()))
                peaks = [phase_peak_mb()]
                again = changed = None
                if reimport:
                    reset_peak()
                    again = asyncio.run(timed_import(url, source()))
                    peaks.append(phase_peak_mb())
                    reset_peak()
                    changed = asyncio.run(timed_import(url, source(changed_every=10)))
                    peaks.append(phase_peak_mb())
                floor = asyncio.run(raw_executemany(floor_url, size))
                cells = [
                    f"{seconds:7.2f} ({seconds / floor:5.0f}x)" if seconds is not None else "-"
                    for seconds in (first, again, changed)
                ]
                peak = "/".join(f"{p:.0f}" for p in peaks)
                print(f"{size:>8} {floor:11.3f} {cells[0]:>16} {cells[1]:>16} {cells[2]:>16} {peak:>11}")
            print("peak RSS: of the process during each import phase (high-water mark reset before it), interpreter")
            print(f"and imports included; the whole run's peak, the floor's rows included: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--skip-reimport", action="store_true")
    parser.add_argument("--list", action="store_true", help="hand the import a list of every record (as the CLI does)")
    arguments = parser.parse_args()
    main(arguments.rows, postgres=arguments.postgres, reimport=not arguments.skip_reimport, as_list=arguments.list)
