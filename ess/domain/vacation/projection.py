"""The ledger on any date as the year-end jobs will have booked it: carry-over of years HR has not closed yet (as
close-year will book it) and lapses past their deadline (as the expiry job will book them), added in memory."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from ess.domain.hr.model import Employee
from ess.domain.shared import Clock
from ess.domain.vacation.carry import carry_over_expiry, carry_plan, carry_target, lapse_entry, lapse_plan
from ess.domain.vacation.law_de import ExpiryWarning
from ess.domain.vacation.model import PROJECTION, Bucket, BucketKind, LedgerEntry
from ess.domain.vacation.ports import VacationUnitOfWork
from ess.domain.vacation.recompute import Ledger, book_years, bring_up_to_date, carry_entries


@dataclass(frozen=True, slots=True)
class Projected:
    """Booked and projected buckets and entries together; projected entries have `created_by` PROJECTION."""

    buckets: list[Bucket]
    entries: list[LedgerEntry]


def open_years(ledger: Ledger, before: int) -> list[int]:
    """Booked years before `before` that close-year has not closed yet, oldest first."""
    return sorted(y for y in ledger.booked_years if y < before and y not in ledger.closed)


def years_to_book(employee: Employee, as_of: date, ledger: Ledger, today: date) -> range:
    """The years a balance on `as_of` needs booked: its own, and every year from the oldest open one (or this
    year, when `as_of` lies ahead) so that their rest can be carried on."""
    start = min([as_of.year, *open_years(ledger, as_of.year), *([today.year] if today.year < as_of.year else [])])
    return range(max(start, employee.hire_date.year), as_of.year + 1)


def project(
    as_of: date,
    employee: Employee,
    ledger: Ledger,
    warnings: Mapping[int, Sequence[ExpiryWarning]],
    *,
    clock: Clock,
) -> Projected:
    """Add what close-year and the expiry job will have booked by `as_of` to the booked ledger."""
    assert employee.id is not None
    buckets, entries = list(ledger.buckets), list(ledger.entries)
    for year in open_years(ledger, as_of.year):
        legal = carry_over_expiry(employee.location.country, year, warnings.get(year, ()))
        for group in carry_plan(year, buckets, entries, legal):
            target = carry_target(buckets, year + 1, group.expires_on)
            if target is None:
                # Never stored: a negative id cannot clash with a stored bucket.
                target = Bucket(
                    employee.id, BucketKind.CARRYOVER, year + 1, date(year + 1, 1, 1), group.expires_on, -len(buckets)
                )
                buckets.append(target)
            entries += carry_entries(employee.id, year, group, target, clock=clock, author=PROJECTION)
    entries += [
        lapse_entry(employee.id, m, clock=clock, author=PROJECTION) for m in lapse_plan(as_of, buckets, entries)
    ]
    return Projected(buckets, entries)


async def ledger_on(employee: Employee, as_of: date, uow: VacationUnitOfWork, clock: Clock) -> Projected:
    """In the caller's unit of work (which commits): bring the employee's ledger up to date with the HR data,
    book the years a balance on `as_of` needs, and project the year-end jobs up to `as_of`."""
    assert employee.id is not None
    ledger = await bring_up_to_date(employee, (), uow, clock)
    await book_years(employee, years_to_book(employee, as_of, ledger, clock.today()), ledger, uow, clock)
    warnings = {y: await uow.vacation.warnings(employee.id, y) for y in open_years(ledger, as_of.year)}
    return project(as_of, employee, ledger, warnings, clock=clock)
