"""The `ess` command as a user runs it: a real process, a real SQLite file."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from ess.adapters.clock import SystemClock
from tests.conftest import TEST_ENV
from tests.factories import VALID_ROW

ESS = [sys.executable, "-m", "ess.cli"]


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        **TEST_ENV,
        "ESS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ess.db'}",
        "ESS_SESSIONS__PATH": str(tmp_path / "sessions"),
        "ESS_MAIL__FOLDER": str(tmp_path / "mail"),
        **env,
    }
    return subprocess.run([*ESS, *args], capture_output=True, text=True, env=environment, timeout=120, check=False)


def count(tmp_path: Path, table: str) -> int:
    with sqlite3.connect(tmp_path / "ess.db") as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608 - fixed names


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    header = list(VALID_ROW)
    lines = [",".join(header)] + [",".join(row.get(column, "") for column in header) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_an_import_with_one_bad_row_imports_nothing_and_names_the_row(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    rows = [
        {**VALID_ROW, "personnel_number": "P1", "login": "one"},
        {**VALID_ROW, "personnel_number": "P2", "login": "two", "postal_code": "8000"},
        {**VALID_ROW, "personnel_number": "P3", "login": "three"},
    ]
    result = run(tmp_path, "hr", "import", str(write_csv(tmp_path / "hr.csv", rows)))
    assert result.returncode == 1
    assert "nothing was imported" in result.stderr
    assert "line 3: field 'postal_code'" in result.stderr
    assert count(tmp_path, "employees") == 0


def test_an_unreadable_file_imports_nothing_and_is_audited(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    good = write_csv(tmp_path / "hr.csv", [{**VALID_ROW, "personnel_number": "P1", "login": "one"}]).read_bytes()
    broken = tmp_path / "broken.csv"
    broken.write_bytes(good + b"P2,\xff\xfe\n")  # the file is read as the import goes: the first row came first
    result = run(tmp_path, "hr", "import", str(broken))
    assert result.returncode == 1
    assert "broken.csv is not UTF-8 text" in " ".join(result.stderr.split())
    assert count(tmp_path, "employees") == 0
    with sqlite3.connect(tmp_path / "ess.db") as connection:
        rows = connection.execute(
            "SELECT outcome, target, details FROM audit_events WHERE action = 'hr.import'"
        ).fetchall()
    [(outcome, target, details)] = rows
    assert (outcome, target) == ("failure", "broken.csv")
    assert "not UTF-8" in json.loads(details)["error"]


def test_a_good_json_file_imports_and_a_rerun_changes_nothing(tmp_path: Path) -> None:
    run(tmp_path, "db", "upgrade")
    records = [
        {**VALID_ROW, "personnel_number": "P1", "login": "one", "roles": ["hr"]},
        {
            **VALID_ROW,
            "personnel_number": "P2",
            "login": "two",
            "manager_personnel_number": "P1",
            "days_per_week": "",
            "work_pattern": [1, 1, 1, 0.5, 0, 0, 0],
        },
    ]
    source = tmp_path / "hr.json"
    source.write_text(json.dumps({"employees": records}), encoding="utf-8")
    first = run(tmp_path, "hr", "import", str(source))
    assert first.returncode == 0, first.stderr
    assert "2 created, 0 updated, 0 unchanged" in first.stdout
    second = run(tmp_path, "hr", "import", str(source))
    assert "0 created, 0 updated, 2 unchanged" in second.stdout
    assert count(tmp_path, "employees") == 2
    assert count(tmp_path, "role_assignments") == 1


def test_a_broken_json_file_is_reported_with_its_line(tmp_path: Path) -> None:
    run(tmp_path, "db", "upgrade")
    source = tmp_path / "hr.json"
    source.write_text('[\n  {"personnel_number": "P1",\n  oops\n]', encoding="utf-8")
    result = run(tmp_path, "hr", "import", str(source))
    assert result.returncode == 1
    assert "line 3" in result.stderr


def test_demo_seed_creates_the_company_and_an_account_for_everyone(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    seeded = run(tmp_path, "demo", "seed")
    assert seeded.returncode == 0, seeded.stderr
    employees = count(tmp_path, "employees")
    assert employees >= 60
    assert count(tmp_path, "local_accounts") == employees
    # The demo is lived in: leave from this year, requests waiting, a bank change for HR, a locked account.
    requests = count(tmp_path, "leave_requests")
    assert requests >= 2
    assert count(tmp_path, "profile_change_requests") == 1
    again = run(tmp_path, "demo", "seed")
    assert again.returncode == 0
    assert count(tmp_path, "local_accounts") == employees
    assert count(tmp_path, "leave_requests") == requests  # once
    with sqlite3.connect(tmp_path / "ess.db") as db:
        statuses = dict(db.execute("SELECT status, count(*) FROM leave_requests GROUP BY status").fetchall())
        locked = db.execute("SELECT locked_until FROM local_accounts WHERE login = 'ivan.petrovic'").fetchone()[0]
        # Last year's leave, HR's warnings of its lapse (recorded in time for 31 March) and its close-year.
        (last_year,) = db.execute("SELECT min(leave_year) FROM leave_buckets").fetchone()
        warned = db.execute(
            "SELECT count(*) FROM expiry_warnings WHERE leave_year = ? AND deadline_stated = ?",
            (last_year, f"{last_year + 1}-03-31"),
        ).fetchone()[0]
        carried = db.execute(
            "SELECT count(*) FROM leave_buckets WHERE kind = 'carryover' AND leave_year = ? AND expires_on = ?",
            (last_year + 1, f"{last_year + 1}-03-31"),
        ).fetchone()[0]
    assert statuses["pending"] == 2
    assert locked is not None
    assert warned >= 30
    assert carried >= 30


def test_production_mode_refuses_to_start_with_a_placeholder_secret(tmp_path: Path) -> None:
    result = run(tmp_path, "serve", ESS_MODE="production", ESS_SECRET_KEY="change-me")
    assert result.returncode == 2
    assert "ESS refuses to start" in result.stderr
    assert "ESS_SECRET_KEY" in result.stderr
    assert "change-me" not in result.stderr


def test_demo_seed_is_refused_in_production(tmp_path: Path) -> None:
    result = run(
        tmp_path, "demo", "seed", ESS_MODE="production", ESS_SECRET_KEY="a-real-secret-that-is-long-enough-1234567890"
    )
    assert result.returncode == 2
    assert "production" in result.stderr


def test_the_import_shows_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    import pty  # noqa: PLC0415 - POSIX only, like the deployment target

    run(tmp_path, "db", "upgrade")
    source = write_csv(tmp_path / "hr.csv", [{**VALID_ROW, "personnel_number": "P1", "login": "one"}])
    leader, follower = pty.openpty()
    environment = {
        **os.environ,
        **TEST_ENV,
        "ESS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ess.db'}",
        # A terminal that can draw: with TERM=dumb (some CI shells) rich would not show a bar at all.
        "TERM": "xterm-256color",
    }
    process = subprocess.Popen(
        [*ESS, "hr", "import", str(source)], stderr=follower, stdout=subprocess.DEVNULL, env=environment
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closes when the process ends
            break
        if not chunk:
            break
        shown += chunk
    assert process.wait(timeout=60) == 0
    os.close(leader)
    assert b"Importing" in shown
    assert b"1/1" in shown


def test_close_year_refuses_a_year_that_has_not_ended_unless_forced(tmp_path: Path) -> None:
    run(tmp_path, "db", "upgrade")
    run(tmp_path, "hr", "import", str(write_csv(tmp_path / "hr.csv", [VALID_ROW])))
    year = str(SystemClock().today().year)
    early = run(tmp_path, "vacation", "close-year", year)
    assert early.returncode == 1
    assert f"31.12.{year}" in early.stderr
    assert "--force" in early.stderr
    assert count(tmp_path, "leave_year_closures") == 0
    forced = run(tmp_path, "vacation", "close-year", year, "--force")
    assert forced.returncode == 0, forced.stderr
    assert "closed for 1 employees" in forced.stdout
    assert count(tmp_path, "leave_year_closures") == 1
    with sqlite3.connect(tmp_path / "ess.db") as connection:
        (details,) = connection.execute(
            "SELECT details FROM audit_events WHERE action = 'leave.year_closed'"
        ).fetchone()
    assert json.loads(details)["forced"] is True


def test_an_import_that_changes_the_entitlement_says_so(tmp_path: Path) -> None:
    run(tmp_path, "db", "upgrade")
    run(tmp_path, "hr", "import", str(write_csv(tmp_path / "hr.csv", [VALID_ROW])))
    year = SystemClock().today().year
    assert run(tmp_path, "vacation", "grant", str(year)).returncode == 0
    header = [*VALID_ROW, "exit_date"]
    leaving = [*VALID_ROW.values(), f"{year}-03-31"]
    (tmp_path / "exit.csv").write_text(",".join(header) + "\n" + ",".join(leaving) + "\n", encoding="utf-8")
    result = run(tmp_path, "hr", "import", str(tmp_path / "exit.csv"))
    assert result.returncode == 0, result.stderr
    assert "Leave recalculated for 1 employees" in result.stdout
    with sqlite3.connect(tmp_path / "ess.db") as connection:
        reasons = [r for (r,) in connection.execute("SELECT reason FROM leave_ledger WHERE entry_type = 'recalc'")]
    assert reasons
    assert all(f"exit date {year}-03-31 (was none)" in reason for reason in reasons)


def test_analytics_purge_deletes_what_is_older_than_the_retention(tmp_path: Path) -> None:
    run(tmp_path, "db", "upgrade")
    with sqlite3.connect(tmp_path / "ess.db") as connection:
        for day in ("2020-01-02", SystemClock().today().isoformat()):
            connection.execute(
                "INSERT INTO analytics_events (flow, journey, step, error_code, detail, at, day) "
                "VALUES ('unlock', :journey, 'started', '', '', :at, :day)",
                {"journey": f"journey-of-{day}-xyz", "at": f"{day} 08:00:00.000000", "day": day},
            )
    purged = run(tmp_path, "analytics", "purge", ESS_RETENTION__ANALYTICS_EVENTS_DAYS="30")
    assert purged.returncode == 0, purged.stderr
    assert "Journey events deleted: 1." in purged.stdout
    assert count(tmp_path, "analytics_events") == 1
