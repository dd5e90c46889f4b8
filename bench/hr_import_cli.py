"""Peak RSS of `ess hr import FILE` as an operator runs it: a CSV of N rows written to disk, the command in its own
process on a fresh SQLite database. The baseline in the same run is the same command on a one-row file (the
interpreter, ESS's modules and the database set-up: what any import costs before its rows).

    .venv/bin/python bench/hr_import_cli.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.hr_import import records

ESS = [sys.executable, "-m", "ess.cli"]


def write_csv(path: Path, count: int) -> None:
    rows = records(count)
    first = next(rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(first.values))
        writer.writeheader()
        writer.writerow(first.values)
        for record in rows:
            writer.writerow(record.values)


def run_import(folder: Path, source: Path) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of `ess hr import` in a process of its own on a fresh database."""
    environment = {
        **os.environ,
        "ESS_DATABASE_URL": f"sqlite+aiosqlite:///{folder / f'{source.stem}.db'}",
        "ESS_SESSIONS__PATH": str(folder / "sessions"),
        "ESS_MAIL__FOLDER": str(folder / "mail"),
    }
    # Run from the temp folder: `python -m` would put the working directory's `ess` first on the path; which tree
    # is measured is the PYTHONPATH's (or the installed one's).
    subprocess.run([*ESS, "db", "upgrade"], env=environment, check=True, capture_output=True, cwd=folder)  # noqa: S603
    started = time.perf_counter()
    # Through a small wrapper process of its own: RUSAGE_CHILDREN is the largest of every child a process waited
    # for, so only a fresh wrapper with this one child tells this import's peak.
    command = [sys.executable, "-c", _PEAK_OF_CHILD, *ESS, "hr", "import", str(source)]
    done = subprocess.run(command, env=environment, check=True, capture_output=True, text=True, cwd=folder)  # noqa: S603
    seconds = time.perf_counter() - started
    return seconds, int(done.stdout.strip().splitlines()[-1]) / 1024


_PEAK_OF_CHILD = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ess-bench-cli-") as tmp:
        folder = Path(tmp)
        small, large = folder / "one.csv", folder / "many.csv"
        write_csv(small, 1)
        write_csv(large, args.rows)
        base_seconds, base_mb = run_import(folder, small)
        seconds, mb = run_import(folder, large)
    print(f"ess hr import, 1 row (baseline):     {base_seconds:7.1f} s  peak RSS {base_mb:6.0f} MB")
    print(f"ess hr import, {args.rows:,} rows:   {seconds:7.1f} s  peak RSS {mb:6.0f} MB")
    print(f"rows' share of the peak: {mb - base_mb:.0f} MB; peak / baseline {mb / base_mb:.1f}x")


if __name__ == "__main__":
    main()
