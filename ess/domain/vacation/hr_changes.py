"""What a change of the HR data does to leave: every booked year recomputed with the cause named, and the leave
that the change made overdrawn or impossible reported to HR and the employee (never cancelled silently)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ess.domain.hr.model import Employee
from ess.domain.shared import Clock, Link, Notice, Notifier
from ess.domain.vacation.model import ACTIVE_STATUSES, RequestStatus, VacationPage, compute_balance
from ess.domain.vacation.ports import VacationUnitOfWork
from ess.domain.vacation.projection import open_years, project
from ess.domain.vacation.recompute import Correction, bring_up_to_date
from ess.domain.vacation.requests import date_text, days_text

OUTSIDE_EMPLOYMENT = "outside_employment"
BEYOND_ENTITLEMENT = "beyond_entitlement"


def leave_relevant_changes(before: Employee, after: Employee) -> list[str]:
    """The changes between two versions of an employee that feed the leave entitlement, as short texts."""
    changes = []
    pairs: list[tuple[str, object, object]] = [
        ("entry date", before.hire_date, after.hire_date),
        ("exit date", before.exit_date, after.exit_date),
        ("contractual days", before.annual_leave_days, after.annual_leave_days),
        ("birth date", before.birth_date, after.birth_date),
        ("work location", before.location.country, after.location.country),
        ("work pattern", before.work_pattern, after.work_pattern),
    ]
    for name, old, new in pairs:
        if old != new:
            changes.append(f"{name} {_text(new)} (was {_text(old)})")
    return changes


def _text(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return days_text(value)
    return str(value)


@dataclass(frozen=True, slots=True)
class LeaveConflict:
    """A leave request the new HR data makes impossible (outside the employment) or no longer covered."""

    request_id: int
    start: date
    end: date
    status: RequestStatus
    problem: str  # OUTSIDE_EMPLOYMENT or BEYOND_ENTITLEMENT


@dataclass(frozen=True, slots=True)
class LeaveFollowUp:
    """What a change of one employee's HR data did to their leave."""

    employee: Employee
    corrections: tuple[Correction, ...]
    overdrawn: tuple[tuple[int, Decimal], ...]  # (year, the negative balance at its end)
    conflicts: tuple[LeaveConflict, ...]

    @property
    def needs_attention(self) -> bool:
        return bool(self.overdrawn or self.conflicts)


async def follow_hr_change(
    employee: Employee, changes: Sequence[str], uow: VacationUnitOfWork, clock: Clock, *, source: str, actor: str
) -> LeaveFollowUp:
    """In the caller's transaction: recompute every booked year of `employee` (as now stored) naming the cause,
    and find the leave that is now overdrawn or impossible."""
    assert employee.id is not None
    cause = f"{source}: {', '.join(changes)}" if changes else source
    ledger = await bring_up_to_date(employee, (), uow, clock, cause=cause, actor=actor)
    requests = await uow.vacation.requests(employee.id)
    overdrawn = []
    first = min((c.year for c in ledger.corrections), default=None)
    # A corrected year, and every later one: a closed year passes its correction on through the carry-over.
    for year in sorted(y for y in ledger.booked_years if first is not None and y >= first):
        # As the employee sees it: with the rest of earlier years that close-year will carry in.
        warnings = {y: await uow.vacation.warnings(employee.id, y) for y in open_years(ledger, year)}
        end = project(date(year, 12, 31), employee, ledger, warnings, clock=clock)
        figures = compute_balance(date(year, 12, 31), buckets=end.buckets, entries=end.entries, pending=requests)
        if figures.remaining < 0:
            overdrawn.append((year, figures.remaining))
    today = clock.today()
    conflicts = [
        LeaveConflict(r.id, r.start, r.end, r.status, OUTSIDE_EMPLOYMENT)
        for r in requests
        if r.id is not None and r.status in ACTIVE_STATUSES and any(not employee.is_employed_on(d.day) for d in r.days)
    ]
    short_years = {year for year, _ in overdrawn}
    conflicts += [
        LeaveConflict(r.id, r.start, r.end, r.status, BEYOND_ENTITLEMENT)
        for r in requests
        if r.id is not None
        and r.status is RequestStatus.APPROVED
        and r.start > today
        and r.id not in {c.request_id for c in conflicts}
        and any(d.day.year in short_years for d in r.days)
    ]
    return LeaveFollowUp(employee, tuple(ledger.corrections), tuple(overdrawn), tuple(conflicts))


async def tell_about(follow_ups: Sequence[LeaveFollowUp], notifier: Notifier, hr_recipients: Sequence[str]) -> None:
    """Tell the employee and HR about leave a change made overdrawn or impossible: that it happened and what it
    means (leave already taken is not reclaimed, BUrlG §5(3); what to do about approved leave is HR's decision)."""
    for follow_up in follow_ups:
        if not follow_up.needs_attention:
            continue
        employee = follow_up.employee
        params = {
            "employee": employee.display_name,
            "personnel_number": employee.personnel_number,
            "overdrawn": "; ".join(f"{year}: {days_text(-days)}" for year, days in follow_up.overdrawn),
            "conflicts": "; ".join(f"{date_text(c.start)} - {date_text(c.end)}" for c in follow_up.conflicts),
        }
        await notifier.notify(Notice("leave_recalculated", (employee.work_email,), params, Link(VacationPage.OWN)))
        if hr_recipients:
            await notifier.notify(
                Notice("leave_recalculated_hr", tuple(hr_recipients), params, Link(VacationPage.REPORT))
            )
