"""Days off at a place of work and the working days a leave uses (holidays are not vacation, BUrlG §3(2))."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Final

from ess.domain.errors import InvalidInput
from ess.domain.hr.model import WorkLocation, WorkPattern
from ess.domain.vacation.model import HALF_DAY, DayOff, LeaveDay
from ess.domain.vacation.ports import HolidayCalendar

# A leave spans at most one (leap) year; longer periods are data errors, not requests.
MAX_LEAVE_SPAN_DAYS: Final = 366


def days_off_between(calendar: HolidayCalendar, location: WorkLocation, start: date, end: date) -> dict[date, DayOff]:
    """The days off from `start` to `end` (inclusive), joined across calendar years (a leave over New Year)."""
    merged: dict[date, DayOff] = {}
    for year in range(start.year, end.year + 1):
        merged.update({day: off for day, off in calendar.days_off(location, year).items() if start <= day <= end})
    return merged


def leave_days(
    start: date,
    end: date,
    *,
    pattern_on: Callable[[date], WorkPattern],
    days_off: Mapping[date, DayOff],
    start_half: bool = False,
    end_half: bool = False,
) -> list[LeaveDay]:
    """The working days a leave from `start` to `end` (inclusive) uses, in date order.

    Each date uses what the work pattern in force that day schedules (1, 0.5 or 0) minus the day off's fraction,
    never below 0: a holiday on a scheduled workday inside a leave is not vacation (BUrlG §3(2)).
    `start_half` / `end_half` ask for half of the first / last date only: that date then uses at most half a day
    (half of a full day; a part-timer's half day stays 0.5, since leave is booked in half days).
    On a single date (start == end) either flag makes it a half day. Dates that use nothing are left out.
    """
    if end < start:
        raise InvalidInput(
            "A leave cannot end before it starts.", fields={"end": "is before the start"}, rule="leave_end_before_start"
        )
    span = (end - start).days + 1
    if span > MAX_LEAVE_SPAN_DAYS:
        raise InvalidInput(
            "A leave spans at most %(days)s days.",
            fields={"end": "is too far after the start"},
            rule="leave_too_long",
            params={"days": MAX_LEAVE_SPAN_DAYS},
        )
    used: list[LeaveDay] = []
    for offset in range(span):
        day = start + timedelta(days=offset)
        scheduled = pattern_on(day).days[day.weekday()]
        off = days_off.get(day)
        fraction = max(scheduled - (off.fraction if off is not None else Decimal(0)), Decimal(0))
        if (start_half and day == start) or (end_half and day == end):
            fraction = min(fraction, HALF_DAY)
        if fraction:
            used.append(LeaveDay(day=day, fraction=fraction))
    return used


def count(days: Sequence[LeaveDay]) -> Decimal:
    """How many working days the leave days use together."""
    return sum((d.fraction for d in days), Decimal(0))
