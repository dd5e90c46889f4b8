"""HolidaysCalendar against the real `holidays` package: DE-13, CH-07, AT-07 and the configured extras."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ess.adapters.holidays_calendar import HolidaysCalendar
from ess.domain.errors import InvalidInput
from ess.domain.hr.model import WorkLocation, WorkPattern
from ess.domain.vacation.calendar import count, days_off_between, leave_days

FIVE_DAYS = WorkPattern.first_days(5)
BAVARIA = WorkLocation(country="DE", subdivision="BY")


def working_days(calendar: HolidaysCalendar, location: WorkLocation, start: date, end: date) -> Decimal:
    days_off = days_off_between(calendar, location, start, end)
    return count(leave_days(start, end, pattern_on=lambda _: FIVE_DAYS, days_off=days_off))


@pytest.mark.parametrize(
    ("start", "end", "expected_days", "expected_holidays"),
    [
        pytest.param(
            date(2025, 12, 22),
            date(2026, 1, 9),
            11,  # 15 weekdays, 4 holidays on weekdays
            {
                date(2025, 12, 25): "Erster Weihnachtstag",  # Thu
                date(2025, 12, 26): "Zweiter Weihnachtstag",  # Fri
                date(2026, 1, 1): "Neujahr",  # Thu
                date(2026, 1, 6): "Heilige Drei Könige",  # Tue
            },
            id="DE-13-reference-2025",
        ),
        pytest.param(
            date(2026, 12, 22),  # Tue
            date(2027, 1, 9),  # Sat
            11,  # 14 weekdays, 3 holidays on weekdays (26.12.2026 is a Saturday)
            {
                date(2026, 12, 25): "Erster Weihnachtstag",  # Fri
                date(2026, 12, 26): "Zweiter Weihnachtstag",  # Sat
                date(2027, 1, 1): "Neujahr",  # Fri
                date(2027, 1, 6): "Heilige Drei Könige",  # Wed
            },
            id="anna-demo-request-2026",
        ),
    ],
)
def test_holidays_inside_a_bavarian_christmas_leave_are_not_counted(
    start: date, end: date, expected_days: int, expected_holidays: dict[date, str]
) -> None:
    calendar = HolidaysCalendar()
    days_off = days_off_between(calendar, BAVARIA, start, end)
    assert {day: off.name for day, off in days_off.items()} == expected_holidays
    assert all(off.fraction == 1 for off in days_off.values())
    assert working_days(calendar, BAVARIA, start, end) == Decimal(expected_days)


def test_frauentag_is_a_holiday_in_berlin_and_not_in_bavaria() -> None:
    calendar = HolidaysCalendar()
    frauentag = date(2026, 3, 8)
    assert calendar.days_off(WorkLocation("DE", "BE"), 2026)[frauentag].name == "Frauentag"
    assert frauentag not in calendar.days_off(BAVARIA, 2026)


def test_assumption_day_in_bavaria_only_for_catholic_municipalities() -> None:
    assumption = date(2026, 8, 15)
    assert assumption not in HolidaysCalendar().days_off(BAVARIA, 2026)
    catholic = HolidaysCalendar(categories_by_location={"DE-BY": ("public", "catholic")})
    assert catholic.days_off(BAVARIA, 2026)[assumption].name == "Mariä Himmelfahrt"
    assert assumption not in catholic.days_off(WorkLocation("DE", "BE"), 2026)


@pytest.mark.parametrize("subdivision", ["Augsburg", "AUGSBURG", "augsburg"])
def test_augsburg_is_bavaria_plus_peace_festival_and_assumption_day(subdivision: str) -> None:
    calendar = HolidaysCalendar()
    augsburg = calendar.days_off(WorkLocation("DE", subdivision), 2026)
    bavaria = calendar.days_off(BAVARIA, 2026)
    assert augsburg[date(2026, 8, 8)].name == "Augsburger Hohes Friedensfest"
    assert {day: off.name for day, off in augsburg.items() if day not in bavaria} == {
        date(2026, 8, 8): "Augsburger Hohes Friedensfest",
        date(2026, 8, 15): "Mariä Himmelfahrt",
    }
    assert set(bavaria) < set(augsburg)


def test_canton_zurich_has_the_national_day_but_not_berchtoldstag() -> None:
    """CH-07: the library's canton ZH has no 2.1.; the city (subdivision "Stadt Zurich") has it."""
    days_off = HolidaysCalendar().days_off(WorkLocation("CH", "ZH"), 2026)
    assert days_off[date(2026, 8, 1)].name == "Nationalfeiertag"
    assert date(2026, 1, 2) not in days_off
    assert all(off.fraction == 1 for off in days_off.values())


@pytest.mark.parametrize("subdivision", ["Stadt Zurich", "STADT ZURICH", "Stadt Zürich"])
def test_city_of_zurich_has_berchtoldstag_and_the_library_half_days(subdivision: str) -> None:
    days_off = HolidaysCalendar().days_off(WorkLocation("CH", subdivision), 2026)
    assert days_off[date(2026, 8, 1)].name == "Nationalfeiertag"
    assert days_off[date(2026, 1, 2)].name == "Berchtoldstag"
    assert days_off[date(2026, 1, 2)].fraction == 1
    assert (days_off[date(2026, 4, 20)].name, days_off[date(2026, 4, 20)].fraction) == ("Sechseläuten", Decimal("0.5"))
    assert days_off[date(2026, 12, 24)].fraction == Decimal("0.5")
    assert days_off[date(2026, 12, 31)].fraction == Decimal("0.5")


def test_city_of_zurich_half_days_can_be_switched_off() -> None:
    calendar = HolidaysCalendar(categories_by_location={"CH": ("public",)})
    days_off = calendar.days_off(WorkLocation("CH", "Stadt Zurich"), 2026)
    assert date(2026, 4, 20) not in days_off
    assert date(2026, 1, 2) in days_off


def test_vienna_has_the_13_statutory_days_and_not_leopold() -> None:
    """AT-07: Hl. Leopold (15.11.), 24.12. and 31.12. are in the library's `bank` category, not rest days."""
    days_off = HolidaysCalendar().days_off(WorkLocation("AT", "9"), 2026)
    assert days_off[date(2026, 12, 8)].name == "Mariä Empfängnis"
    assert date(2026, 11, 15) not in days_off
    assert date(2026, 12, 24) not in days_off
    assert len(days_off) == 13


def test_vienna_by_alias() -> None:
    calendar = HolidaysCalendar()
    assert calendar.days_off(WorkLocation("AT", "Wien"), 2026) == calendar.days_off(WorkLocation("AT", "9"), 2026)


def test_no_half_days_on_24_and_31_december_in_germany_by_default() -> None:
    calendar = HolidaysCalendar()
    assert working_days(calendar, BAVARIA, date(2026, 12, 21), date(2026, 12, 31)) == Decimal(8)


def test_configured_half_days_on_24_and_31_december() -> None:
    calendar = HolidaysCalendar(half_days=((12, 24), (12, 31)))
    days_off = calendar.days_off(BAVARIA, 2026)
    assert (days_off[date(2026, 12, 24)].name, days_off[date(2026, 12, 24)].fraction) == ("Heiligabend", Decimal("0.5"))
    assert (days_off[date(2026, 12, 31)].name, days_off[date(2026, 12, 31)].fraction) == ("Silvester", Decimal("0.5"))
    # Mon 21.-Thu 31.12.2026: 9 weekdays - 25.12. (Fri) - half of 24.12. (Thu) - half of 31.12. (Thu)
    assert working_days(calendar, BAVARIA, date(2026, 12, 21), date(2026, 12, 31)) == Decimal(7)


def test_a_half_day_that_is_already_a_holiday_stays_a_whole_day() -> None:
    calendar = HolidaysCalendar(half_days=((12, 25),))
    assert calendar.days_off(BAVARIA, 2026)[date(2026, 12, 25)].fraction == 1


def test_a_company_day_off_counts_zero() -> None:
    rosenmontag = date(2026, 2, 16)
    cologne = WorkLocation("DE", "NW")
    calendar = HolidaysCalendar(company_days_off={rosenmontag: "Rosenmontag"})
    assert calendar.days_off(cologne, 2026)[rosenmontag].name == "Rosenmontag"
    assert calendar.days_off(cologne, 2026)[rosenmontag].fraction == 1
    assert rosenmontag not in calendar.days_off(cologne, 2027)
    days_off = days_off_between(calendar, cologne, rosenmontag, date(2026, 2, 20))
    days = leave_days(rosenmontag, date(2026, 2, 20), pattern_on=lambda _: FIVE_DAYS, days_off=days_off)
    assert rosenmontag not in [d.day for d in days]
    assert count(days) == Decimal(4)


def test_a_company_day_off_on_a_public_holiday_keeps_the_holiday() -> None:
    calendar = HolidaysCalendar(company_days_off={date(2026, 10, 3): "Betriebsausflug"})
    assert calendar.days_off(BAVARIA, 2026)[date(2026, 10, 3)].name == "Tag der Deutschen Einheit"


def test_years_are_computed_once_and_read_only() -> None:
    calendar = HolidaysCalendar()
    first = calendar.days_off(BAVARIA, 2026)
    assert calendar.days_off(WorkLocation("de", "by"), 2026) is first
    with pytest.raises(TypeError):
        first[date(2026, 7, 1)] = first[date(2026, 1, 1)]  # type: ignore[index]


@pytest.mark.parametrize(
    "location", [WorkLocation("DE", "XX"), WorkLocation("XX", "BY"), WorkLocation("DE", "Zürich")], ids=str
)
def test_unknown_locations_are_refused(location: WorkLocation) -> None:
    with pytest.raises(InvalidInput):
        HolidaysCalendar().days_off(location, 2026)


def test_whole_country_without_subdivision() -> None:
    days_off = HolidaysCalendar().days_off(WorkLocation("DE", ""), 2026)
    assert date(2026, 10, 3) in days_off
    assert date(2026, 1, 6) not in days_off


@pytest.mark.parametrize(
    "options",
    [
        {"half_days": ((2, 30),)},
        {"categories_by_location": {"DE-BY": ("public", "bank")}},
        {"categories_by_location": {"DE-XX": ("public",)}},
        {"categories_by_location": {"XX": ("public",)}},
        {"categories_by_location": {"DE": ()}},
    ],
    ids=["bad-half-day", "unknown-category", "unknown-subdivision", "unknown-country", "no-categories"],
)
def test_bad_configuration_is_refused_at_construction(options: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"half day|categories_by_location"):
        HolidaysCalendar(**options)  # type: ignore[arg-type]
