"""Use case: the caller's leave balance on a date (past dates show history, future dates the projection), and how
much of a leave the buckets cannot pay for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from ess.domain.auth.caller import own_employee
from ess.domain.auth.model import Principal
from ess.domain.hr.model import Employee
from ess.domain.shared import WriteNeeded
from ess.domain.vacation.entitlement import accrual_complete_on, accrued_on, check_year
from ess.domain.vacation.model import (
    ZERO,
    Balance,
    Bucket,
    BucketKind,
    Colleague,
    LeaveDay,
    LeaveRequest,
    LedgerEntry,
    bucket_remaining,
    compute_balance,
)
from ess.domain.vacation.ports import VacationDeps
from ess.domain.vacation.projection import ledger_on

_KIND_ORDER = {BucketKind.CARRYOVER: 0, BucketKind.STATUTORY: 1, BucketKind.CONTRACTUAL: 2, BucketKind.SPECIAL: 3}


async def balance(principal: Principal, as_of: date, *, deps: VacationDeps) -> Balance:
    """The caller's balance on a date, computed from the HR data as it is now: past dates show history, future
    dates the projection (what close-year and the expiry job will have booked by then, marked as projected)."""
    return (await balance_and_requests(principal, as_of, deps=deps)).balance


@dataclass(frozen=True, slots=True)
class OwnLeave:
    """The caller's record, balance and leave requests, read together (one load of the employee per request)."""

    employee: Employee
    balance: Balance
    requests: list[LeaveRequest]
    colleagues: list[Colleague] = field(default_factory=list)  # only when asked for (`with_colleagues`)


async def balance_and_requests(
    principal: Principal, as_of: date, *, deps: VacationDeps, with_colleagues: bool = False
) -> OwnLeave:
    """The balance on `as_of` (see `balance`) with the caller's requests, and (`with_colleagues`) the team colleagues
    a substitute is picked from, read in the same statement as the requests.

    Read first without the write lock, beside other requests; only when the ledger must be written (the year's
    first view, changed HR data) again as a writer, under the employee's lock."""
    try:
        return await _balance(principal, as_of, deps=deps, read_only=True, with_colleagues=with_colleagues)
    except WriteNeeded:
        return await _balance(principal, as_of, deps=deps, read_only=False, with_colleagues=with_colleagues)


async def _balance(
    principal: Principal, as_of: date, *, deps: VacationDeps, read_only: bool, with_colleagues: bool
) -> OwnLeave:
    new_uow = deps.new_uow()
    async with new_uow.read_only() if read_only else new_uow as uow:
        employee = await own_employee(principal, uow.employees)
        assert employee.id is not None
        check_year(employee, as_of.year, deps.clock)
        ledger = await ledger_on(employee, as_of, uow, deps.clock)
        colleagues: list[Colleague] = []
        if with_colleagues:
            today = deps.clock.today()
            requests, colleagues = await uow.vacation.requests_and_colleagues(employee.id, today)
        else:
            requests = await uow.vacation.requests(employee.id)
        await uow.commit()
    figures = compute_balance(as_of, buckets=ledger.buckets, entries=ledger.entries, pending=requests)
    accrued = accrued_on(employee, as_of)
    if accrued is not None:
        # UrlG §2(2): what has arisen so far; the rest of the year's share arises with each day served.
        figures = replace(figures, accrued=accrued, accrual_complete_on=accrual_complete_on(employee))
    return OwnLeave(employee, figures, requests, colleagues)


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
