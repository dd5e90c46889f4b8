"""Use case: the caller's leave balance on a date (past dates show history, future dates the projection), and how
much of a leave the buckets cannot pay for."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from ess.domain.auth.caller import own_employee
from ess.domain.auth.model import Principal
from ess.domain.vacation.entitlement import check_year, ensure_grants
from ess.domain.vacation.model import (
    ZERO,
    Balance,
    Bucket,
    BucketKind,
    LeaveDay,
    LedgerEntry,
    bucket_remaining,
    compute_balance,
)
from ess.domain.vacation.ports import VacationDeps

_KIND_ORDER = {BucketKind.CARRYOVER: 0, BucketKind.STATUTORY: 1, BucketKind.CONTRACTUAL: 2, BucketKind.SPECIAL: 3}


async def balance(principal: Principal, as_of: date, *, deps: VacationDeps) -> Balance:
    """The caller's balance on a date; past dates show history, future dates the projection."""
    async with deps.new_uow() as uow:
        employee = await own_employee(principal, uow.employees)
        assert employee.id is not None
        check_year(employee, as_of.year, deps.clock)
        buckets = await ensure_grants(employee, as_of.year, uow.vacation, deps.clock)
        await uow.commit()
        entries = await uow.vacation.entries(employee.id)
        requests = await uow.vacation.requests(employee.id)
    return compute_balance(as_of, buckets=buckets, entries=entries, pending=requests)


def shortfall(buckets: Sequence[Bucket], entries: Sequence[LedgerEntry], days: Sequence[LeaveDay]) -> Decimal:
    """How many of `days` no bucket could pay for, taking each day (in date order) from the buckets usable on it,
    soonest-expiring first: days carried over until 31 March cannot pay for July."""
    left = {b.id: bucket_remaining(b, entries) for b in buckets if b.id is not None}
    missing = ZERO
    for day in sorted(days, key=lambda d: d.day):
        need = day.fraction
        usable = sorted(
            (b for b in buckets if b.id is not None and b.leave_year == day.day.year and b.usable_on(day.day)),
            key=lambda b: (b.expires_on or date.max, _KIND_ORDER[b.kind]),
        )
        for bucket in usable:
            key = bucket.id
            assert key is not None
            take = min(need, max(left[key], ZERO))
            left[key] -= take
            need -= take
            if need == 0:
                break
        missing += need
    return missing
