"""Benchmark: directory write-back through the outbox to a throwaway slapd: queueing, delivering, and the due query.

    .venv/bin/python bench/outbox_delivery.py [--entries 500] [--backlog 20000]

Builds a fresh, migrated SQLite file and a private slapd (tests/harness, needs slapd installed), queues one change per
account and delivers them (outbox deliver_due); then times the due query on a table with a large applied backlog.
The script prints figures, it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ess.adapters.clock import SystemClock  # noqa: E402
from ess.adapters.ldap.connections import ConnectionSettings, DirectoryConnector  # noqa: E402
from ess.adapters.ldap.directory import LdapDirectory  # noqa: E402
from ess.adapters.sql.database import create_engine, create_session_factory  # noqa: E402
from ess.adapters.sql.tables import DirectoryOutboxRow, EmployeeRow  # noqa: E402
from ess.adapters.sql.unit_of_work import SqlUnitOfWork  # noqa: E402
from ess.domain.outbox.delivery import deliver_due  # noqa: E402
from ess.domain.outbox.model import RetryPolicy  # noqa: E402
from ess.domain.outbox.ports import OutboxDeps  # noqa: E402
from ess.domain.outbox.queue import record_directory_change  # noqa: E402
from ess.domain.types import EmployeeId  # noqa: E402
from tests.harness.slapd import running_slapd  # noqa: E402


def migrate(url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")


async def main(url: str, entries: int, backlog: int) -> None:
    engine = create_engine(url)
    factory = create_session_factory(engine)
    clock = SystemClock()
    async with engine.begin() as connection:
        await connection.execute(
            insert(EmployeeRow),
            [
                {
                    "personnel_number": f"P{n}",
                    "login": f"user{n}",
                    "first_name": "Bench",
                    "last_name": str(n),
                    "work_email": f"user{n}@example.test",
                    "hire_date": date(2020, 1, 1),
                    "country": "DE",
                    "subdivision": "BY",
                    "work_pattern": "1|1|1|1|1|0|0",
                    "annual_leave_days": Decimal(30),
                    "updated_at": datetime.now(UTC),
                }
                for n in range(entries)
            ],
        )
    with running_slapd() as server:
        endpoint = server.endpoint
        started = time.perf_counter()
        for n in range(entries):
            server.add_user(f"user{n}", "Startpasswort 2026", given_name="Bench", surname=str(n), mail="")
        print(f"{entries} slapd accounts created in {time.perf_counter() - started:.1f} s")
        directory = LdapDirectory(
            DirectoryConnector(
                ConnectionSettings(
                    uris=endpoint.uris,
                    start_tls=True,
                    ca_file=str(endpoint.ca_file),
                    verify_tls=True,
                    connect_timeout=2,
                    operation_timeout=5,
                    bind_dn=endpoint.bind_dn,
                    bind_password=endpoint.bind_password,
                    pool_size=2,
                )
            ),
            flavour="openldap",
            user_base_dn=endpoint.user_base_dn,
            user_filter=endpoint.user_filter,
            login_attribute="uid",
            email_attribute="mail",
            group_base_dn=endpoint.group_base_dn,
            attributes={"mobile_phone": "mobile", "city": "l"},
        )

        def uow() -> SqlUnitOfWork:
            return SqlUnitOfWork(factory, clock)

        started = time.perf_counter()
        for n in range(entries):
            async with uow() as unit:
                await record_directory_change(
                    unit,
                    employee_id=EmployeeId(n + 1),
                    login=f"user{n}",
                    old={"mobile_phone": "", "city": ""},
                    new={"mobile_phone": f"+49170{n:07d}", "city": "Köln"},
                    now=clock.now(),
                    actor=f"user{n}",
                )
                await unit.commit()
        queued = time.perf_counter() - started
        print(f"queue (one transaction each):  {entries} entries in {queued:.2f} s = {queued / entries * 1000:.2f} ms")
        deps = OutboxDeps(
            new_uow=uow, directory=directory, clock=clock, policy=RetryPolicy(batch_size=100), wake=asyncio.Event()
        )
        started = time.perf_counter()
        applied = 0
        while report := await deliver_due(deps=deps):
            if not report.handled:
                break
            applied += len(report.applied)
        spent = time.perf_counter() - started
        print(f"deliver (read + write, slapd): {applied} applied in {spent:.2f} s = {applied / spent:.0f} entries/s")
        directory.close()

    now = datetime.now(UTC)
    async with engine.begin() as connection:
        await connection.execute(
            insert(DirectoryOutboxRow),
            [
                {
                    "employee_id": 1 + n % entries,
                    "login": f"user{n % entries}",
                    "values": {"city": "Köln"},
                    "expected": {"city": ""},
                    "status": "applied",
                    "created_at": now,
                    "attempts": 1,
                    "last_error": "",
                    "conflicts": {},
                    "forced_by": "",
                    "applied_at": now,
                }
                for n in range(backlog)
            ],
        )
    rounds = 200
    started = time.perf_counter()
    for _ in range(rounds):
        async with uow() as unit:
            await unit.outbox.due(clock.now(), 100)
    spent = (time.perf_counter() - started) / rounds
    print(f"due query with {backlog} applied entries in the table: {spent * 1000:.2f} ms per poll")
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=500)
    parser.add_argument("--backlog", type=int, default=20_000)
    arguments = parser.parse_args()
    database_url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='ess-bench-')) / 'ess.db'}"
    migrate(database_url)  # Alembic runs its own event loop
    asyncio.run(main(database_url, arguments.entries, arguments.backlog))
