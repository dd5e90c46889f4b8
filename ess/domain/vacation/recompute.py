"""The entitlement follows the HR data: each booked year is kept equal to what the employment data gives, by
explained corrections in the ledger, and a closed year passes its correction on to the next year.

Nothing is ever edited: a year's grant is booked once, and every later change of the data that feeds it (entry and
exit date, work pattern, contractual days, birth date, work location) books the difference as a `recalc` entry
that names the old and the new figure and the cause. Leave already taken stays taken; a balance that ends up below
zero shows it (BUrlG §5(3): leave already granted is not reclaimed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ess.domain.hr.model import Employee
from ess.domain.shared import Clock
from ess.domain.types import EmployeeId
from ess.domain.vacation.carry import CarryGroup, carry_over_expiry, carry_plan, carry_target
from ess.domain.vacation.entitlement import ledger_entry, year_entitlement
from ess.domain.vacation.model import GRANT_TYPES, ZERO, Bucket, BucketKind, EntryType, LedgerEntry
from ess.domain.vacation.ports import VacationUnitOfWork

GRANT_KINDS = (BucketKind.STATUTORY, BucketKind.CONTRACTUAL)
FROM_HR_DATA = "recomputed from the HR data"


@dataclass(frozen=True, slots=True)
class Correction:
    """A booked year whose entitlement changed: the total before and after."""

    year: int
    before: Decimal
    after: Decimal


@dataclass(slots=True)
class Ledger:
    """One employee's buckets and entries, read under the employee's lock, and what bringing them up to date did."""

    buckets: list[Bucket]
    entries: list[LedgerEntry]
    closed: set[int]
    corrections: list[Correction] = field(default_factory=list)

    @property
    def booked_years(self) -> set[int]:
        return {b.leave_year for b in self.buckets if b.kind in GRANT_KINDS}


def granted(ledger_buckets: Iterable[Bucket], entries: Iterable[LedgerEntry], year: int, kind: BucketKind) -> Decimal:
    """What the ledger holds as the year's own grant of one kind (grant plus ESS's corrections, not HR's)."""
    ids = {b.id for b in ledger_buckets if b.leave_year == year and b.kind is kind}
    return sum((e.amount for e in entries if e.bucket_id in ids and e.entry_type in GRANT_TYPES), ZERO)


async def bring_up_to_date(
    employee: Employee,
    years: Iterable[int],
    uow: VacationUnitOfWork,
    clock: Clock,
    *,
    cause: str = FROM_HR_DATA,
    actor: str = "ess",
) -> Ledger:
    """Under the employee's lock: book `years` not booked yet, correct every booked year to the HR data, and carry
    the corrections of closed years on. Returns the ledger as it now stands."""
    assert employee.id is not None
    # Two first views of a balance at the same moment must not both grant the year.
    await uow.vacation.lock_employee(employee.id)
    ledger = Ledger(*await uow.vacation.ledger(employee.id))
    written = False
    for year in sorted(ledger.booked_years):
        written |= await _correct(employee, year, ledger, uow, clock, cause=cause, actor=actor)
        if year in ledger.closed:
            written |= await carry_on(employee, year, ledger, uow, clock, author=actor)
    if written:
        ledger.buckets = await uow.vacation.buckets(employee.id)
        ledger.entries = await uow.vacation.entries(employee.id)
    await book_years(employee, years, ledger, uow, clock)
    return ledger


async def book_years(
    employee: Employee, years: Iterable[int], ledger: Ledger, uow: VacationUnitOfWork, clock: Clock
) -> None:
    """Book the grants of those `years` the ledger does not hold yet (under the lock `bring_up_to_date` took)."""
    for year in sorted(set(years) - ledger.booked_years):
        await _grant(employee, year, ledger, uow, clock)


async def _grant(employee: Employee, year: int, ledger: Ledger, uow: VacationUnitOfWork, clock: Clock) -> None:
    """Book the year's statutory and contractual buckets with the entitlement the HR data gives today."""
    assert employee.id is not None
    entitlement = year_entitlement(employee, year)
    valid_from = date(year, 1, 1)
    partial = employee.hire_date.year == year or (employee.exit_date is not None and employee.exit_date.year == year)
    entry_type = EntryType.PRO_RATA_GRANT if partial else EntryType.GRANT
    for kind, amount in (
        (BucketKind.STATUTORY, entitlement.statutory),
        (BucketKind.CONTRACTUAL, entitlement.contractual_extra),
    ):
        bucket = await uow.vacation.add_bucket(Bucket(employee.id, kind, year, valid_from))
        assert bucket.id is not None
        reason = f"{kind.value} entitlement {year} ({employee.location.country})"
        entry = ledger_entry(
            bucket.id, employee.id, valid_from, amount, entry_type, author="ess", clock=clock, reason=reason
        )
        await uow.vacation.add_entries([entry])
        ledger.buckets.append(bucket)
        ledger.entries.append(entry)


async def _correct(
    employee: Employee, year: int, ledger: Ledger, uow: VacationUnitOfWork, clock: Clock, *, cause: str, actor: str
) -> bool:
    """Book the difference between the year's booked grant and what the HR data gives now, per kind."""
    assert employee.id is not None
    target = year_entitlement(employee, year)
    before = granted(ledger.buckets, ledger.entries, year, BucketKind.STATUTORY) + granted(
        ledger.buckets, ledger.entries, year, BucketKind.CONTRACTUAL
    )
    fixes: list[LedgerEntry] = []
    for kind, amount in ((BucketKind.STATUTORY, target.statutory), (BucketKind.CONTRACTUAL, target.contractual_extra)):
        bucket = next((b for b in ledger.buckets if b.leave_year == year and b.kind is kind), None)
        old = granted([bucket], ledger.entries, year, kind) if bucket else ZERO
        if amount == old:
            continue
        if bucket is None:
            bucket = await uow.vacation.add_bucket(Bucket(employee.id, kind, year, date(year, 1, 1)))
            ledger.buckets.append(bucket)
        assert bucket.id is not None
        reason = f"{kind.value} entitlement {year} recalculated: {_days(old)} -> {_days(amount)} ({cause})"
        fixes.append(
            ledger_entry(
                bucket.id,
                employee.id,
                date(year, 1, 1),
                amount - old,
                EntryType.RECALC,
                author=actor,
                clock=clock,
                reason=reason,
            )
        )
    if not fixes:
        return False
    await uow.vacation.add_entries(fixes)
    ledger.entries.extend(fixes)
    ledger.corrections.append(Correction(year, before, target.total))
    return True


async def carry_on(
    employee: Employee, year: int, ledger: Ledger, uow: VacationUnitOfWork, clock: Clock, *, author: str
) -> bool:
    """Move whatever is left in `year` into the next year, as close-year does (the first time: the whole rest;
    after a correction of a closed year: the correction). Returns whether anything moved."""
    assert employee.id is not None
    if not carry_plan(year, ledger.buckets, ledger.entries, None):
        return False
    legal = carry_over_expiry(employee.location.country, year, await uow.vacation.warnings(employee.id, year))
    for group in carry_plan(year, ledger.buckets, ledger.entries, legal):
        target = carry_target(ledger.buckets, year + 1, group.expires_on)
        if target is None:
            target = await uow.vacation.add_bucket(
                Bucket(employee.id, BucketKind.CARRYOVER, year + 1, date(year + 1, 1, 1), group.expires_on)
            )
            ledger.buckets.append(target)
        moves = carry_entries(employee.id, year, group, target, clock=clock, author=author)
        await uow.vacation.add_entries(moves)
        ledger.entries.extend(moves)
    return True


def carry_entries(
    employee_id: EmployeeId, year: int, group: CarryGroup, target: Bucket, *, clock: Clock, author: str
) -> list[LedgerEntry]:
    """The entries that empty a group's buckets into `target` on 1 January of the next year."""
    assert target.id is not None
    new_year = date(year + 1, 1, 1)
    moves = []
    for bucket, left in group.sources:
        assert bucket.id is not None
        moves.append(
            ledger_entry(
                bucket.id,
                employee_id,
                new_year,
                -left,
                EntryType.CARRY_OUT,
                author=author,
                clock=clock,
                reason=f"carried into {year + 1}",
            )
        )
    until = f"may be taken until {group.expires_on.isoformat()}" if group.expires_on else "does not lapse"
    moves.append(
        ledger_entry(
            target.id,
            employee_id,
            new_year,
            group.total,
            EntryType.CARRY_IN,
            author=author,
            clock=clock,
            reason=f"left over from {year}, {until}",
        )
    )
    return moves


def _days(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"
