"""The twelve month tables of the year calendar on /vacation, built in Python.

The template looped over 365 days with a dozen attribute lookups and conditionals per day: about half of the page's
rendering time. Here a plain day is a cell made once at import, picked by its working-day flag and number; only the
few days with leave or a holiday are formatted, their labels escaped with markupsafe exactly as autoescape would. The
captions and weekday headings (180 translations per page when the template made them) are translated once per page.
"""

from __future__ import annotations

import calendar
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


def month_bodies(year: YearCalendar, gettext: Callable[[str], str]) -> list[str]:
    """For each month, the rows of its table: weeks from Monday, leading blanks."""
    marked = {day.toordinal(): entry for day, entry in year.marked.items()}
    # From which day on each pattern is in force, as ordinals, with its working days by weekday.
    periods = [(since.toordinal(), tuple(d > 0 for d in p.days)) for since, p in year.patterns]
    period = 0
    working = periods[0][1]
    ordinal = date(year.year, 1, 1).toordinal()
    bodies: list[str] = []
    for month in range(1, 13):
        weekday, length = calendar.monthrange(year.year, month)
        cells = [_FIRST_ROW[weekday]]
        for number in range(1, length + 1):
            if weekday == 0 and number > 1:
                cells.append("</tr><tr>")
            while period + 1 < len(periods) and periods[period + 1][0] <= ordinal:
                period += 1
                working = periods[period][1]
            entry = marked.get(ordinal)
            cells.append(_PLAIN_CELLS[working[weekday]][number] if entry is None else _marked_cell(entry, gettext))
            ordinal += 1
            weekday = (weekday + 1) % 7
        cells.append("</tr>")
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
