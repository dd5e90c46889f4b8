"""The yearly entitlement by the law of the work location, and its booking in the ledger (the year's grants)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from ess.domain.errors import InvalidInput
from ess.domain.hr.model import Employee
from ess.domain.shared import Clock
from ess.domain.types import EmployeeId
from ess.domain.vacation import rules
from ess.domain.vacation.law_at import at_accrued, at_annual_entitlement, at_full_year_leave
from ess.domain.vacation.law_ch import ch_annual_entitlement
from ess.domain.vacation.law_de import de_annual_entitlement
from ess.domain.vacation.model import ZERO, EntryType, LedgerEntry

FULL_TIME_DAYS = Decimal(5)
# §3 BUrlG: 24 Werktage = 20 days on a 5-day week; the statutory part of a year counted by periods.
DE_STATUTORY_FULL_TIME = Decimal(20)
# The statutory minimum on a 5-day week: CH 4 weeks (OR 329a), AT 30 Werktage (UrlG §2).
STATUTORY_FULL_TIME = {"DE": DE_STATUTORY_FULL_TIME, "CH": Decimal(20), "AT": Decimal(25)}


def _with_minimum(entitlement_for: Callable[[Decimal], Decimal], contract: Decimal) -> rules.Entitlement:
    """Split a CH/AT entitlement into the statutory minimum (what a contract of 0 days gets) and the extra."""
    total, minimum = entitlement_for(contract), entitlement_for(ZERO)
    return rules.Entitlement(statutory=min(minimum, total), contractual_extra=max(total - minimum, ZERO))


def year_entitlement(employee: Employee, year: int) -> rules.Entitlement:
    """The statutory and contractual days of a leave year, by the law of the work location, in the ledger's unit
    (hundredths of a day, ROUND_HALF_UP, as the ledger stores them: booked and recomputed figures compare exactly)."""
    exact = _exact_year_entitlement(employee, year)
    statutory = exact.statutory.quantize(rules.CENT, rounding=ROUND_HALF_UP)
    total = exact.total.quantize(rules.CENT, rounding=ROUND_HALF_UP)
    return rules.Entitlement(statutory=statutory, contractual_extra=total - statutory)


def _exact_year_entitlement(employee: Employee, year: int) -> rules.Entitlement:
    """The statutory and contractual days of a leave year, by the law of the work location.

    `annual_leave_days` is the contract's figure for a 5-day week; part-time patterns get their share without rounding
    (BAG: DE-02). A pattern change during the year is counted per period (EuGH C-415/12, BAG 9 AZR 406/17).
    """
    year_periods = employee.pattern_periods(date(year, 1, 1), date(year, 12, 31))
    pattern = year_periods[-1][2] if year_periods else employee.work_pattern
    days_per_week = pattern.days_per_week
    contract = rules.convert_part_time(employee.annual_leave_days, days_per_week, FULL_TIME_DAYS)
    country = employee.location.country
    if len({p.days_per_week for _, _, p in year_periods}) > 1:
        # Each period earns at its own pattern, by full months (EuGH C-486/08 for AT, C-415/12 / BAG for DE);
        # within a year of entry or exit the months outside employment earn nothing.
        periods = [(start, end, p.days_per_week) for start, end, p in year_periods]
        full_time_minimum = STATUTORY_FULL_TIME.get(country, DE_STATUTORY_FULL_TIME)
        total = rules.entitlement_by_periods(periods, year=year, contract_days_full_time=employee.annual_leave_days)
        statutory = rules.entitlement_by_periods(periods, year=year, contract_days_full_time=full_time_minimum)
        total = max(total, statutory)
        return rules.Entitlement(statutory=statutory, contractual_extra=total - statutory)
    if country == "CH":
        return _with_minimum(
            lambda days: ch_annual_entitlement(
                year,
                hire_date=employee.hire_date,
                exit_date=employee.exit_date,
                birth_date=employee.birth_date,
                days_per_week=days_per_week,
                contract_days=days,
            ),
            contract,
        )
    if country == "AT":
        return _with_minimum(
            lambda days: at_annual_entitlement(
                year,
                hire_date=employee.hire_date,
                exit_date=employee.exit_date,
                days_per_week=days_per_week,
                contract_days=days,
            ),
            contract,
        )
    return de_annual_entitlement(
        year,
        hire_date=employee.hire_date,
        exit_date=employee.exit_date,
        contract_days=contract,
        days_per_week=days_per_week,
    )


def accrued_on(employee: Employee, day: date) -> Decimal | None:
    """How much of the year's leave has arisen by `day` while it still grows (Austria, UrlG §2(2): the first six
    months of the year of entry); None when the whole year's leave is there."""
    if employee.location.country != "AT":
        return None
    pattern = employee.pattern_on(day)
    contract = rules.convert_part_time(employee.annual_leave_days, pattern.days_per_week, FULL_TIME_DAYS)
    return at_accrued(
        employee.hire_date,
        day,
        annual=at_full_year_leave(pattern.days_per_week, contract),
        year_share=year_entitlement(employee, day.year).total,
    )


def accrual_complete_on(employee: Employee) -> date:
    """The day the year of entry's leave has wholly arisen (UrlG §2(2)): six full months served, or the end of
    the year of entry, whichever comes first."""
    return min(rules.end_of_nth_month(employee.hire_date, rules.WAITING_MONTHS), date(employee.hire_date.year, 12, 31))


def check_year(employee: Employee, year: int, clock: Clock) -> None:
    """Leave years ESS books: from the year of hire to the next calendar year (later ones would be granted on
    today's contract data, which HR may still change)."""
    last = min(clock.today().year + 1, employee.exit_date.year if employee.exit_date else 9999)
    if not employee.hire_date.year <= year <= last:
        raise InvalidInput(
            "Leave can be shown and requested for the years %(first)s to %(last)s.",
            fields={"as_of": "year"},
            rule="leave_year_out_of_range",
            params={"first": employee.hire_date.year, "last": last},
        )


def ledger_entry(
    bucket_id: int,
    employee_id: EmployeeId,
    day: date,
    amount: Decimal,
    entry_type: EntryType,
    *,
    author: str,
    clock: Clock,
    reason: str,
) -> LedgerEntry:
    return LedgerEntry(
        bucket_id=bucket_id,
        employee_id=employee_id,
        effective_date=day,
        amount=amount,
        entry_type=entry_type,
        created_by=author,
        created_at=clock.now(),
        reason=reason,
    )
