"""HR's yearly jobs: grant a year for everybody, warn of lapsing days, close a year (carry over), book lapses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ess.domain.hr.model import Employee
from ess.domain.shared import Link, Notice
from ess.domain.vacation.entitlement import ensure_grants, ledger_entry
from ess.domain.vacation.law_at import at_limitation_date
from ess.domain.vacation.law_ch import ch_limitation_date
from ess.domain.vacation.law_de import ExpiryWarning, de_expiry_date
from ess.domain.vacation.model import (
    ZERO,
    Bucket,
    BucketKind,
    EntryType,
    LedgerEntry,
    RequestStatus,
    VacationPage,
    bucket_remaining,
    compute_balance,
)
from ess.domain.vacation.ports import VacationDeps, VacationUnitOfWork
from ess.domain.vacation.requests import date_text, days_text


async def _everybody(deps: VacationDeps) -> list[Employee]:
    async with deps.new_uow() as uow:
        numbers = sorted(await uow.employees.all_personnel_numbers())
        return list((await uow.employees.by_personnel_numbers(numbers)).values())


async def grant_year(year: int, *, deps: VacationDeps, progress: Callable[[int, int], None] | None = None) -> int:
    """Book the year's entitlement for everybody employed in it (idempotent); returns how many were granted now."""
    employed = [
        e
        for e in await _everybody(deps)
        if e.hire_date <= date(year, 12, 31) and (e.exit_date is None or e.exit_date.year >= year)
    ]
    granted = 0
    for done, employee in enumerate(employed, start=1):
        assert employee.id is not None
        async with deps.new_uow() as uow:
            buckets = await uow.vacation.buckets(employee.id)
            had = any(b.leave_year == year and b.kind is not BucketKind.CARRYOVER for b in buckets)
            await ensure_grants(employee, year, uow.vacation, deps.clock)
            await uow.commit()
        granted += 0 if had else 1
        if progress is not None:
            progress(done, len(employed))
    return granted


def _carry_over_expiry(country: str, leave_year: int, warnings: list[ExpiryWarning]) -> date | None:
    """Until when days left over from `leave_year` can still be taken, by the law of the work location."""
    if country == "AT":
        return at_limitation_date(leave_year)
    if country == "CH":
        return ch_limitation_date(leave_year)
    # BUrlG §7(3) with the duty to warn: without a warning in time the days do not lapse (None).
    return de_expiry_date(leave_year, warnings=warnings, transfer=True)


@dataclass(frozen=True, slots=True)
class CloseYearResult:
    carried: int  # employees whose days moved on now
    waiting: list[str]  # personnel numbers skipped: requests of that year still wait for a decision


async def close_year(
    year: int, *, deps: VacationDeps, progress: Callable[[int, int], None] | None = None
) -> CloseYearResult:
    """Move what is left of `year` into `year`+1. Days carried over before keep their own deadline; the year's own
    days get the legal one (DE: 31 March only if warned in time, AT 2 years, CH 5 years). Negative balances move
    on as well. Idempotent; employees with undecided requests in `year` are skipped and named."""
    employees = await _everybody(deps)
    carried, waiting = 0, []
    for done, employee in enumerate(employees, start=1):
        assert employee.id is not None
        async with deps.new_uow() as uow:
            await uow.vacation.lock_employee(employee.id)
            undecided = [
                r
                for r in await uow.vacation.requests(employee.id)
                if r.status in (RequestStatus.PENDING, RequestStatus.CANCELLATION_REQUESTED)
                and any(d.day.year == year for d in r.days)
            ]
            if undecided:
                waiting.append(employee.personnel_number)
            elif await _carry_over(employee, year, uow, deps):
                carried += 1
            await uow.commit()
        if progress is not None:
            progress(done, len(employees))
    return CloseYearResult(carried=carried, waiting=waiting)


async def _carry_over(employee: Employee, year: int, uow: VacationUnitOfWork, deps: VacationDeps) -> bool:
    """Carry one employee's rest of `year` into the next, grouped by the deadline each part keeps."""
    assert employee.id is not None
    buckets = await uow.vacation.buckets(employee.id)
    entries = await uow.vacation.entries(employee.id)
    closed = {e.bucket_id for e in entries if e.entry_type is EntryType.CARRY_OUT}
    year_end = date(year, 12, 31)
    sources = [
        b
        for b in buckets
        if b.leave_year == year
        and b.id not in closed
        and bucket_remaining(b, entries) != 0
        and (b.expires_on is None or b.expires_on > year_end)  # lapsed days are the expiry job's business
    ]
    if not sources:
        return False
    legal = _carry_over_expiry(employee.location.country, year, await uow.vacation.warnings(employee.id, year))
    groups: dict[date | None, list[Bucket]] = {}
    for bucket in sources:
        keeps_deadline = bucket.kind is BucketKind.CARRYOVER and bucket.expires_on is not None
        groups.setdefault(bucket.expires_on if keeps_deadline else legal, []).append(bucket)
    moves: list[LedgerEntry] = []
    for expires_on, group in groups.items():
        moves += await _move_group(employee, year, group, expires_on, entries, uow, deps)
    await uow.vacation.add_entries(moves)
    return True


async def _move_group(  # noqa: PLR0917 - the group, and where it goes
    employee: Employee,
    year: int,
    group: list[Bucket],
    expires_on: date | None,
    entries: list[LedgerEntry],
    uow: VacationUnitOfWork,
    deps: VacationDeps,
) -> list[LedgerEntry]:
    """Empty the group's buckets into one new carry-over bucket of `year`+1 that lapses on `expires_on`."""
    assert employee.id is not None
    new_year = date(year + 1, 1, 1)
    target = await uow.vacation.add_bucket(Bucket(employee.id, BucketKind.CARRYOVER, year + 1, new_year, expires_on))
    assert target.id is not None
    moves = []
    for bucket in group:
        assert bucket.id is not None
        moves.append(
            ledger_entry(
                bucket.id,
                employee.id,
                new_year,
                -bucket_remaining(bucket, entries),
                EntryType.CARRY_OUT,
                author="close-year",
                clock=deps.clock,
                reason=f"carried into {year + 1}",
            )
        )
    total = sum((bucket_remaining(b, entries) for b in group), ZERO)
    until = f"may be taken until {expires_on.isoformat()}" if expires_on else "does not lapse"
    moves.append(
        ledger_entry(
            target.id,
            employee.id,
            new_year,
            total,
            EntryType.CARRY_IN,
            author="close-year",
            clock=deps.clock,
            reason=f"left over from {year}, {until}",
        )
    )
    return moves


async def expire_due(today: date, *, deps: VacationDeps) -> Decimal:
    """Book the lapse of carried-over days whose deadline has passed (idempotent). Returns the days that lapsed."""
    lapsed = ZERO
    for employee in await _everybody(deps):
        assert employee.id is not None
        async with deps.new_uow() as uow:
            await uow.vacation.lock_employee(employee.id)
            entries = await uow.vacation.entries(employee.id)
            expiring = [
                b
                for b in await uow.vacation.buckets(employee.id)
                if b.expires_on is not None and b.expires_on < today and bucket_remaining(b, entries) > 0
            ]
            booked = []
            for bucket in expiring:
                assert bucket.id is not None and bucket.expires_on is not None
                left = bucket_remaining(bucket, entries)
                lapsed += left
                booked.append(
                    ledger_entry(
                        bucket.id,
                        employee.id,
                        date.fromordinal(bucket.expires_on.toordinal() + 1),
                        -left,
                        EntryType.EXPIRE,
                        author="expire",
                        clock=deps.clock,
                        reason=f"not taken by {bucket.expires_on.isoformat()}",
                    )
                )
            await uow.vacation.add_entries(booked)
            await uow.commit()
    return lapsed


async def send_expiry_warnings(year: int, *, deps: VacationDeps) -> int:
    """The employer's duty to warn (EuGH C-684/16, BAG 9 AZR 541/15): tell everyone in DE with days of `year` left
    how many and until when, and record the warning as evidence. Returns the number of warnings sent."""
    deadline = date(year + 1, 3, 31)  # §7(3) BUrlG: carried-over leave must be taken by 31 March
    today = deps.clock.today()
    sent = 0
    for employee in await _everybody(deps):
        if employee.location.country != "DE" or employee.id is None or not employee.is_employed_on(today):
            continue
        async with deps.new_uow() as uow:
            buckets = await uow.vacation.buckets(employee.id)
            entries = await uow.vacation.entries(employee.id)
            requests = await uow.vacation.requests(employee.id)
            left = compute_balance(date(year, 12, 31), buckets=buckets, entries=entries, pending=requests).remaining
            if left <= 0:
                continue
            warning = ExpiryWarning(sent_on=today, days_stated=left, deadline_stated=deadline)
            await uow.vacation.add_warning(employee.id, year, warning, channel="email", recipient=employee.work_email)
            await uow.commit()
        params = {
            "employee": employee.display_name,
            "days": days_text(left),
            "year": str(year),
            "deadline": date_text(deadline),
        }
        await deps.notifier.notify(
            Notice("leave_expiry_warning", (employee.work_email,), params, Link(VacationPage.OWN))
        )
        sent += 1
    return sent
