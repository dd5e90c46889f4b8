"""HR's yearly jobs: grant a year for everybody, warn of lapsing days, close a year (carry over), book lapses.

Each job is idempotent (a second run books nothing twice), writes one audit event with its counts, and works for
everybody in the HR data, whether or not they ever opened ESS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.errors import PolicyViolation
from ess.domain.hr.model import Employee
from ess.domain.shared import Link, Notice
from ess.domain.vacation.carry import lapse_entry, lapse_plan
from ess.domain.vacation.law_de import ExpiryWarning
from ess.domain.vacation.model import ZERO, RequestStatus, VacationPage, compute_balance
from ess.domain.vacation.ports import VacationDeps, VacationUnitOfWork
from ess.domain.vacation.projection import ledger_on
from ess.domain.vacation.recompute import bring_up_to_date, carry_on
from ess.domain.vacation.requests import date_text, days_text

Progress = Callable[[int, int], None]


async def _everybody(deps: VacationDeps) -> list[Employee]:
    async with deps.new_uow() as uow:
        numbers = sorted(await uow.employees.all_personnel_numbers())
        return list((await uow.employees.by_personnel_numbers(numbers)).values())


def _employed_in(employee: Employee, year: int) -> bool:
    return employee.hire_date <= date(year, 12, 31) and (employee.exit_date is None or employee.exit_date.year >= year)


async def _audit(deps: VacationDeps, actor: str, action: str, **details: str | int | bool | None) -> None:
    async with deps.new_uow() as uow:
        await uow.audit.add(
            AuditEvent(
                occurred_at=deps.clock.now(),
                actor=actor,
                action=action,
                outcome=Outcome.SUCCESS,
                target="leave",
                details=details,
            )
        )
        await uow.commit()


async def grant_year(year: int, *, deps: VacationDeps, actor: str = "ess", progress: Progress | None = None) -> int:
    """Book the year's entitlement for everybody employed in it, and bring every booked year up to date with the
    HR data (idempotent); returns how many were granted now."""
    employed = [e for e in await _everybody(deps) if _employed_in(e, year)]
    granted = 0
    for done, employee in enumerate(employed, start=1):
        async with deps.new_uow() as uow:
            had = year in (await bring_up_to_date(employee, (), uow, deps.clock)).booked_years
            if not had:
                await bring_up_to_date(employee, [year], uow, deps.clock)
            await uow.commit()
        granted += 0 if had else 1
        if progress is not None:
            progress(done, len(employed))
    await _audit(deps, actor, "leave.year_granted", year=year, employees=len(employed), granted=granted)
    return granted


@dataclass(frozen=True, slots=True)
class CloseYearResult:
    carried: int  # employees whose days moved on now
    waiting: list[str]  # personnel numbers skipped: requests of that year still wait for a decision
    closed: int = 0  # employees whose year was closed now


class YearNotOver(PolicyViolation):
    code = "year_not_over"


async def close_year(
    year: int,
    *,
    deps: VacationDeps,
    actor: str = "ess",
    force: bool = False,
    progress: Progress | None = None,
) -> CloseYearResult:
    """Move what is left of `year` into `year`+1, for everybody employed in it: a year nobody opened is booked
    first, so nobody's carry-over depends on having logged in. Days carried over before keep their own deadline;
    the year's own days get the legal one (DE: 31 March only if warned in time, AT 2 years, CH 5 years). Negative
    balances move on as well. A year that has not ended is refused unless `force` (audited: its last days could
    then no longer be booked). Idempotent; employees with undecided requests in `year` are skipped and named."""
    today = deps.clock.today()
    if today <= date(year, 12, 31) and not force:
        raise YearNotOver(
            "The leave year %(year)s runs until 31.12.%(year)s; close it from 1.1.%(next)s on.",
            params={"year": year, "next": year + 1},
            fields={"year": "not over"},
        )
    employees = [e for e in await _everybody(deps) if _employed_in(e, year)]
    carried, closed, waiting = 0, 0, []
    for done, employee in enumerate(employees, start=1):
        async with deps.new_uow() as uow:
            outcome = await _close_one(employee, year, uow, deps, actor)
            await uow.commit()
        if outcome == "waiting":
            waiting.append(employee.personnel_number)
        carried += outcome == "carried"
        closed += outcome in {"carried", "closed"}
        if progress is not None:
            progress(done, len(employees))
    await _audit(
        deps,
        actor,
        "leave.year_closed",
        year=year,
        employees=len(employees),
        closed=closed,
        carried=carried,
        waiting=len(waiting),
        forced=force and today <= date(year, 12, 31),
    )
    return CloseYearResult(carried=carried, waiting=waiting, closed=closed)


async def _close_one(employee: Employee, year: int, uow: VacationUnitOfWork, deps: VacationDeps, actor: str) -> str:
    """Close the year for one employee: "carried", "closed" (nothing to move), "waiting" or "done" (before)."""
    assert employee.id is not None
    ledger = await bring_up_to_date(employee, [year], uow, deps.clock)
    if year in ledger.closed:
        return "done"
    undecided = [
        r
        for r in await uow.vacation.requests(employee.id)
        if r.status in (RequestStatus.PENDING, RequestStatus.CANCELLATION_REQUESTED)
        and any(d.day.year == year for d in r.days)
    ]
    if undecided:
        return "waiting"
    moved = await carry_on(employee, year, ledger, uow, deps.clock, author="close-year")
    await uow.vacation.mark_closed(employee.id, year, at=deps.clock.now(), by=actor)
    return "carried" if moved else "closed"


async def expire_due(today: date, *, deps: VacationDeps, actor: str = "ess") -> Decimal:
    """Book the lapse of days whose deadline has passed (idempotent), and give back a lapse that a later downward
    correction made too large. Returns the days that lapsed now (net)."""
    lapsed, employees = ZERO, 0
    for employee in await _everybody(deps):
        assert employee.id is not None
        async with deps.new_uow() as uow:
            ledger = await bring_up_to_date(employee, (), uow, deps.clock)
            booked = [
                lapse_entry(employee.id, move, clock=deps.clock, author="expire")
                for move in lapse_plan(today, ledger.buckets, ledger.entries)
            ]
            await uow.vacation.add_entries(booked)
            await uow.commit()
        lapsed -= sum((e.amount for e in booked), ZERO)
        employees += bool(booked)
    await _audit(deps, actor, "leave.expired", day=today.isoformat(), employees=employees, days=str(lapsed))
    return lapsed


async def send_expiry_warnings(year: int, *, deps: VacationDeps, actor: str = "ess") -> int:
    """The employer's duty to warn (EuGH C-684/16, BAG 9 AZR 541/15): tell everyone in DE with days of `year` left
    how many and until when, and record the warning as evidence. Everyone's year is booked first, so nobody goes
    unwarned for not having opened ESS. Run again, it warns only those whose days changed since their last warning.
    Returns the number of warnings sent."""
    deadline = date(year + 1, 3, 31)  # §7(3) BUrlG: carried-over leave must be taken by 31 March
    today = deps.clock.today()
    sent = 0
    for employee in await _everybody(deps):
        if employee.location.country != "DE" or employee.id is None or not employee.is_employed_on(today):
            continue
        if not _employed_in(employee, year):
            continue
        async with deps.new_uow() as uow:
            ledger = await ledger_on(employee, date(year, 12, 31), uow, deps.clock)
            await uow.commit()
            requests = await uow.vacation.requests(employee.id)
            figures = compute_balance(
                date(year, 12, 31), buckets=ledger.buckets, entries=ledger.entries, pending=requests
            )
            left = figures.remaining
            earlier = await uow.vacation.warnings(employee.id, year)
            if left <= 0 or any(w.deadline_stated == deadline and w.days_stated == left for w in earlier):
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
    await _audit(deps, actor, "leave.expiry_warnings_sent", year=year, sent=sent)
    return sent
