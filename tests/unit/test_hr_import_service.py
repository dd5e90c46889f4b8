"""The import use case with a fake unit of work: one pass reports everything, nothing half-written."""

from __future__ import annotations

import pytest

from ess.adapters.regions import HolidaysRegions
from ess.domain.audit import Outcome
from ess.domain.hr_import.format import SourceRecord
from ess.domain.hr_import.importing import ImportEmployees, ImportRejected, ImportResult, import_employees
from ess.domain.hr_import.ports import HrImportDeps
from tests.factories import row
from tests.fakes import FakeNotifier, FakeUnitOfWork, FixedClock


async def run(uow: FakeUnitOfWork, records: list[SourceRecord]) -> ImportResult:
    return await import_employees(
        ImportEmployees(records=records, source_name="hr.csv", actor="cli:hr", requested_by="ticket 42"),
        deps=HrImportDeps(new_uow=lambda: uow, clock=FixedClock(), regions=HolidaysRegions(), notifier=FakeNotifier()),
    )


async def test_field_errors_and_cross_row_errors_come_in_one_report() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(ImportRejected) as caught:
        await run(
            uow,
            [
                row(position=2, personnel_number="P1", login="a", hire_date="2024-13-01"),
                row(position=3, personnel_number="P2", login="b", manager_personnel_number="P404"),
            ],
        )
    assert [(e.position, e.field) for e in caught.value.errors] == [
        (2, "hire_date"),
        (3, "manager_personnel_number"),
    ]
    assert uow.committed.employees == {}
    assert uow.committed.audit[-1].outcome is Outcome.FAILURE
    assert uow.committed.audit[-1].details == {"errors": 2, "requested_by": "ticket 42"}


async def test_a_loop_through_stored_reporting_lines_is_refused() -> None:
    uow = FakeUnitOfWork()
    await run(
        uow,
        [
            row(position=2, personnel_number="P1", login="a"),
            row(position=3, personnel_number="P2", login="b", manager_personnel_number="P1"),
        ],
    )
    with pytest.raises(ImportRejected) as caught:
        await run(uow, [row(position=2, personnel_number="P1", login="a", manager_personnel_number="P2")])
    assert caught.value.errors[0].reason == "the reporting line loops back to itself"
    assert uow.committed.employees["P1"].manager_personnel_number is None
