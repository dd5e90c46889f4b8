"""The team calendar as a month: who is away on which day, with each person's own public holidays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from ess.domain.auth.caller import own_employee
from ess.domain.auth.model import Principal
from ess.domain.errors import InvalidInput
from ess.domain.hr.model import Employee, Role
from ess.domain.vacation.calendar import days_off_between
from ess.domain.vacation.model import ACTIVE_STATUSES, RequestStatus
from ess.domain.vacation.ports import VacationDeps


@dataclass(frozen=True, slots=True)
class DayMark:
    """One person's day: leave (a fraction, and its status where the viewer may see it) or a public holiday."""

    leave: Decimal
    status: RequestStatus | None
    holiday: str


@dataclass(frozen=True, slots=True)
class MemberMonth:
    name: str
    unit: str
    days: dict[date, DayMark]


@dataclass(frozen=True, slots=True)
class TeamMonth:
    first: date
    last: date
    members: list[MemberMonth]
    units: list[tuple[str, str]]  # (code, name) to filter by: the whole organisation, for HR only
    details: bool  # the viewer sees the status of each request (their reports; HR)


# How many years around today the calendar shows: enough to plan and look back, bounded for the queries.
MONTHS_AROUND = 24


def month_bounds(year: int, month: int, today: date) -> tuple[date, date]:
    """The first and last day of a month the calendar may show, or InvalidInput."""
    if not 1 <= month <= 12 or abs((year - today.year) * 12 + month - today.month) > MONTHS_AROUND:
        raise InvalidInput(
            "The calendar shows the months from %(months)s months back to %(months)s months ahead.",
            fields={"month": "out of range"},
            rule="calendar_month_out_of_range",
            params={"months": MONTHS_AROUND},
        )
    first = date(year, month, 1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return first, last


async def team_month(principal: Principal, year: int, month: int, *, unit: str = "", deps: VacationDeps) -> TeamMonth:
    """Who is away in a month. A manager sees their reports with each request's status; HR the whole organisation
    (filtered by `unit`) with status; everyone else their colleagues (same manager), approved days only, as
    "absent" (data minimisation)."""
    first, last = month_bounds(year, month, deps.clock.today())
    async with deps.new_uow().read_only() as uow:
        me = await own_employee(principal, uow.employees)
        everyone = list(
            (await uow.employees.by_personnel_numbers(sorted(await uow.employees.all_personnel_numbers()))).values()
        )
        members, details, units = _visible(principal, me, everyone, unit)
        result: list[MemberMonth] = []
        for member in sorted(members, key=lambda e: (e.last_name, e.first_name)):
            assert member.id is not None
            days: dict[date, DayMark] = {
                day: DayMark(Decimal(0), None, off.name)
                for day, off in days_off_between(deps.calendar, member.location, first, last).items()
            }
            for request in await uow.vacation.requests(member.id):
                if request.status not in ACTIVE_STATUSES or (
                    not details and request.status is not RequestStatus.APPROVED
                ):
                    continue
                for d in request.days:
                    if first <= d.day <= last:
                        days[d.day] = DayMark(d.fraction, request.status if details else None, "")
            result.append(MemberMonth(member.display_name, member.org_unit.name if member.org_unit else "", days))
    return TeamMonth(first=first, last=last, members=result, units=units, details=details)


def _visible(
    principal: Principal, me: Employee, everyone: list[Employee], unit: str
) -> tuple[list[Employee], bool, list[tuple[str, str]]]:
    """Whom the caller sees, whether with status, and the units HR may filter by."""
    if principal.has(Role.HR):
        units = sorted({(e.org_unit.code, e.org_unit.name) for e in everyone if e.org_unit}, key=lambda u: u[1])
        chosen = [e for e in everyone if not unit or (e.org_unit and e.org_unit.code == unit)]
        return chosen, True, units
    if principal.has(Role.MANAGER):
        reports = [e for e in everyone if e.manager_personnel_number == me.personnel_number]
        return [me, *reports], True, []
    colleagues = [
        e for e in everyone if me.manager_personnel_number and e.manager_personnel_number == me.manager_personnel_number
    ]
    return colleagues, False, []
