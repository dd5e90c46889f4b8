"""Use cases that show leave on a calendar: the caller's year, and who of the team is away when."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ess.domain.auth.caller import own_employee
from ess.domain.auth.model import Principal
from ess.domain.hr.model import Employee, WorkPattern
from ess.domain.vacation.balance import balance_and_requests
from ess.domain.vacation.model import ACTIVE_STATUSES, ZERO, Balance, Colleague, LeaveRequest, RequestStatus
from ess.domain.vacation.ports import VacationDeps


@dataclass(frozen=True, slots=True)
class CalendarDay:
    day: date
    leave: Decimal  # 0, 0.5 or 1 day of requested leave
    status: RequestStatus | None
    holiday: str  # name of a public holiday or company day off, or ""
    working: bool  # a working day by the employee's pattern


@dataclass(frozen=True, slots=True)
class YearCalendar:
    """A year as the year view shows it: the few days with leave or a day off, and the work pattern from each
    change on. Every other day is a plain working day or day off by the pattern, so the view need not make 365
    objects (that was most of the page's calendar time)."""

    year: int
    marked: Mapping[date, CalendarDay]  # the days of the year with requested leave or a holiday
    patterns: tuple[tuple[date, WorkPattern], ...]  # (in force from, pattern), oldest first; the first from 1 January

    def days(self) -> list[CalendarDay]:
        """Every day of the year, in date order."""
        last = date(self.year, 12, 31).toordinal() + 1
        result: list[CalendarDay] = []
        for index, (start, pattern) in enumerate(self.patterns):
            end = self.patterns[index + 1][0].toordinal() if index + 1 < len(self.patterns) else last
            for ordinal in range(start.toordinal(), end):
                day = date.fromordinal(ordinal)
                marked = self.marked.get(day)
                result.append(marked or CalendarDay(day, ZERO, None, "", pattern.days[day.weekday()] > 0))
        return result


async def year_calendar(principal: Principal, year: int, *, deps: VacationDeps) -> list[CalendarDay]:
    """Every day of a year with the caller's leave, holidays and working days, for the year view."""
    async with deps.new_uow().read_only() as uow:
        employee = await own_employee(principal, uow.employees)
        assert employee.id is not None
        requests = await uow.vacation.requests(employee.id)
    return calendar_of(employee, requests, year, deps=deps).days()


def calendar_of(employee: Employee, requests: Sequence[LeaveRequest], year: int, *, deps: VacationDeps) -> YearCalendar:
    """The year view of an employee's active requests and days off, with one pattern per period."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    booked = {
        d.day: (d.fraction, r.status)
        for r in requests
        if r.status in ACTIVE_STATUSES
        for d in r.days
        if first <= d.day <= last
    }
    days_off = {
        day: off for day, off in deps.calendar.days_off(employee.location, year).items() if first <= day <= last
    }
    # The pattern in force on each day, from the history's periods (not a search of the history per day).
    changes = sorted(employee.pattern_history, key=lambda item: item[0])
    patterns = ((first, employee.pattern_on(first)), *((since, p) for since, p in changes if first < since <= last))

    def working(day: date) -> bool:
        pattern = next(p for since, p in reversed(patterns) if since <= day)
        return pattern.days[day.weekday()] > 0

    marked: dict[date, CalendarDay] = {}
    for day in sorted(booked.keys() | days_off.keys()):
        fraction, status = booked.get(day, (ZERO, None))
        off = days_off.get(day)
        marked[day] = CalendarDay(day, fraction, status, off.name if off else "", working(day))
    return YearCalendar(year=year, marked=marked, patterns=patterns)


@dataclass(frozen=True, slots=True)
class VacationOverview:
    """What the vacation page shows: the balance, the requests (newest first) and the year calendar."""

    balance: Balance
    requests: list[LeaveRequest]
    calendar: YearCalendar
    colleagues: list[Colleague]  # whom the leave form offers as substitute


async def vacation_overview(principal: Principal, as_of: date, *, deps: VacationDeps) -> VacationOverview:
    """The vacation page's figures from one load of the caller's record and requests."""
    own = await balance_and_requests(principal, as_of, deps=deps, with_colleagues=True)
    return VacationOverview(
        balance=own.balance,
        requests=sorted(own.requests, key=lambda r: r.start, reverse=True),
        calendar=calendar_of(own.employee, own.requests, as_of.year, deps=deps),
        colleagues=own.colleagues,
    )
