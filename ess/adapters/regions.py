"""Country subdivisions known to the `holidays` package (the codes that decide public holidays)."""

from __future__ import annotations

from functools import cache

import holidays


@cache
def _subdivisions(country: str) -> frozenset[str]:
    try:
        calendar_class = holidays.country_holidays(country).__class__
    except NotImplementedError:
        return frozenset()
    return frozenset(str(code).upper() for code in getattr(calendar_class, "subdivisions", ()))


class HolidaysRegions:
    def is_known(self, country: str, subdivision: str) -> bool:
        return subdivision.upper() in _subdivisions(country.upper())
