"""The year calendar of /vacation: the days a year view stands for, and the month tables made from it."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from ess.domain.hr.model import WorkPattern
from ess.domain.vacation.model import RequestStatus
from ess.domain.vacation.views import CalendarDay, YearCalendar
from ess.routes.year_calendar import month_tables

FULL_TIME = WorkPattern.first_days(5)
MONDAY_TO_WEDNESDAY = WorkPattern.parse("1|1|1|0|0|0|0")
NEW_YEAR = CalendarDay(date(2026, 1, 1), Decimal(0), None, "Neujahr <1.1.>", working=False)
LEAVE = CalendarDay(date(2026, 1, 5), Decimal(1), RequestStatus.APPROVED, "", working=True)
ASKED = CalendarDay(date(2026, 1, 6), Decimal("0.5"), RequestStatus.PENDING, "", working=True)
YEAR = YearCalendar(
    year=2026,
    marked={day.day: day for day in (NEW_YEAR, LEAVE, ASKED)},
    patterns=((date(2026, 1, 1), FULL_TIME), (date(2026, 7, 1), MONDAY_TO_WEDNESDAY)),
)


def cells_of(month_table: str) -> list[tuple[str, str]]:
    """(class, text) of each day's cell, in order."""
    return [(m[0], re.sub(r"<[^>]+>", "", m[1])) for m in re.findall(r'<td class="([^"]*)">(.*?)</td>', month_table)]


def test_every_day_of_the_year_in_order_with_its_pattern_and_marks() -> None:
    days = YEAR.days()
    assert len(days) == 365
    assert [d.day for d in days] == sorted(d.day for d in days)
    by_day = {d.day: d for d in days}
    assert by_day[date(2026, 1, 5)] is LEAVE
    assert by_day[date(2026, 6, 25)].working  # a Thursday before the change
    assert not by_day[date(2026, 7, 2)].working  # a Thursday after it
    assert by_day[date(2026, 7, 2)] == CalendarDay(date(2026, 7, 2), Decimal(0), None, "", working=False)


def test_month_tables_show_each_day_as_the_template_did() -> None:
    tables = str(month_tables(YEAR, lambda text: f"T:{text}")).split("\n")
    assert len(tables) == 12
    january = tables[0]
    assert "<caption>T:January</caption>" in january
    assert january.count('<abbr title="T:Monday">T:Mon</abbr>') == 1
    assert "<tbody><tr><td></td><td></td><td></td><td " in january  # 1 January 2026 is a Thursday
    cells = cells_of(january)
    assert len(cells) == 31
    # The holiday's name is escaped as autoescape would; leave and requests carry their translated status.
    assert cells[0] == ("cal-holiday", "1 Neujahr &lt;1.1.&gt;")
    assert '<span title="Neujahr &lt;1.1.&gt;">1</span>' in january
    assert cells[4] == ("cal-leave", "5 T:approved")
    assert cells[5] == ("cal-pending", "6 T:pending")
    assert cells[9] == ("cal-off", "10")  # a Saturday
    assert cells[11] == ("", "12")
    assert january.count("</tr><tr>") == 4  # weeks from Monday: 5, 12, 19, 26 January
    july = cells_of(tables[6])
    assert july[0] == ("", "1") and july[1] == ("cal-off", "2")  # Wednesday works, Thursday no longer
    assert len(cells_of(tables[1])) == 28


def test_a_leap_year_has_29_february() -> None:
    leap = YearCalendar(year=2028, marked={}, patterns=((date(2028, 1, 1), FULL_TIME),))
    assert len(leap.days()) == 366
    assert len(cells_of(str(month_tables(leap, str)).split("\n")[1])) == 29


def test_months_without_marks_follow_each_pattern_change_and_differ_by_pattern() -> None:
    """A pattern change within a month shows from its day on; two people with different patterns get different
    tables for the same month; a mark changes its own month only."""
    mid_month = YearCalendar(
        year=2026, marked={}, patterns=((date(2026, 1, 1), FULL_TIME), (date(2026, 3, 16), MONDAY_TO_WEDNESDAY))
    )
    part_time = YearCalendar(year=2026, marked={}, patterns=((date(2026, 1, 1), MONDAY_TO_WEDNESDAY),))
    march = cells_of(str(month_tables(mid_month, str)).split("\n")[2])
    assert march[11] == ("", "12")  # Thursday 12 March, before the change
    assert march[18] == ("cal-off", "19")  # Thursday 19 March, after it
    assert march[15] == ("", "16")  # the Monday it starts
    assert cells_of(str(month_tables(part_time, str)).split("\n")[2])[11] == ("cal-off", "12")
    assert cells_of(str(month_tables(YEAR, str)).split("\n")[2])[11] == ("", "12")
    marked = YearCalendar(year=2026, marked={LEAVE.day: LEAVE}, patterns=part_time.patterns)
    with_leave, without = (str(month_tables(c, str)).split("\n") for c in (marked, part_time))
    assert with_leave[0] != without[0]
    assert with_leave[1:] == without[1:]


def test_every_cell_follows_the_days_also_with_a_change_of_pattern_within_a_month() -> None:
    marked = CalendarDay(date(2026, 3, 17), Decimal(1), RequestStatus.APPROVED, "", working=True)
    after_the_year = CalendarDay(date(2027, 1, 4), Decimal(1), RequestStatus.PENDING, "", working=True)
    year = YearCalendar(
        year=2026,
        marked={d.day: d for d in (NEW_YEAR, marked, after_the_year)},
        patterns=((date(2026, 1, 1), FULL_TIME), (date(2026, 3, 12), MONDAY_TO_WEDNESDAY)),
    )
    for _ in range(2):  # the second time from the plain months made the first time
        tables = str(month_tables(year, lambda text: f"T:{text}")).split("\n")
        by_month: dict[int, list[CalendarDay]] = {}
        for day in year.days():
            by_month.setdefault(day.day.month, []).append(day)
        for month, days in by_month.items():
            expected = [
                ("cal-holiday", f"{d.day.day} {d.holiday}".replace("<", "&lt;").replace(">", "&gt;"))
                if d.holiday
                else ("cal-leave", f"{d.day.day} T:approved")
                if d.status is RequestStatus.APPROVED
                else ("" if d.working else "cal-off", str(d.day.day))
                for d in days
            ]
            assert cells_of(tables[month - 1]) == expected
    march = cells_of(tables[2])
    assert march[10] == ("", "11")  # Wednesday 11 March
    assert march[11] == ("cal-off", "12")  # Thursday 12 March: Monday to Wednesday from this day on
    assert march[5] == ("", "6")  # Friday 6 March, still full time
