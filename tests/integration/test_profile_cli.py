"""`ess profile apply-due` as the daily job runs it: a real process on a real SQLite file."""

from __future__ import annotations

import asyncio
import email
import email.policy
import getpass
import sqlite3
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ess.bootstrap import build_container
from ess.domain.auth.model import Principal
from ess.domain.hr.model import Role
from ess.domain.profile.changing import ChangeProfile, change_profile
from tests.conftest import make_settings
from tests.fakes import FixedClock
from tests.integration.test_cli import run

BERLIN = ZoneInfo("Europe/Berlin")


async def schedule_move(database_url: str, mail_folder: Path) -> None:
    """anna.schmidt, yesterday, announces her new address from today on."""
    today = datetime.now(BERLIN).date()
    yesterday = datetime.combine(today - timedelta(days=1), time(12, 0), tzinfo=BERLIN)
    container = build_container(
        make_settings(database_url, ESS_MAIL__FOLDER=str(mail_folder)), clock=FixedClock(yesterday)
    )
    try:
        async with container.new_uow() as uow:
            anna = await uow.employees.by_login("anna.schmidt")
        assert anna is not None
        principal = Principal("anna.schmidt", anna.display_name, frozenset({Role.EMPLOYEE}), anna.id)
        result = await change_profile(
            ChangeProfile(
                principal=principal,
                inputs={"street": "Leopoldstraße 12", "postal_code": "80802", "city": "München", "country": "DE"},
                effective_from=today,
            ),
            deps=container.profile,
        )
        assert len(result.requested) == 1
    finally:
        await container.close()


def mail_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "mail").glob("*.eml"))


def street_of_anna(tmp_path: Path) -> str:
    with sqlite3.connect(tmp_path / "ess.db") as connection:
        row = connection.execute("SELECT street FROM employees WHERE login = 'anna.schmidt'").fetchone()
    return str(row[0])


def test_apply_due_applies_a_change_on_its_day_once(tmp_path: Path) -> None:
    env = {"ESS_MAIL__FOLDER": str(tmp_path / "mail")}
    assert run(tmp_path, "db", "upgrade", **env).returncode == 0
    assert run(tmp_path, "demo", "seed", **env).returncode == 0
    asyncio.run(schedule_move(f"sqlite+aiosqlite:///{tmp_path / 'ess.db'}", tmp_path / "mail"))
    assert street_of_anna(tmp_path) == "Türkenstraße 57"

    first = run(tmp_path, "profile", "apply-due", **env)
    assert first.returncode == 0, first.stderr
    assert "Changes applied: 1" in first.stdout
    assert street_of_anna(tmp_path) == "Leopoldstraße 12"
    assert "Directory updates applied: 1" in first.stdout  # the embedded directory answers at once
    # The operator is audited as the operating-system account that ran the job, once prefixed.
    with sqlite3.connect(tmp_path / "ess.db") as connection:
        actors = {
            row[0] for row in connection.execute("SELECT actor FROM audit_events WHERE action = 'profile.change'")
        }
    assert actors == {f"cli:{getpass.getuser()}"}
    # The mail about the change links to the profile page, built by route name without a running app.
    mails = [email.message_from_bytes(m.read_bytes(), policy=email.policy.default) for m in mail_files(tmp_path)]
    changed = [m for m in mails if "geändert" in str(m["Subject"])]
    assert changed, [str(m["Subject"]) for m in mails]
    text = changed[-1].get_content()
    assert "Ihre persönlichen Daten: http://127.0.0.1:8000/profile" in text.splitlines()

    second = run(tmp_path, "profile", "apply-due", **env)
    assert "Changes applied: 0" in second.stdout
