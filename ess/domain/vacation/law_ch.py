"""The leave law of Switzerland (OR 329a ff.) as pure functions: entitlement and limitation."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from ess.domain.vacation.rules import (
    ZERO,
    days_in_year,
    employment_in_year,
    require_days_per_week,
    require_non_negative,
    year_bounds,
)

# OR 329a(1): four weeks, five until the 20th birthday.
CH_MINIMUM_WEEKS: Final = Decimal(4)
CH_YOUTH_WEEKS: Final = Decimal(5)
CH_YOUTH_AGE_LIMIT: Final = 20
# OR 128 Ziff. 3: claims from employment are time-barred after five years.
CH_LIMITATION_YEARS: Final = 5

# Switzerland: OR
# ---------------------------------------------------------------------------------------------------------------------


def _age_on(birth_date: date, day: date) -> int:
    had_birthday = (day.month, day.day) >= (birth_date.month, birth_date.day)
    return day.year - birth_date.year - (0 if had_birthday else 1)


def _round_to_half_day(days: Decimal) -> Decimal:
    return (days * 2).quantize(Decimal(1), rounding=ROUND_HALF_UP) / 2


def ch_annual_entitlement(
    year: int,
    *,
    hire_date: date,
    exit_date: date | None,
    birth_date: date | None,
    days_per_week: Decimal,
    contract_days: Decimal,
) -> Decimal:
    """The leave for calendar `year` under OR 329a, in working days of a `days_per_week` pattern.

    - Minimum (329a(1)): 4 weeks = 4 x days_per_week; 5 weeks in a year in which the employee is under 20 on
      1 January (the law says "bis zum vollendeten 20. Altersjahr"; the year's status is fixed at its start).
    - The entitlement is max(contract_days, minimum).
    - Partial year (329a(3)): pro rata to the calendar days employed in the year / the days of the year.
    - Rounding is our choice, the law sets none: a partial year is rounded to the nearest half day (ROUND_HALF_UP),
      because leave is booked in half days (joins 1 July with 20 days: 20 x 184/365 = 10.08 -> 10). A full year is
      not rounded.

    The leave year is the calendar year, as most contracts agree, instead of the service year of the statute.
    """
    require_non_negative(contract_days=contract_days)
    require_days_per_week(days_per_week)
    employed = employment_in_year(year, hire_date, exit_date)
    if employed is None:
        return ZERO
    first, _ = year_bounds(year)
    young = birth_date is not None and _age_on(birth_date, first) < CH_YOUTH_AGE_LIMIT
    minimum = (CH_YOUTH_WEEKS if young else CH_MINIMUM_WEEKS) * days_per_week
    annual = max(contract_days, minimum)
    start, end = employed
    days_employed = (end - start).days + 1
    if days_employed == days_in_year(year):
        return annual
    return _round_to_half_day(annual * days_employed / days_in_year(year))


def ch_limitation_date(leave_year: int) -> date:
    """The last day the leave of `leave_year` can be claimed: OR 128 Ziff. 3, five years.

    Counted from the end of the leave year (31.12. of leave_year + 5), the date by which the leave had to be granted.
    """
    return date(leave_year + CH_LIMITATION_YEARS, 12, 31)


# ---------------------------------------------------------------------------------------------------------------------
