"""`ess outbox list` and `ess outbox retry` as an operator runs them: a real process on a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from ess.bootstrap import build_container
from ess.domain.outbox.queue import record_directory_change
from tests.conftest import make_settings
from tests.factories import employee
from tests.integration.test_cli import run


async def _prepare(url: str) -> dict[str, int]:
    """Three queued changes: one that fits, one whose directory value was changed by hand, one for a lost account."""
    container = build_container(make_settings(url))
    local = container.local_directory
    assert local is not None
    try:
        for login in ("anna", "ben"):
            await local.provision(login, password="Startpasswort 2026", email=f"{login}@example.test")
        await local.write_attributes("anna", {"city": "München"})
        await local.write_attributes("ben", {"city": "Berlin"})  # HR thinks Bonn: somebody changed the directory
        ids: dict[str, int] = {}
        async with container.new_uow() as uow:
            await uow.employees.save_all(
                [
                    employee(personnel_number=f"P{n}", login=login, work_email=f"{login}@example.test")
                    for n, login in enumerate(("anna", "ben", "gone"))
                ]
            )
            for login, old, new in (("anna", "München", "Köln"), ("ben", "Bonn", "Dresden"), ("gone", "", "Graz")):
                hired = await uow.employees.by_login(login)
                assert hired is not None
                assert hired.id is not None
                change = await record_directory_change(
                    uow,
                    employee_id=hired.id,
                    login=login,
                    old={"city": old},
                    new={"city": new},
                    now=container.clock.now(),
                    actor=login,
                )
                assert change is not None
                assert change.id is not None
                ids[login] = change.id
            await uow.commit()
        return ids
    finally:
        await container.close()


def city(tmp_path: Path, login: str) -> str:
    with sqlite3.connect(tmp_path / "ess.db") as connection:
        row = connection.execute(
            "SELECT json_extract(attributes, '$.city') FROM local_accounts WHERE login = ?", [login]
        )
        return str(row.fetchone()[0])


def test_list_and_retry(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    ids = asyncio.run(_prepare(f"sqlite+aiosqlite:///{tmp_path / 'ess.db'}"))

    listed = run(tmp_path, "outbox", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()[1:]
    assert [line.split("\t")[:4] for line in lines] == [
        [str(ids["gone"]), "pending", "gone", "city"],
        [str(ids["ben"]), "pending", "ben", "city"],
        [str(ids["anna"]), "pending", "anna", "city"],
    ]
    assert run(tmp_path, "outbox", "list", "--status", "applied").stdout.strip() == "No entries."

    # Delivering: anna's lands, ben's conflicts, gone's fails (no such account); the command says so and exits 1
    delivered = run(tmp_path, "outbox", "retry", "--all")
    assert delivered.returncode == 1
    assert "Applied now: 1, conflicts: 1, still waiting: 0, failed: 1." in delivered.stdout
    assert city(tmp_path, "anna") == "Köln"
    assert city(tmp_path, "ben") == "Berlin"
    conflicts = run(tmp_path, "outbox", "list", "--status", "conflict").stdout
    assert f"{ids['ben']}\tconflict\tben\tcity" in conflicts
    assert "directory holds city='Berlin'" in conflicts
    failed = run(tmp_path, "outbox", "list", "--status", "failed").stdout
    assert "The account does not exist in the directory." in failed
    assert run(tmp_path, "outbox", "list", "--status", "applied").stdout.splitlines()[1].startswith(f"{ids['anna']}\t")

    # A plain retry decides again: still a conflict, still untouched
    again = run(tmp_path, "outbox", "retry", str(ids["ben"]))
    assert (again.returncode, city(tmp_path, "ben")) == (1, "Berlin")
    # HR looked at it and overwrites
    forced = run(tmp_path, "outbox", "retry", str(ids["ben"]), "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "Applied now: 1" in forced.stdout
    assert city(tmp_path, "ben") == "Dresden"
    with sqlite3.connect(tmp_path / "ess.db") as connection:
        actors = connection.execute(
            "SELECT actor FROM audit_events WHERE action = 'directory_change_forced' AND target = 'ben'"
        ).fetchall()
    assert len(actors) == 1
    assert actors[0][0].startswith("cli:")

    already = run(tmp_path, "outbox", "retry", str(ids["anna"]))
    assert already.returncode == 1
    assert "already applied" in already.stderr
    assert run(tmp_path, "outbox", "retry", "999").returncode == 1
    assert run(tmp_path, "outbox", "retry").returncode == 2
    assert run(tmp_path, "outbox", "retry", "--all", "--force").returncode == 2
    # only the lost account's entry is still open
    open_lines = run(tmp_path, "outbox", "list").stdout.splitlines()[1:]
    assert [line.split("\t")[:2] for line in open_lines] == [[str(ids["gone"]), "failed"]]
