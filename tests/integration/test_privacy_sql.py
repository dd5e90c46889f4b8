"""Data protection on SQLite and PostgreSQL: the audit hash chain (concurrent writers, an altered or removed event
found), everything held about one employee and nothing about anyone else, and retention that deletes exactly what
is due (a dry run deletes nothing)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from ess.adapters.hr_files import read_hr_file
from ess.bootstrap import Container, build_container
from ess.domain.audit import AuditEvent, Outcome
from ess.domain.auth.model import Principal
from ess.domain.auth.sessions import open_session
from ess.domain.auth.tokens import issue_api_token
from ess.domain.help_requests.requests import AskForHelp, ask_for_help
from ess.domain.hr.model import Role
from ess.domain.hr_import.importing import ImportEmployees, import_employees
from ess.domain.privacy.audit_trail import verify_chain
from ess.domain.privacy.export import export_my_data
from ess.domain.privacy.model import RetentionPolicy
from ess.domain.privacy.retention import run_retention
from ess.domain.profile.changing import ChangeProfile, change_profile
from ess.domain.vacation.requests import RequestLeave, request_leave
from tests.conftest import TEST_ENV, make_settings
from tests.e2e.conftest import DEMO_COMPANY
from tests.fakes import FixedClock

START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@dataclass
class World:
    container: Container
    clock: FixedClock
    dialect: str

    async def principal(self, login: str) -> Principal:
        async with self.container.new_uow() as uow:
            employee = await uow.employees.by_login(login)
            assert employee is not None
            return Principal(login, employee.display_name, frozenset({Role.EMPLOYEE}), employee.id)

    async def sql(self, statement: str, **params: Any) -> list[Any]:
        async with self.container.new_uow() as uow:
            session = getattr(uow, "session")  # noqa: B009 - the SQL unit of work's session, for raw statements
            result = await session.execute(text(statement), params)
            rows = list(result) if result.returns_rows else []
            await uow.commit()
            return rows

    async def tamper(self, statement: str, **params: Any) -> None:
        """What someone with write access to the database could do: switch the append-only triggers off."""
        if self.dialect == "postgresql":
            await self.sql("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        else:
            await self.sql("DROP TRIGGER audit_events_no_update")
            await self.sql("DROP TRIGGER audit_events_no_delete")
        await self.sql(statement, **params)

    async def count(self, table: str) -> int:
        [(count,)] = await self.sql(f"SELECT count(*) FROM {table}")  # noqa: S608 - table names of the test
        return int(count)


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    clock = FixedClock(START)
    container = build_container(make_settings(database_url), clock=clock)
    await import_employees(
        ImportEmployees(records=read_hr_file(DEMO_COMPANY), source_name="company.csv", actor="test"),
        deps=container.hr_import,
    )
    dialect = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    try:
        yield World(container, clock, dialect)
    finally:
        await container.close()


async def _add_events(world: World, actor: str, count: int) -> None:
    for number in range(count):
        async with world.container.new_uow() as uow:
            event = AuditEvent(world.clock.now(), actor, "test.event", Outcome.SUCCESS, details={"n": number})
            await uow.audit.add(event)
            await uow.commit()


async def test_concurrent_writers_keep_one_chain_and_an_altered_event_is_found(world: World) -> None:
    await asyncio.gather(*(_add_events(world, f"writer{w}", 10) for w in range(8)))
    report = await verify_chain(deps=world.container.privacy, page=7)  # pages smaller than the chain
    assert report.first_break is None
    assert report.checked == await world.count("audit_events") >= 80

    [(victim,)] = await world.sql("SELECT id FROM audit_events WHERE actor = 'writer3' ORDER BY id LIMIT 1")
    await world.tamper("UPDATE audit_events SET details = :d WHERE id = :id", d='{"n": 99}', id=victim)
    report = await verify_chain(deps=world.container.privacy)
    assert report.first_break is not None and report.first_break.id == victim
    assert "altered" in report.first_break.reason


async def test_a_removed_event_breaks_the_link_of_the_next(world: World) -> None:
    await _add_events(world, "someone", 5)
    ids = [row[0] for row in await world.sql("SELECT id FROM audit_events ORDER BY id")]
    await world.tamper("DELETE FROM audit_events WHERE id = :id", id=ids[-3])
    report = await verify_chain(deps=world.container.privacy)
    assert report.first_break is not None and report.first_break.id == ids[-2]
    assert "removed" in report.first_break.reason


async def test_the_triggers_still_refuse_changes_and_deletes(world: World) -> None:
    await _records_for(world, "anna.schmidt")
    with pytest.raises(Exception, match="append-only"):
        await world.sql("UPDATE audit_events SET actor = 'x'")
    with pytest.raises(Exception, match="append-only"):
        await world.sql("DELETE FROM audit_events")
    with pytest.raises(Exception, match="append-only"):
        await world.sql("DELETE FROM profile_history")


async def _records_for(world: World, login: str) -> None:
    who = await world.principal(login)
    await change_profile(
        ChangeProfile(principal=who, inputs={"mobile_phone": "0151 23456789"}), deps=world.container.profile
    )
    first, last = who.display_name.split(" ", 1)
    renamed = {"first_name": first, "last_name": f"{last}-Neu"}  # needs HR's approval: a change request
    await change_profile(ChangeProfile(principal=who, inputs=renamed), deps=world.container.profile)
    await request_leave(RequestLeave(who, date(2026, 12, 7), date(2026, 12, 8)), deps=world.container.vacation)
    await issue_api_token(who, deps=world.container.auth, client="127.0.0.1")
    await open_session(who, deps=world.container.auth)
    await ask_for_help(
        AskForHelp(who, "leave", "Resturlaub", "Stimmt mein Resturlaub?", {"page": "/vacation"}, "127.0.0.1"),
        deps=world.container.help_requests,
    )
    await world.sql(
        "INSERT INTO recovery_profiles (login, mobile, totp_secret, totp_pending, totp_last_step, mobile_code_hash) "
        "VALUES (:login, '+491701234567', 'sealed-seed', '', 0, '')",
        login=login,
    )


async def test_the_export_holds_every_kind_of_record_and_nothing_about_anyone_else(world: World) -> None:
    await _records_for(world, "anna.schmidt")
    await _records_for(world, "markus.weber")
    anna = await world.principal("anna.schmidt")

    data = await export_my_data(anna, deps=world.container.privacy)

    sections = {section.kind: section.records for section in data.sections}
    for kind in (
        "hr_record",
        "work_patterns",
        "profile_history",
        "change_requests",
        "leave_requests",
        "leave_ledger",
        "recovery_channels",
        "api_tokens",
        "audit_events",
        "sessions",
        "help_requests",
        "help_request_messages",
    ):
        assert sections[kind], f"no {kind} in the export"
    assert sections["hr_record"][0]["login"] == "anna.schmidt"
    [session] = sections["sessions"]  # markus's session is his
    assert set(session) == {"created_at", "last_seen_at", "roles"}
    [help_request] = sections["help_requests"]
    assert help_request["subject"] == "Resturlaub"
    [channel] = sections["recovery_channels"]
    assert channel["mobile"] == "••••••••••567" and channel["totp_secret"] == "[set up]"
    dump = json.dumps(data.as_json(), ensure_ascii=False)
    assert "markus" not in dump.lower() and "Weber" not in dump
    assert "sealed-seed" not in dump and "token_hash" not in dump
    async with world.container.new_uow() as uow:
        [latest] = await uow.audit.recent(1)
    assert (latest.action, latest.actor) == ("privacy.data_exported", "anna.schmidt")


async def test_retention_deletes_exactly_what_is_due_and_a_dry_run_nothing(world: World) -> None:
    await _records_for(world, "anna.schmidt")  # old: profile history, audit events, a token
    old_events = await world.count("audit_events")
    world.clock.advance(timedelta(days=1095 + 10))
    await _records_for(world, "markus.weber")  # recent
    before = {t: await world.count(t) for t in ("audit_events", "profile_history", "api_tokens")}

    dry = await run_retention(dry_run=True, deps=world.container.privacy)
    assert dry.counts["audit_events_days"] == old_events
    assert dry.counts["profile_history_days"] >= 1
    assert dry.counts["expired_links_days"] == 1  # anna's token expired long ago; markus's is fresh
    assert {t: await world.count(t) for t in before} == before  # nothing deleted

    done = await run_retention(deps=world.container.privacy)
    keys = ("audit_events_days", "profile_history_days", "expired_links_days", "mail_days")
    assert [done.counts[key] for key in keys] == [dry.counts[key] for key in keys]
    assert await world.count("audit_events") == before["audit_events"] - old_events + 1  # + the run's own event
    assert await world.count("api_tokens") == 1
    [(kept,)] = await world.sql("SELECT count(*) FROM profile_history WHERE changed_by = 'anna.schmidt'")
    assert kept == 0
    report = await verify_chain(deps=world.container.privacy)
    assert report.first_break is None  # what remains is still one chain
    async with world.container.new_uow() as uow:
        [latest] = await uow.audit.recent(1)
    assert latest.action == "privacy.retention" and latest.details["audit_events_days"] == old_events


async def test_leavers_go_with_their_employment_records_after_their_period(world: World) -> None:
    await _records_for(world, "anna.schmidt")
    await _records_for(world, "markus.weber")
    [(anna_id,)] = await world.sql("SELECT id FROM employees WHERE login = 'anna.schmidt'")
    tables = ("leave_ledger", "leave_requests", "profile_history", "profile_change_requests", "work_patterns")
    counts = {t: await world.count(t) for t in tables}
    anna_rows = {
        t: (await world.sql(f"SELECT count(*) FROM {t} WHERE employee_id = :id", id=anna_id))[0][0]  # noqa: S608
        for t in tables
    }
    assert all(anna_rows[t] for t in ("leave_ledger", "leave_requests", "profile_history"))
    await world.sql("UPDATE employees SET exit_date = '2024-12-31' WHERE id = :id", id=anna_id)
    await world.sql("UPDATE employees SET exit_date = '2026-06-30' WHERE login = 'markus.weber'")  # not yet due
    deps = replace(world.container.privacy, retention=RetentionPolicy.from_settings({"leavers_years": 1}))

    dry = await run_retention(dry_run=True, deps=deps)
    assert dry.counts["leavers_years"] == 1
    assert {t: await world.count(t) for t in tables} == counts

    done = await run_retention(deps=deps)
    assert done.counts == {"leavers_years": 1}
    assert await world.sql("SELECT id FROM employees WHERE id = :id", id=anna_id) == []
    assert {t: await world.count(t) for t in tables} == {t: counts[t] - anna_rows[t] for t in tables}
    assert await world.sql("SELECT id FROM employees WHERE login = 'markus.weber'") != []


async def test_deputy_entries_go_their_period_after_their_last_day(world: World) -> None:
    today = world.clock.now().date()
    [(markus,)] = await world.sql("SELECT id FROM employees WHERE login = 'markus.weber'")
    [(anna,)] = await world.sql("SELECT id FROM employees WHERE login = 'anna.schmidt'")
    periods = {  # first day, last day
        "ended long ago": (today - timedelta(days=420), today - timedelta(days=400)),
        "ended lately": (today - timedelta(days=40), today - timedelta(days=30)),
        "running": (today - timedelta(days=2), today + timedelta(days=5)),
    }
    for first, last in periods.values():
        await world.sql(
            "INSERT INTO leave_deputies (manager_id, deputy_id, first_day, last_day, created_at, created_by) "
            "VALUES (:m, :d, :f, :l, :c, 'markus.weber')",
            m=markus,
            d=anna,
            f=first,
            l=last,
            c=world.clock.now(),
        )
    deps = replace(world.container.privacy, retention=RetentionPolicy.from_settings({"deputies_days": 365}))

    dry = await run_retention(dry_run=True, deps=deps)
    assert dry.counts["deputies_days"] == 1
    assert await world.count("leave_deputies") == 3

    done = await run_retention(deps=deps)
    assert done.counts["deputies_days"] == 1
    left = await world.sql("SELECT last_day FROM leave_deputies ORDER BY last_day")
    assert [str(day) for (day,) in left] == [str(periods["ended lately"][1]), str(periods["running"][1])]


WRITER = """
import asyncio, sys
from datetime import UTC, datetime
from ess.bootstrap import build_container
from ess.domain.audit import AuditEvent, Outcome
from ess.settings import load_settings

async def main() -> None:
    container = build_container(load_settings(None))
    try:
        for number in range(15):
            async with container.new_uow() as uow:
                now = datetime.now(UTC)
                await uow.audit.add(AuditEvent(now, sys.argv[1], "test.event", Outcome.SUCCESS, details={"n": number}))
                await uow.commit()
    finally:
        await container.close()

asyncio.run(main())
"""


async def test_several_processes_append_to_one_chain(world: World, database_url: str, tmp_path: Path) -> None:
    environment = {**os.environ, **TEST_ENV, "ESS_DATABASE_URL": database_url, "ESS_MAIL__FOLDER": str(tmp_path)}
    writers = [
        await asyncio.create_subprocess_exec(sys.executable, "-c", WRITER, f"process{n}", env=environment)
        for n in range(3)
    ]
    assert [await writer.wait() for writer in writers] == [0, 0, 0]
    [(written,)] = await world.sql("SELECT count(*) FROM audit_events WHERE action = 'test.event'")
    assert written == 45
    report = await verify_chain(deps=world.container.privacy)
    assert report.first_break is None and report.checked == await world.count("audit_events")
