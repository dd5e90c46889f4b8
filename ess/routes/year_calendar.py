"""The twelve month tables of the year calendar on /vacation, built in Python.

The template looped over 365 days with a dozen attribute lookups and conditionals per day: about half of the page's
rendering time. Here a plain day is a cell made once at import, picked by its working-day flag and number; only the
few days with leave or a holiday are formatted, their labels escaped with markupsafe exactly as autoescape would. The
captions and weekday headings (180 translations per page when the template made them) are translated once per page.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Callable
from datetime import date
from typing import Final

from markupsafe import Markup, escape

from ess.domain.vacation.model import RequestStatus
from ess.domain.vacation.views import CalendarDay, YearCalendar
from ess.routes.rendering import MONTH_NAMES, STATUS_LABELS, WEEKDAY_NAMES

_PLAIN_CELLS: Final = {
    working: tuple(f'<td class="{"" if working else "cal-off"}">{number}</td>' for number in range(32))
    for working in (True, False)
}
_FIRST_ROW: Final = tuple("<tr>" + "<td></td>" * weekday for weekday in range(7))


def _class_of(day: CalendarDay) -> str:
    if day.holiday:
        return "cal-holiday"
    if day.status is RequestStatus.APPROVED:
        return "cal-leave"
    if day.status is not None:
        return "cal-pending"
    return "" if day.working else "cal-off"


def _marked_cell(day: CalendarDay, gettext: Callable[[str], str]) -> str:
    label = escape(day.holiday or gettext(STATUS_LABELS[day.status.value if day.status else ""]))
    return (
        f'<td class="{_class_of(day)}"><span title="{label}">{day.day.day}</span>'
        f'<span class="visually-hidden"> {label}</span></td>'
    )


# A month's parts, the index of each day's cell among them (by day number), and the parts joined.
_Month = tuple[tuple[str, ...], tuple[int, ...], str]


@functools.lru_cache(maxsize=256)
def _plain_month(first_weekday: int, length: int, working: tuple[bool, ...]) -> _Month:
    """A month without marks under one pattern (leading blanks, a cell per day, a row break before each Monday).
    Plain formatting, the same for every month that starts on that weekday with that length, so it is made once per
    process: the page takes a stored string for most months instead of formatting 30 cells."""
    parts = [_FIRST_ROW[first_weekday]]
    where = [0]
    weekday = first_weekday
    for number in range(1, length + 1):
        if weekday == 0 and number > 1:
            parts.append("</tr><tr>")
        where.append(len(parts))
        parts.append(_PLAIN_CELLS[working[weekday]][number])
        weekday = (weekday + 1) % 7
    parts.append("</tr>")
    return tuple(parts), tuple(where), "".join(parts)


def month_bodies(year: YearCalendar, gettext: Callable[[str], str]) -> list[str]:
    """For each month, the rows of its table: weeks from Monday, leading blanks."""
    marks: dict[int, list[tuple[int, CalendarDay]]] = {}  # by month: (day number, entry)
    for day, entry in year.marked.items():
        if day.year == year.year:
            marks.setdefault(day.month, []).append((day.day, entry))
    # From which day on each pattern is in force, as ordinals, with its working days by weekday.
    periods = [(since.toordinal(), tuple(d > 0 for d in p.days)) for since, p in year.patterns]
    period = 0
    bodies: list[str] = []
    for month in range(1, 13):
        weekday, length = calendar.monthrange(year.year, month)
        first = date(year.year, month, 1).toordinal()
        while period + 1 < len(periods) and periods[period + 1][0] <= first:
            period += 1
        parts, where, body = _plain_month(weekday, length, periods[period][1])
        changes = period + 1 < len(periods) and periods[period + 1][0] < first + length
        marked = marks.get(month)
        if not changes and not marked:
            bodies.append(body)
            continue
        cells = list(parts)
        if changes:  # another pattern from a day within this month on
            for number in range(1, length + 1):
                while period + 1 < len(periods) and periods[period + 1][0] <= first + number - 1:
                    period += 1
                cells[where[number]] = _PLAIN_CELLS[periods[period][1][(weekday + number - 1) % 7]][number]
        for number, entry in marked or ():
            cells[where[number]] = _marked_cell(entry, gettext)
        bodies.append("".join(cells))
    return bodies


def month_tables(year: YearCalendar, gettext: Callable[[str], str]) -> Markup:
    """The table of each month: its name as the caption, the weekdays (abbreviated, the full name as the
    abbreviation's title), the weeks (see `month_bodies`)."""
    head = "".join(
        f'<th scope="col"><abbr title="{escape(gettext(long))}">{escape(gettext(short))}</abbr></th>'
        for short, long in WEEKDAY_NAMES
    )
    return Markup(  # noqa: S704 - every text escaped above or in _marked_cell
        "\n".join(
            f'<table class="month"><caption>{escape(gettext(name))}</caption><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>"
            for name, body in zip(MONTH_NAMES, month_bodies(year, gettext), strict=True)
        )
    )
