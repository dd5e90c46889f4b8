"""The leave law of Austria (UrlG) as pure functions: entitlement, first-year accrual and limitation."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from ess.domain.vacation.rules import (
    CENT,
    MONTHS_PER_YEAR,
    WAITING_MONTHS,
    WERKTAGE_PER_WEEK,
    ZERO,
    days_in_year,
    employment_in_year,
    end_of_nth_month,
    full_months,
    require_days_per_week,
    require_non_negative,
)

# UrlG §2(1): 30 Werktage, 36 after 25 years of service.
AT_MINIMUM_WERKTAGE: Final = Decimal(30)
AT_SENIOR_WERKTAGE: Final = Decimal(36)
AT_SENIOR_SERVICE_YEARS: Final = 25
# UrlG §4(5): the claim is time-barred two years after the end of the leave year in which it arose.
AT_LIMITATION_YEARS: Final = 2

# Austria: UrlG
# ---------------------------------------------------------------------------------------------------------------------


def _at_senior(year: int, hire_date: date, prior_service_years: int) -> bool:
    missing_years = AT_SENIOR_SERVICE_YEARS - prior_service_years
    if missing_years <= 0:
        return True
    start_of_26th_year = end_of_nth_month(hire_date, missing_years * MONTHS_PER_YEAR) + timedelta(days=1)
    # UrlG §2(1) "erhöht sich nach Vollendung des 25. Jahres": read as from the first leave year that begins
    # after the 25th year is completed - with the work year as leave year (the statute's default, §2(1)) that is
    # the 26th work year; many KV instead grant it in the calendar year in which the 25th year is completed.
    return start_of_26th_year <= date(year, 1, 1)


def at_annual_entitlement(
    year: int,
    *,
    hire_date: date,
    exit_date: date | None,
    days_per_week: Decimal,
    contract_days: Decimal,
    prior_service_years: int = 0,
) -> Decimal:
    """The leave for calendar `year` under UrlG §2, in working days of a `days_per_week` pattern.

    - Minimum: 30 Werktage = 30 x d / 6 (25 on a 5-day week); 36 Werktage (30 on a 5-day week) from the first
      leave year that begins after 25 years of service are completed, counting `prior_service_years` recognised
      under §3. This is the statutory reading of "nach Vollendung des 25. Jahres"; a KV that grants the sixth
      week already in the year of completion needs a contractual figure.
    - The entitlement is max(contract_days, minimum).
    - Leave year: the calendar year, which UrlG §2(4) allows by KV or works agreement instead of the work year.
    - In the calendar year of entry or exit the year's leave is aliquot: calendar days employed / days of the
      year, kept to two decimals (ROUND_HALF_UP). For the exit year that is the share §10 UrlG pays out; within
      the first six months the full leave is not yet available either (see `at_available_first_year`).
    """
    require_non_negative(contract_days=contract_days)
    require_days_per_week(days_per_week)
    if prior_service_years < 0:
        raise ValueError("prior_service_years must be >= 0.")
    employed = employment_in_year(year, hire_date, exit_date)
    if employed is None:
        return ZERO
    werktage = AT_SENIOR_WERKTAGE if _at_senior(year, hire_date, prior_service_years) else AT_MINIMUM_WERKTAGE
    annual = max(contract_days, werktage * days_per_week / WERKTAGE_PER_WEEK)
    start, end = employed
    days_employed = (end - start).days + 1
    if days_employed == days_in_year(year):
        return annual
    return (annual * days_employed / days_in_year(year)).quantize(CENT, rounding=ROUND_HALF_UP)


def at_available_first_year(hire_date: date, as_of: date, annual: Decimal) -> Decimal:
    """The leave available on `as_of` in the first six months after `hire_date` (UrlG §2(2)).

    While fewer than six full months are served it grows by 1/12 of `annual` per full month (3 months, 25 days ->
    6.25), kept to two decimals (ROUND_HALF_UP); from six months on it is `annual`. `annual` is the leave of the
    year being served; with a calendar leave year pass the entry year's aliquot (`at_annual_entitlement`).
    """
    require_non_negative(annual=annual)
    months = full_months(hire_date, as_of)
    if months >= WAITING_MONTHS:
        return annual
    return (annual * months / MONTHS_PER_YEAR).quantize(CENT, rounding=ROUND_HALF_UP)


def at_limitation_date(leave_year: int) -> date:
    """The last day the leave of `leave_year` can be taken: UrlG §4(5), two years after the end of the leave year.

    Calendar leave year: 2023 leave is lost after 31.12.2025. EuGH C-120/21 may require a warning before the EU
    minimum can lapse; that is for counsel and the same warning evidence as in Germany.
    """
    return date(leave_year + AT_LIMITATION_YEARS, 12, 31)


# ---------------------------------------------------------------------------------------------------------------------
