"""The twelve month tables of the year calendar on /vacation, built in Python.

The template looped over 365 days with a dozen attribute lookups and conditionals per day: about half of the page's
rendering time. Here each day is one string format; labels are escaped with markupsafe exactly as autoescape would.
The tables' captions and weekday headings were 180 translations per page (seven weekdays, twice, in each month):
now each is translated once per page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from markupsafe import Markup, escape

from ess.domain.vacation.model import RequestStatus
from ess.domain.vacation.views import CalendarDay
from ess.routes.rendering import MONTH_NAMES, STATUS_LABELS, WEEKDAY_NAMES


def _class_of(day: CalendarDay) -> str:
    if day.holiday:
        return "cal-holiday"
    if day.status is RequestStatus.APPROVED:
        return "cal-leave"
    if day.status is not None:
        return "cal-pending"
    return "" if day.working else "cal-off"


# Most days are a plain working day or day off: their cells are made once, not once per day and page.
_PLAIN_CELLS: Final = {
    working: tuple(f'<td class="{"" if working else "cal-off"}">{number}</td>' for number in range(32))
    for working in (True, False)
}
_FIRST_ROW: Final = tuple("<tr>" + "<td></td>" * weekday for weekday in range(7))


def month_bodies(days: Sequence[CalendarDay], gettext: Callable[[str], str]) -> list[Markup]:
    """For each month of `days` (in date order), the rows of its table: weeks from Monday, leading blanks."""
    months: list[list[str]] = [[] for _ in range(12)]
    for day in days:
        when = day.day
        cells = months[when.month - 1]
        weekday = when.weekday()
        if not cells:
            cells.append(_FIRST_ROW[weekday])
        elif weekday == 0:
            cells.append("</tr><tr>")
        if day.holiday or day.status is not None:
            label = escape(day.holiday or gettext(STATUS_LABELS[day.status.value if day.status else ""]))
            cells.append(
                f'<td class="{_class_of(day)}"><span title="{label}">{when.day}</span>'
                f'<span class="visually-hidden"> {label}</span></td>'
            )
        else:
            cells.append(_PLAIN_CELLS[day.working][when.day])
    return [Markup("".join(cells) + "</tr>") if cells else Markup("") for cells in months]  # noqa: S704 - escaped above


def month_tables(days: Sequence[CalendarDay], gettext: Callable[[str], str]) -> Markup:
    """The table of each month of `days`: its name as the caption, the weekdays (abbreviated, the full name as the
    abbreviation's title), the weeks (see `month_bodies`)."""
    head = "".join(
        f'<th scope="col"><abbr title="{escape(gettext(long))}">{escape(gettext(short))}</abbr></th>'
        for short, long in WEEKDAY_NAMES
    )
    return Markup(  # noqa: S704 - every text escaped above or in month_bodies
        "\n".join(
            f'<table class="month"><caption>{escape(gettext(name))}</caption><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>"
            for name, body in zip(MONTH_NAMES, month_bodies(days, gettext), strict=True)
        )
    )
