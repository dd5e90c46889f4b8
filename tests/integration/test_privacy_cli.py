"""`ess audit verify` and `ess retention run` as an operator runs them: events from before the chain are chained by
the migration, an altered event is named, a dry run deletes nothing, the real run records itself for the console."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.integration.test_cli import count, run


def _old_events(tmp_path: Path) -> None:
    """Events written before migration 0016 (no hashes yet), three years and more ago."""
    with sqlite3.connect(tmp_path / "ess.db") as connection:
        for day in ("2020-01-01", "2020-01-02", "2020-01-03"):
            connection.execute(
                "INSERT INTO audit_events (occurred_at, actor, action, target, client_address, outcome, details) "
                "VALUES (?, 'cli:old', 'hr.import', '', '', 'success', '{\"created\": 1}')",
                (f"{day} 08:00:00.000000",),
            )


def test_verify_retention_and_the_chain_across_the_migration(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade", "0014").returncode == 0
    _old_events(tmp_path)
    assert run(tmp_path, "db", "upgrade").returncode == 0  # 0016 chains the three events in id order
    verified = run(tmp_path, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "Audit chain intact: 4 events" in verified.stdout  # and the help articles' seeding after them

    dry = run(tmp_path, "retention", "run", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "audit_events_days: 3 due" in dry.stdout and "Dry run: nothing deleted" in dry.stdout
    assert count(tmp_path, "audit_events") == 4

    done = run(tmp_path, "retention", "run")
    assert done.returncode == 0, done.stderr
    assert "audit_events_days: 3 deleted" in done.stdout
    assert count(tmp_path, "audit_events") == 2  # the seeding and the run's own event, chained after it
    with sqlite3.connect(tmp_path / "ess.db") as connection:
        job, outcome, summary = connection.execute("SELECT job, outcome, summary FROM job_runs").fetchone()
    assert (job, outcome) == ("retention run", "success") and "audit_events_days: 3" in summary
    assert run(tmp_path, "audit", "verify").returncode == 0


def test_verify_names_the_first_altered_event(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade", "0014").returncode == 0
    _old_events(tmp_path)
    assert run(tmp_path, "db", "upgrade").returncode == 0
    with sqlite3.connect(tmp_path / "ess.db") as connection:
        connection.execute("DROP TRIGGER audit_events_no_update")  # what someone with the database file could do
        connection.execute("UPDATE audit_events SET actor = 'cli:someone-else' WHERE id = 2")
    verified = run(tmp_path, "audit", "verify")
    assert verified.returncode == 1
    assert "Audit chain broken at event 2" in verified.stderr and "altered" in verified.stderr
