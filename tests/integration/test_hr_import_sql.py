"""The HR import against real databases: all or nothing, idempotent, managers and roles linked."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from ess.adapters.hr_files import read_hr_file
from ess.adapters.regions import HolidaysRegions
from ess.adapters.sql.database import create_engine, create_session_factory
from ess.adapters.sql.tables import AuditEventRow, EmployeeRow, RoleAssignmentRow, WorkPatternRow
from ess.adapters.sql.unit_of_work import SqlUnitOfWork
from ess.domain.hr.model import Role
from ess.domain.hr_import.format import SourceRecord
from ess.domain.hr_import.importing import ImportEmployees, ImportRejected, ImportResult, import_employees, same_record
from ess.domain.hr_import.ports import HrImportDeps
from tests.factories import row
from tests.fakes import FakeNotifier, FixedClock

DEMO = Path(__file__).resolve().parents[2] / "ess" / "demo" / "company.csv"


class Db:
    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.clock = FixedClock()
        self.factory = create_session_factory(self.engine)

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.factory, self.clock)

    async def run_import(self, records: Iterable[SourceRecord], name: str = "hr.csv") -> ImportResult:
        return await import_employees(
            ImportEmployees(records=records, source_name=name, actor="tester"),
            deps=HrImportDeps(new_uow=self.uow, clock=self.clock, regions=HolidaysRegions(), notifier=FakeNotifier()),
        )

    async def scalar(self, stmt):  # type: ignore[no-untyped-def]
        async with self.factory() as session:
            return await session.scalar(stmt)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Db]:
    database = Db(database_url)
    yield database
    await database.engine.dispose()


async def test_the_demo_company_imports_and_a_second_run_changes_nothing(db: Db) -> None:
    records = read_hr_file(DEMO)
    progress: list[int] = []
    first = await import_employees(
        ImportEmployees(records=records, source_name="company.csv", actor="tester"),
        deps=HrImportDeps(new_uow=db.uow, clock=db.clock, regions=HolidaysRegions(), notifier=FakeNotifier()),
        progress=progress.append,
    )
    assert first.created == len(records) >= 60
    assert progress[-1] == len(records)
    second = await db.run_import(records)
    assert (second.created, second.updated, second.unchanged) == (0, 0, len(records))

    async with db.uow() as uow:
        anna = await uow.employees.by_login("anna.schmidt")
        assert anna is not None
        assert anna.location.subdivision == "BY"
        markus = await uow.employees.by_login("markus.weber")
        assert markus is not None
        assert anna.manager_personnel_number == markus.personnel_number
        assert markus.id is not None
        assert await uow.employees.has_reports(markus.id)
        hanna = await uow.employees.by_login("hanna.berger")
        assert hanna is not None
        assert Role.HR in hanna.roles
        events = await uow.audit.recent(actor="tester")
    assert [e.details.get("created") for e in events] == [0, len(records)]


async def test_one_bad_row_imports_nothing_and_is_named(db: Db) -> None:
    good = [
        row(position=2, personnel_number="P1", login="a.one"),
        row(position=3, personnel_number="P2", login="b.two"),
    ]
    bad = row(position=4, personnel_number="P3", login="c.three", hire_date="2024-02-30")
    with pytest.raises(ImportRejected) as caught:
        await db.run_import([*good, bad])
    assert [(e.position, e.field) for e in caught.value.errors] == [(4, "hire_date")]
    assert await db.scalar(select(func.count()).select_from(EmployeeRow)) == 0
    failures = await db.scalar(
        select(func.count()).select_from(AuditEventRow).where(AuditEventRow.outcome == "failure")
    )
    assert failures == 1


async def test_an_unknown_manager_rejects_the_file(db: Db) -> None:
    with pytest.raises(ImportRejected) as caught:
        await db.run_import([row(position=2, manager_personnel_number="P404")])
    assert caught.value.errors[0].field == "manager_personnel_number"
    assert await db.scalar(select(func.count()).select_from(EmployeeRow)) == 0


async def test_updates_are_applied_and_counted(db: Db) -> None:
    await db.run_import(
        [row(personnel_number="P1", login="a.one", roles="hr"), row(position=3, personnel_number="P2", login="b.two")]
    )
    result = await db.run_import(
        [
            row(personnel_number="P1", login="a.one", city="Augsburg", postal_code="86150", roles="helpdesk"),
            row(position=3, personnel_number="P2", login="b.two", manager_personnel_number="P1"),
        ]
    )
    assert (result.created, result.updated, result.unchanged) == (0, 2, 0)
    async with db.uow() as uow:
        one = await uow.employees.by_login("a.one")
        two = await uow.employees.by_login("b.two")
    assert one is not None
    assert two is not None
    assert one.address.city == "Augsburg"
    assert one.roles == frozenset({Role.HELPDESK})
    assert two.manager_personnel_number == "P1"


async def test_logins_can_be_swapped_within_one_file_but_not_taken_from_others(db: Db) -> None:
    await db.run_import(
        [
            row(personnel_number="P1", login="a.one"),
            row(position=3, personnel_number="P2", login="b.two"),
            row(position=4, personnel_number="P3", login="c.three"),
        ]
    )
    await db.run_import(
        [row(personnel_number="P1", login="b.two"), row(position=3, personnel_number="P2", login="a.one")]
    )
    async with db.uow() as uow:
        swapped = await uow.employees.by_login("a.one")
    assert swapped is not None
    assert swapped.personnel_number == "P2"
    with pytest.raises(ImportRejected) as caught:
        await db.run_import([row(personnel_number="P1", login="c.three")])
    assert "already belongs to personnel number P3" in caught.value.errors[0].reason


async def test_the_repository_round_trips_every_field(db: Db) -> None:
    records = read_hr_file(DEMO)
    await db.run_import(records)
    from ess.domain.hr_import.format import parse_records  # noqa: PLC0415

    parsed, errors = parse_records(records, is_known_region=HolidaysRegions().is_known)
    assert errors == []
    async with db.uow() as uow:
        stored = await uow.employees.by_personnel_numbers([e.personnel_number for e in parsed])
    for employee in parsed:
        assert same_record(stored[employee.personnel_number], employee)
        assert stored[employee.personnel_number].pattern_history == ((employee.hire_date, employee.work_pattern),)


async def test_a_changed_pattern_starts_a_new_period(db: Db) -> None:
    await db.run_import([row(personnel_number="P1", login="a.one", hire_date="2020-01-01", days_per_week="5")])
    result = await db.run_import(
        [
            row(
                personnel_number="P1",
                login="a.one",
                hire_date="2020-01-01",
                days_per_week="3",
                work_pattern_valid_from="2026-07-01",
            )
        ]
    )
    assert result.updated == 1
    async with db.uow() as uow:
        employee = await uow.employees.by_login("a.one")
    assert employee is not None
    assert [(since, str(p)) for since, p in employee.pattern_history] == [
        (date(2020, 1, 1), "1|1|1|1|1|0|0"),
        (date(2026, 7, 1), "1|1|1|0|0|0|0"),
    ]
    again = await db.run_import(
        [
            row(
                personnel_number="P1",
                login="a.one",
                hire_date="2020-01-01",
                days_per_week="3",
                work_pattern_valid_from="2026-07-01",
            )
        ]
    )
    assert again.unchanged == 1
    with pytest.raises(ImportRejected, match="error"):
        await db.run_import(
            [row(personnel_number="P1", login="a.one", days_per_week="4", work_pattern_valid_from="2026-07-15")]
        )


async def test_a_pattern_change_without_a_date_starts_on_the_first_of_this_month(db: Db) -> None:
    await db.run_import([row(personnel_number="P1", login="a.one", hire_date="2020-01-01", days_per_week="5")])
    await db.run_import([row(personnel_number="P1", login="a.one", hire_date="2020-01-01", days_per_week="4")])
    async with db.uow() as uow:
        employee = await uow.employees.by_login("a.one")
    assert employee is not None
    assert [since for since, _ in employee.pattern_history] == [date(2020, 1, 1), date(2026, 11, 1)]  # clock: 22.11.


def _many(count: int, *, four_days_every: int = 0) -> list[SourceRecord]:
    """`count` rows: 20 managers with the HR role, everyone else reporting to one of them."""
    return [
        row(
            n + 2,
            personnel_number=f"M{n:06d}",
            login=f"many{n:06d}",
            work_email=f"many{n:06d}@example-ess.test",
            private_email="",
            mobile_phone="",
            manager_personnel_number="" if n < 20 else f"M{n % 20:06d}",
            roles="hr" if n < 20 else "",
            days_per_week="4" if four_days_every and n % four_days_every == 0 else "5",
        )
        for n in range(count)
    ]


async def test_more_employees_than_one_statement_may_name_import_and_reimport(db: Db) -> None:
    # PostgreSQL takes at most 32,767 parameters per statement: every list of ids must be cut into chunks. Proven
    # by the width of every statement across several chunks (an uncut list would name all 2,100 employees), not by
    # importing 33,000 people (minutes of the suite for the same proof).
    widths: list[int] = []

    def width(_conn, _cursor, _statement, parameters, _context, executemany):  # type: ignore[no-untyped-def]
        widths.append(0 if executemany or not parameters else len(parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", width)
    count = 2_100
    first = await db.run_import(_many(count))
    assert (first.created, first.updated, first.unchanged) == (count, 0, 0)
    assert await db.scalar(select(func.count()).select_from(EmployeeRow)) == count
    assert await db.scalar(select(func.count()).select_from(WorkPatternRow)) == count
    assert await db.scalar(select(func.count()).select_from(RoleAssignmentRow)) == 20
    assert await db.scalar(select(func.count()).where(EmployeeRow.manager_id.is_not(None))) == count - 20

    changed = await db.run_import(_many(count, four_days_every=1000))
    assert (changed.created, changed.updated, changed.unchanged) == (0, 3, count - 3)
    event.remove(db.engine.sync_engine, "before_cursor_execute", width)
    # Lists are cut at 500 names (plus a few other parameters), in the import and in the re-import.
    assert 100 < max(widths) <= 510
    # A changed pattern starts a new period; the old one stays as history.
    assert await db.scalar(select(func.count()).select_from(WorkPatternRow)) == count + 3
    async with db.uow() as uow:
        moved = await uow.employees.by_personnel_numbers(["M002000", "M002001"])
    assert str(moved["M002000"].work_pattern) != str(moved["M002001"].work_pattern)
    assert len(moved["M002000"].pattern_history) == 2
    assert moved["M002001"].manager_personnel_number == "M000001"


async def test_the_import_reads_the_file_once_and_works_a_chunk_at_a_time(db: Db) -> None:
    # The records are consumed once (a file being read will do), and the statements grow with the chunks, not the
    # rows: 2,100 rows are a handful of statements per 500, every IN list within 500 names.
    executed: list[tuple[str, int]] = []

    def count(_conn, _cursor, statement, parameters, _context, executemany):  # type: ignore[no-untyped-def]
        width = 0 if executemany or not parameters else len(parameters)
        executed.append((statement.split(None, 1)[0].upper(), width))

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    passes = 0

    def file(count: int) -> Iterator[SourceRecord]:
        nonlocal passes
        passes += 1
        yield from _many(count)

    first = await db.run_import(file(2100))
    assert passes == 1 and (first.created, first.updated, first.unchanged) == (2100, 0, 0)
    writes = sum(1 for verb, _width in executed if verb in {"INSERT", "UPDATE", "DELETE"})
    assert len(executed) <= 60 and writes <= 25, executed
    assert max(width for _verb, width in executed) <= 510  # 500 names and a few other parameters
    executed.clear()
    again = await db.run_import(file(2100))
    assert passes == 2 and (again.created, again.updated, again.unchanged) == (0, 0, 2100)
    # Unchanged: reads by chunk and the audit record; no employee, pattern or role written.
    assert [verb for verb, _width in executed if verb in {"INSERT", "UPDATE", "DELETE"}] == ["INSERT"], executed
    event.remove(db.engine.sync_engine, "before_cursor_execute", count)
