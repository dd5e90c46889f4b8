"""The HolidayCalendar port on the `holidays` package, plus company days off and configured half days.

Locations are `WorkLocation(country, subdivision)` with the library's codes, matched without regard to case
(the HR import upper-cases them): DE "BY", "BE" ...; AT "1" to "9"; CH "ZH" ... and the city "Stadt Zurich".
The library's aliases ("Bayern", "Wien", "Stadt Zürich") are accepted too; an empty subdivision means the
nationwide days only.

Municipalities: in BY (and SN/TH) some holidays hold only in Catholic-majority municipalities; the library keeps
them in the `catholic` category, so a site there is configured as `categories_by_location={"DE-BY": ("public",
"catholic")}`. The city of Augsburg is its own library subdivision, "Augsburg": the Bavarian public holidays plus
Mariä Himmelfahrt (15.8.) and the Augsburger Hohes Friedensfest (8.8.), all in `public`. An HR file names it with
country "DE" and subdivision "Augsburg" (stored upper-cased as "AUGSBURG", which the importer accepts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from functools import cache
from types import MappingProxyType
from typing import Final

import holidays
from holidays.constants import HALF_DAY, PUBLIC

from ess.domain.errors import InvalidInput
from ess.domain.hr.model import WorkLocation
from ess.domain.vacation.model import DayOff

# Only the statutory days by default; CH adds the library's half days (populated for Stadt Zürich).
DEFAULT_CATEGORIES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {"DE": (PUBLIC,), "CH": (PUBLIC, HALF_DAY), "AT": (PUBLIC,)}
)
_HALF_DAY_NAMES: Final[Mapping[tuple[int, int], str]] = MappingProxyType(
    {(12, 24): "Heiligabend", (12, 31): "Silvester"}
)
_HALF_DAY_NAME: Final = "Halber Arbeitstag"
_LEAP_YEAR: Final = 2000
_NO_COMPANY_DAYS_OFF: Final[Mapping[date, str]] = MappingProxyType({})
_NO_CATEGORIES: Final[Mapping[str, Sequence[str]]] = MappingProxyType({})


@cache
def _calendar_class(country: str) -> type[holidays.HolidayBase] | None:
    try:
        return holidays.country_holidays(country).__class__
    except NotImplementedError:
        return None


def _subdivision_code(calendar_class: type[holidays.HolidayBase], subdivision: str) -> str | None:
    """The library's exact code for `subdivision` (code or alias, any case); None for an empty one."""
    wanted = subdivision.strip().casefold()
    if not wanted:
        return None
    for code in calendar_class.subdivisions:
        if str(code).casefold() == wanted:
            return str(code)
    for alias, code in getattr(calendar_class, "subdivisions_aliases", {}).items():
        if str(alias).casefold() == wanted:
            return str(code)
    return None


def _location_categories(key: str, categories: Sequence[str]) -> tuple[tuple[str, str | None], tuple[str, ...]]:
    """Check one `categories_by_location` entry ("DE-BY" or "DE") against the library."""
    country, _, subdivision = key.partition("-")
    country = country.strip().upper()
    calendar_class = _calendar_class(country)
    if calendar_class is None:
        raise ValueError(f"categories_by_location: no holiday calendar for the country in '{key}'")
    code = _subdivision_code(calendar_class, subdivision)
    if code is None and subdivision.strip():
        raise ValueError(f"categories_by_location: '{subdivision}' is not a subdivision of {country}")
    supported = set(calendar_class.supported_categories)
    unknown = sorted(set(categories) - supported)
    if unknown or not categories:
        raise ValueError(
            f"categories_by_location['{key}']: {', '.join(unknown) or 'no categories'}; "
            f"the library knows {', '.join(sorted(supported))}"
        )
    return (country, code), tuple(categories)


class HolidaysCalendar:
    """Days off per work location and year from the `holidays` package, computed once per year and location."""

    def __init__(
        self,
        *,
        half_days: Sequence[tuple[int, int]] = (),
        company_days_off: Mapping[date, str] = _NO_COMPANY_DAYS_OFF,
        categories_by_location: Mapping[str, Sequence[str]] = _NO_CATEGORIES,
        language: str = "de",
    ) -> None:
        """Configure the calendar; raises ValueError for a bad half day, location key or category.

        half_days: (month, day) pairs that are half days off unless already a holiday, e.g. ((12, 24), (12, 31));
            none by default, since 24 and 31 Dec are not statutory in DE (contract or company custom decides).
        company_days_off: whole days off for everyone on top of the public holidays (e.g. Rosenmontag in Köln).
        categories_by_location: the library categories per location, keyed "DE-BY" (country-subdivision) or
            "DE" (a whole country); the most specific key wins, then DEFAULT_CATEGORIES, then ("public",).
            The `half_day` category gives half days off, every other category whole days.
        language: the language of the holiday names (German by default, as the library gives them).
        """
        for month, day in half_days:
            try:
                date(_LEAP_YEAR, month, day)
            except ValueError as exc:
                raise ValueError(f"half day {month}/{day} is not a day of the year") from exc
        self._half_days = tuple(half_days)
        self._company_days_off = dict(company_days_off)
        self._categories = dict(_location_categories(key, cats) for key, cats in categories_by_location.items())
        self._language = language
        self._years: dict[tuple[str, str | None, int], Mapping[date, DayOff]] = {}

    def days_off(self, location: WorkLocation, year: int) -> Mapping[date, DayOff]:
        """Every day off in `year` at `location`, weekends included (read-only, cached per location and year)."""
        country = location.country.strip().upper()
        calendar_class = _calendar_class(country)
        if calendar_class is None:
            raise InvalidInput(f"There is no holiday calendar for the country '{location.country}'.")
        code = _subdivision_code(calendar_class, location.subdivision)
        if code is None and location.subdivision.strip():
            raise InvalidInput(f"'{location.subdivision}' is not a subdivision of {country} with a holiday calendar.")
        cache_key = (country, code, year)
        cached = self._years.get(cache_key)
        if cached is None:
            cached = MappingProxyType(self._compute(calendar_class, country, code, year))
            self._years[cache_key] = cached
        return cached

    def _compute(
        self, calendar_class: type[holidays.HolidayBase], country: str, code: str | None, year: int
    ) -> dict[date, DayOff]:
        categories = self._categories_for(calendar_class, country, code)
        whole = [c for c in categories if c != HALF_DAY]
        half = [c for c in categories if c == HALF_DAY]
        result: dict[date, DayOff] = {}
        for day, name in self._library_days(country, code, year, whole).items():
            result[day] = DayOff(day=day, name=name, fraction=Decimal(1))
        for day, name in self._library_days(country, code, year, half).items():
            result.setdefault(day, DayOff(day=day, name=name, fraction=Decimal("0.5")))
        for month, day_of_month in self._half_days:
            try:
                day = date(year, month, day_of_month)
            except ValueError:  # 29 February outside leap years
                continue
            name = _HALF_DAY_NAMES.get((month, day_of_month), _HALF_DAY_NAME)
            result.setdefault(day, DayOff(day=day, name=name, fraction=Decimal("0.5")))
        for day, name in self._company_days_off.items():
            if day.year == year and (day not in result or result[day].fraction < 1):
                result[day] = DayOff(day=day, name=name, fraction=Decimal(1))
        return dict(sorted(result.items()))

    def _library_days(self, country: str, code: str | None, year: int, categories: Sequence[str]) -> dict[date, str]:
        if not categories:
            return {}
        found = holidays.country_holidays(
            country, subdiv=code, years=year, categories=tuple(categories), language=self._language
        )
        return {day: str(name) for day, name in found.items()}

    def _categories_for(
        self, calendar_class: type[holidays.HolidayBase], country: str, code: str | None
    ) -> tuple[str, ...]:
        for key in ((country, code), (country, None)):
            if key in self._categories:
                return self._categories[key]
        supported = set(calendar_class.supported_categories)
        return tuple(c for c in DEFAULT_CATEGORIES.get(country, (PUBLIC,)) if c in supported)
