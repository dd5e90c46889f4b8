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
      the first six months the full leave is not yet available either (see `at_accrued`).
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


def at_full_year_leave(days_per_week: Decimal, contract_days: Decimal) -> Decimal:
    """The leave of a whole leave year for someone in their first year of service (UrlG §2(1), no senior week)."""
    require_non_negative(contract_days=contract_days)
    require_days_per_week(days_per_week)
    return max(contract_days, AT_MINIMUM_WERKTAGE * days_per_week / WERKTAGE_PER_WEEK)


def at_accrued(hire_date: date, day: date, *, annual: Decimal, year_share: Decimal) -> Decimal | None:
    """The leave of the year of entry available on `day`, while it still grows (UrlG §2(2), AT-02).

    "In den ersten sechs Monaten des ersten Arbeitsjahres entsteht der Anspruch im Verhältnis zu der im Arbeitsjahr
    zurückgelegten Dienstzeit": the claim grows with every calendar day served, `annual` x days served / days of
    the year, kept to two decimals (ROUND_HALF_UP) and never above `year_share` (the year's aliquot, see
    `at_annual_entitlement`). Counted by days, not by full months, because the statute speaks of time served
    (BUrlG §5 says "für jeden vollen Monat", UrlG §2(2) does not), because ESS already counts the Austrian
    year of entry by calendar days (so the accrual ends exactly at the aliquot, with no step), and because a day
    more of service never leaves the claim where it was.

    None when nothing grows on `day`: six full months are served (the whole year's share is there, 1.3. -> from
    31.8.), or `day` lies in a later leave year (with the calendar year as leave year, the second leave year
    begins on 1 January and its leave arises whole then, AT-02). Before the entry: 0.
    """
    require_non_negative(annual=annual, year_share=year_share)
    if day.year != hire_date.year or full_months(hire_date, day) >= WAITING_MONTHS:
        return None
    if day < hire_date:
        return ZERO
    served = (day - hire_date).days + 1
    return min(year_share, (annual * served / days_in_year(day.year)).quantize(CENT, rounding=ROUND_HALF_UP))


def at_limitation_date(leave_year: int) -> date:
    """The last day the leave of `leave_year` can be taken: UrlG §4(5), two years after the end of the leave year.

    Calendar leave year: 2023 leave is lost after 31.12.2025. EuGH C-120/21 may require a warning before the EU
    minimum can lapse; that is for counsel and the same warning evidence as in Germany.
    """
    return date(leave_year + AT_LIMITATION_YEARS, 12, 31)


# ---------------------------------------------------------------------------------------------------------------------
