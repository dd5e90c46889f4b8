"""The working days a leave uses: work pattern minus days off (BUrlG §3(2)), half days, and bad ranges."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

import pytest

from ess.domain.errors import InvalidInput
from ess.domain.hr.model import WorkLocation, WorkPattern
from ess.domain.vacation.calendar import count, days_off_between, leave_days
from ess.domain.vacation.model import DayOff, LeaveDay

FULL_TIME = WorkPattern.first_days(5)
PART_TIME = WorkPattern.parse("1|1|1|0.5|0|0|0")
MUNICH = WorkLocation(country="DE", subdivision="BY")


class FakeHolidayCalendar:
    """Days off per location and year, as a test sets them."""

    def __init__(self, days: Mapping[WorkLocation, list[DayOff]]) -> None:
        self._days = days

    def days_off(self, location: WorkLocation, year: int) -> Mapping[date, DayOff]:
        return {off.day: off for off in self._days.get(location, []) if off.day.year == year}


def whole(day: date, name: str = "Feiertag") -> DayOff:
    return DayOff(day=day, name=name, fraction=Decimal(1))


def half(day: date, name: str = "Heiligabend") -> DayOff:
    return DayOff(day=day, name=name, fraction=Decimal("0.5"))


# 2026-06-08 is a Monday.
MON, TUE, WED, THU, FRI, SAT, SUN = (date(2026, 6, d) for d in range(8, 15))


@pytest.mark.parametrize(
    ("span", "pattern", "days_off", "flags", "expected"),
    [
        pytest.param((MON, SUN), FULL_TIME, [], {}, "5", id="full-week"),
        pytest.param((MON, FRI), FULL_TIME, [whole(WED)], {}, "4", id="holiday-on-wednesday-not-counted"),
        pytest.param((MON, SUN), PART_TIME, [], {}, "3.5", id="part-time-1-1-1-0.5"),
        pytest.param((MON, SUN), PART_TIME, [whole(WED)], {}, "2.5", id="part-time-with-holiday"),
        pytest.param((MON, FRI), FULL_TIME, [], {"start_half": True}, "4.5", id="half-first-day"),
        pytest.param((MON, FRI), FULL_TIME, [], {"end_half": True}, "4.5", id="half-last-day"),
        pytest.param((MON, FRI), FULL_TIME, [], {"start_half": True, "end_half": True}, "4", id="half-both-ends"),
        pytest.param((TUE, TUE), FULL_TIME, [], {"start_half": True}, "0.5", id="single-half-day-start-flag"),
        pytest.param((TUE, TUE), FULL_TIME, [], {"end_half": True}, "0.5", id="single-half-day-end-flag"),
        pytest.param((TUE, TUE), FULL_TIME, [], {"start_half": True, "end_half": True}, "0.5", id="single-half-both"),
        pytest.param((TUE, TUE), FULL_TIME, [], {}, "1", id="single-whole-day"),
        pytest.param((MON, THU), PART_TIME, [], {"end_half": True}, "3.5", id="half-request-on-a-half-workday"),
        pytest.param((MON, SUN), FULL_TIME, [whole(SAT), whole(SUN)], {}, "5", id="holiday-on-weekend-changes-nothing"),
        pytest.param((MON, SUN), PART_TIME, [whole(FRI)], {}, "3.5", id="holiday-on-part-timers-free-day"),
        pytest.param((MON, FRI), FULL_TIME, [half(THU)], {}, "4.5", id="half-day-off-on-working-day"),
        pytest.param((THU, THU), FULL_TIME, [half(THU)], {"start_half": True}, "0.5", id="half-request-on-24-12"),
        pytest.param((MON, SUN), PART_TIME, [half(THU)], {}, "3", id="half-day-off-on-half-workday"),
        pytest.param((SAT, SUN), FULL_TIME, [], {}, "0", id="weekend-only"),
    ],
)
def test_working_days_of_a_leave(
    span: tuple[date, date],
    pattern: WorkPattern,
    days_off: list[DayOff],
    flags: dict[str, bool],
    expected: str,
) -> None:
    start, end = span
    days = leave_days(start, end, pattern_on=lambda _: pattern, days_off={off.day: off for off in days_off}, **flags)
    assert count(days) == Decimal(expected)


def test_christmas_eve_half_day_off_on_a_working_day_counts_half() -> None:
    christmas_eve = date(2026, 12, 24)  # a Thursday
    days = leave_days(
        christmas_eve, christmas_eve, pattern_on=lambda _: FULL_TIME, days_off={christmas_eve: half(christmas_eve)}
    )
    assert days == [LeaveDay(day=christmas_eve, fraction=Decimal("0.5"))]


def test_days_that_use_nothing_are_left_out() -> None:
    days = leave_days(MON, SUN, pattern_on=lambda _: PART_TIME, days_off={WED: whole(WED)})
    assert days == [
        LeaveDay(day=MON, fraction=Decimal(1)),
        LeaveDay(day=TUE, fraction=Decimal(1)),
        LeaveDay(day=THU, fraction=Decimal("0.5")),
    ]


def test_each_day_uses_the_pattern_in_force_that_day() -> None:
    """DE-12: a change of the weekly days during a leave counts each day with its own pattern."""
    three_days = WorkPattern.first_days(3)
    days = leave_days(
        date(2026, 6, 22),  # Monday
        date(2026, 7, 5),  # Sunday, two weeks later
        pattern_on=lambda d: FULL_TIME if d < date(2026, 7, 1) else three_days,
        days_off={},
    )
    # 22.-26.6. = 5, 29.-30.6. = 2, then Wed 1.7. on the 3-day week (Mon-Wed) = 1
    assert count(days) == Decimal(8)


@pytest.mark.parametrize(
    ("start", "end", "message_part"),
    [
        pytest.param(FRI, MON, "before it starts", id="end-before-start"),
        pytest.param(date(2026, 1, 1), date(2027, 1, 2), "at most 366", id="longer-than-366-days"),
    ],
)
def test_invalid_ranges_are_refused(start: date, end: date, message_part: str) -> None:
    with pytest.raises(InvalidInput, match=message_part) as caught:
        leave_days(start, end, pattern_on=lambda _: FULL_TIME, days_off={})
    assert "end" in caught.value.fields


def test_a_whole_leap_year_is_allowed() -> None:
    days = leave_days(date(2028, 1, 1), date(2028, 12, 31), pattern_on=lambda _: FULL_TIME, days_off={})
    assert count(days) == Decimal(260)


@pytest.mark.parametrize("fraction", ["0", "1.5", "-1"])
def test_a_day_off_is_a_fraction_of_a_day(fraction: str) -> None:
    with pytest.raises(InvalidInput):
        DayOff(day=MON, name="x", fraction=Decimal(fraction))


def test_days_off_are_joined_across_new_year() -> None:
    calendar = FakeHolidayCalendar(
        {
            MUNICH: [
                whole(date(2026, 12, 25), "Erster Weihnachtstag"),
                whole(date(2027, 1, 1), "Neujahr"),
                whole(date(2027, 1, 6), "Heilige Drei Könige"),
                whole(date(2027, 5, 1), "Erster Mai"),
            ]
        }
    )
    start, end = date(2026, 12, 21), date(2027, 1, 8)
    days_off = days_off_between(calendar, MUNICH, start, end)
    assert sorted(days_off) == [date(2026, 12, 25), date(2027, 1, 1), date(2027, 1, 6)]
    # 15 weekdays, three of them holidays
    assert count(leave_days(start, end, pattern_on=lambda _: FULL_TIME, days_off=days_off)) == Decimal(12)
