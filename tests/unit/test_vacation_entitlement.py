"""The yearly grant for an employee: part-time conversion, a change of pattern during the year, CH and AT."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ess.domain.hr.model import WorkLocation, WorkPattern
from ess.domain.vacation.entitlement import year_entitlement
from tests.factories import employee

FIVE = WorkPattern.first_days(5)
THREE = WorkPattern.first_days(3)


def test_a_pattern_change_on_1_july_is_counted_per_period() -> None:
    # DE-12 (BAG 9 AZR 406/17): 30 days on a 5-day week until June, a 3-day week from July: 15 + 9 = 24, not 18.
    worker = employee(
        hire_date=date(2015, 1, 1),
        annual_leave_days=Decimal(30),
        work_pattern=THREE,
        pattern_history=((date(2015, 1, 1), FIVE), (date(2026, 7, 1), THREE)),
    )
    entitlement = year_entitlement(worker, 2026)
    assert entitlement.total == Decimal(24)
    assert entitlement.statutory == Decimal(16)  # 20 x 6/12 + 12 x 6/12
    assert year_entitlement(worker, 2027).total == Decimal(18)  # the whole next year on 3 days


def test_part_timers_get_their_share_of_the_full_time_contract() -> None:
    # DE-02: 30 contract days (5-day week) at a 3-day week = 18, no rounding; the statutory part 12 (24 x 3/6).
    part_timer = employee(hire_date=date(2015, 1, 1), annual_leave_days=Decimal(30), work_pattern=THREE)
    assert year_entitlement(part_timer, 2026).total == Decimal(18)
    assert year_entitlement(part_timer, 2026).statutory == Decimal(12)
    odd = employee(hire_date=date(2015, 1, 1), annual_leave_days=Decimal(26), work_pattern=THREE)
    assert year_entitlement(odd, 2026).total == Decimal("15.6")


def test_austria_and_switzerland() -> None:
    vienna = employee(
        hire_date=date(2015, 1, 1),
        annual_leave_days=Decimal(25),
        work_pattern=THREE,
        location=WorkLocation("AT", "9"),
    )
    assert year_entitlement(vienna, 2026).total == Decimal(15)  # 30 Werktage x 3/6
    apprentice = employee(
        hire_date=date(2024, 8, 1),
        birth_date=date(2008, 5, 14),
        annual_leave_days=Decimal(20),
        location=WorkLocation("CH", "ZH"),
    )
    assert year_entitlement(apprentice, 2026).total == Decimal(25)  # OR 329a: five weeks before the 20th birthday


def test_the_pattern_in_force_on_a_day() -> None:
    worker = employee(work_pattern=THREE, pattern_history=((date(2020, 1, 1), FIVE), (date(2026, 7, 1), THREE)))
    assert worker.pattern_on(date(2026, 6, 30)) == FIVE
    assert worker.pattern_on(date(2026, 7, 1)) == THREE
    assert worker.pattern_on(date(2019, 1, 1)) == FIVE
    assert worker.pattern_periods(date(2026, 1, 1), date(2026, 12, 31)) == [
        (date(2026, 1, 1), date(2026, 6, 30), FIVE),
        (date(2026, 7, 1), date(2026, 12, 31), THREE),
    ]


def test_a_pattern_change_in_the_year_of_entry_counts_only_months_employed() -> None:
    # Hired 1 September on 5 days, 3 days from 1 November: Sep-Oct 30 x 2/12 = 5, Nov-Dec 30 x 3/5 x 2/12 = 3.
    joiner = employee(
        hire_date=date(2026, 9, 1),
        annual_leave_days=Decimal(30),
        work_pattern=THREE,
        pattern_history=((date(2026, 9, 1), FIVE), (date(2026, 11, 1), THREE)),
    )
    assert year_entitlement(joiner, 2026).total == Decimal(8)
    vienna = employee(
        hire_date=date(2015, 1, 1),
        annual_leave_days=Decimal(25),
        work_pattern=THREE,
        location=WorkLocation("AT", "9"),
        pattern_history=((date(2015, 1, 1), FIVE), (date(2026, 7, 1), THREE)),
    )
    assert year_entitlement(vienna, 2026).total == Decimal(20)  # EuGH C-486/08: 12.5 earned at 5 days + 7.5 at 3


def test_the_entitlement_is_in_the_ledgers_unit_so_a_recomputation_finds_no_difference() -> None:
    # 27.33 contractual days on a 3-day week: 27.33 x 3/5 = 16.398 (BAG: part-time share without rounding), which
    # the ledger stores as 16.40; the figure ESS compares with the booked one must be the same 16.40.
    part_timer = employee(annual_leave_days=Decimal("27.33"), work_pattern=WorkPattern.first_days(3))
    entitlement = year_entitlement(part_timer, 2026)
    assert entitlement.total == Decimal("16.40")
    assert entitlement.statutory == Decimal(12)  # 24 Werktage x 3/6
    assert entitlement.contractual_extra == Decimal("4.40")
