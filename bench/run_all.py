"""Every benchmark of issue 12 in one run, each figure beside its baseline measured in the same run, and the ratio.

    .venv/bin/python bench/run_all.py [--quick] [--postgres]      (or: make bench)

Runs, one after the other (never in parallel: they would measure each other):

- bench/request_overhead.py: CPU per request and req/s of the balance API and the /vacation page against a bare
  Litestar app, and the floors of the stack (the bare JSON route after one SQLAlchemy Core query on aiosqlite, and
  after one and three queries in a read-only transaction on ESS's own engine) against the bare route; RSS idle and
  after 10,000 requests; cold start;
- bench/in_process.py: CPU per request of the same two routes with the ASGI app called directly (no HTTP), against
  the bare JSON route called the same way;
- bench/cold_start.py: cold start of `ess serve` to its first /health/ready against the bare app started the same
  way and against the bare app after importing the fixed stack's libraries (the floor of a start on this stack),
  alternately for several rounds (seconds and CPU seconds);
- bench/hr_import.py: the HR import of 1,000 / 10,000 / 100,000 rows against a raw `executemany` (peak RSS);
- bench/hr_import_cli.py: `ess hr import` of a 100,000-row CSV in its own process against a one-row file (peak RSS);
  with --postgres also on a throwaway PostgreSQL;
- bench/vacation_report.py: the report of 10,000 employees against a plain scan of the ledger: first page,
  sorted and filtered pages, the CSV in memory and streamed.

--quick uses small sizes (a smoke run, not figures to quote). Each script prints its own table; this one prints
which script runs and how long it took. It asserts nothing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def runs(*, quick: bool, postgres: bool) -> list[list[str]]:
    rows = ["1000", "5000"] if quick else ["1000", "10000", "100000"]
    small = ["--requests", "100", "--seconds", "2", "--memory-requests", "2000"] if quick else []
    found = [
        ["request_overhead.py", *small],
        ["in_process.py", "--rounds", "2" if quick else "6", "--requests", "100" if quick else "400"],
        ["cold_start.py", "--rounds", "3" if quick else "7"],
        ["hr_import.py", "--rows", *rows],
        ["hr_import_cli.py", "--rows", rows[-1]],
        ["vacation_report.py", "--employees", "2000" if quick else "10000"],
    ]
    if postgres:
        found.insert(2, ["hr_import.py", "--postgres", "--rows", *rows])
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--postgres", action="store_true")
    arguments = parser.parse_args()
    failed = 0
    for script, *args in runs(quick=arguments.quick, postgres=arguments.postgres):
        print(f"\n=== bench/{script} {' '.join(args)}", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, str(BENCH / script), *args], check=False)  # noqa: S603 - our scripts
        print(f"=== {script}: {time.monotonic() - started:.0f} s, exit {result.returncode}", flush=True)
        failed |= result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
