"""The leave law of DE, CH and AT, table-driven: each case names its rule from the leave reference (section 4)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ess.domain.vacation.law_at import at_accrued, at_annual_entitlement, at_full_year_leave, at_limitation_date
from ess.domain.vacation.law_ch import ch_annual_entitlement, ch_limitation_date
from ess.domain.vacation.law_de import (
    ExpiryWarning,
    de_annual_entitlement,
    de_expiry_date,
    de_statutory_minimum,
    round_partial_leave,
)
from ess.domain.vacation.rules import (
    BucketBalance,
    Entitlement,
    allocate,
    convert_part_time,
    entitlement_by_periods,
    full_months,
)

D = Decimal


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param(date(2024, 7, 15), date(2024, 12, 14), 5, id="DE-04 15.7.-14.12."),
        pytest.param(date(2024, 7, 15), date(2024, 12, 31), 5, id="DE-04 15.7.-31.12."),
        pytest.param(date(2024, 7, 1), date(2024, 12, 31), 6, id="DE-04 1.7.-31.12."),
        pytest.param(date(2024, 1, 1), date(2024, 5, 31), 5, id="DE-06 1.1.-31.5."),
        pytest.param(date(2024, 1, 1), date(2024, 7, 31), 7, id="DE-06 1.1.-31.7."),
        pytest.param(date(2023, 1, 31), date(2023, 2, 28), 1, id="BGB 188(3) 31.1.-28.2."),
        pytest.param(date(2024, 1, 31), date(2024, 2, 28), 0, id="BGB 188(3) leap year 31.1.-28.2."),
        pytest.param(date(2024, 1, 30), date(2024, 2, 29), 1, id="BGB 188(3) 30.1.-29.2."),
        pytest.param(date(2023, 9, 1), date(2024, 8, 31), 12, id="across the year"),
        pytest.param(date(2024, 7, 1), date(2024, 7, 1), 0, id="one day"),
        pytest.param(date(2024, 7, 1), date(2024, 6, 30), 0, id="empty"),
    ],
)
def test_full_months(start: date, end: date, expected: int) -> None:
    assert full_months(start, end) == expected


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        pytest.param(D("12.5"), D(13), id="DE-05 12.5 -> 13"),
        pytest.param(D("8.33"), D("8.33"), id="DE-05 8.33 stays"),
        pytest.param(D(100) / 12, D("8.33"), id="DE-05 8.333... stays as 8.33"),
        pytest.param(D("1.75"), D(2), id="DE-05 1.75 -> 2"),
        pytest.param(D(20), D(20), id="DE-05 whole days stay"),
        pytest.param(D("6.67"), D(7), id="DE-05 6.67 -> 7"),
        pytest.param(D("0.4"), D("0.4"), id="DE-05 below half a day is not dropped"),
        pytest.param(D(0), D(0), id="zero"),
    ],
)
def test_round_partial_leave(days: Decimal, expected: Decimal) -> None:
    assert round_partial_leave(days) == expected


def test_round_partial_leave_rejects_negative_days() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        round_partial_leave(D(-1))


@pytest.mark.parametrize(
    ("days_per_week", "expected"),
    [
        pytest.param(D(5), D(20), id="DE-01 5 days"),
        pytest.param(D(4), D(16), id="DE-01 4 days"),
        pytest.param(D(3), D(12), id="DE-01 3 days"),
        pytest.param(D(2), D(8), id="DE-01 2 days"),
        pytest.param(D(1), D(4), id="DE-01 1 day"),
        pytest.param(D(6), D(24), id="DE-01 6 days = 24 Werktage"),
        pytest.param(D("4.5"), D(18), id="DE-01 4.5 days"),
    ],
)
def test_de_statutory_minimum(days_per_week: Decimal, expected: Decimal) -> None:
    assert de_statutory_minimum(days_per_week) == expected


@pytest.mark.parametrize("days_per_week", [D(0), D(8), D("NaN")])
def test_de_statutory_minimum_rejects_impossible_weeks(days_per_week: Decimal) -> None:
    with pytest.raises(ValueError, match="days_per_week"):
        de_statutory_minimum(days_per_week)


@pytest.mark.parametrize(
    ("contract_days", "part", "full", "expected"),
    [
        pytest.param(D(26), D(3), D(5), D("15.6"), id="DE-02 26 days at 3 days -> 15.6, not 16"),
        pytest.param(D(30), D(3), D(5), D(18), id="DE-02 30 days at 3 days"),
        pytest.param(D(30), D("2.5"), D(5), D(15), id="DE-02 half days"),
        pytest.param(D(24), D(3), D(6), D(12), id="DE-02 from a 6-day week"),
    ],
)
def test_convert_part_time(contract_days: Decimal, part: Decimal, full: Decimal, expected: Decimal) -> None:
    assert convert_part_time(contract_days, part, full) == expected


def test_entitlement_total_is_statutory_plus_extra() -> None:
    assert Entitlement(statutory=D("8.33"), contractual_extra=D("4.67")).total == D(13)


@pytest.mark.parametrize(
    ("year", "hire", "exit_", "contract", "days_per_week", "pro_rata", "statutory", "total"),
    [
        # DE-04: entry in the second half; 1 July counts as second half (the waiting period ends on 31 Dec).
        pytest.param(2024, date(2024, 7, 1), None, D(30), D(5), True, D(10), D(15), id="DE-04 joins 1 July"),
        pytest.param(2024, date(2024, 7, 15), None, D(30), D(5), True, D("8.33"), D(13), id="DE-04 joins 15 July"),
        pytest.param(2024, date(2024, 6, 30), None, D(30), D(5), True, D(20), D(30), id="DE-04 joins 30 June: full"),
        pytest.param(2024, date(2024, 9, 1), None, D(30), D(5), True, D(7), D(10), id="DE-04 DE-08 joins 1 Sep"),
        # DE-03: the waiting period is served once; from the next year on the full leave arises on 1 January.
        pytest.param(2024, date(2023, 9, 1), None, D(30), D(5), True, D(20), D(30), id="DE-03 second year full"),
        pytest.param(
            2024, date(2023, 9, 1), date(2024, 1, 31), D(30), D(5), True, D(2), D(3), id="DE-03 DE-06 exit in wait"
        ),
        pytest.param(
            2023, date(2023, 9, 1), date(2024, 1, 31), D(30), D(5), True, D(7), D(10), id="DE-03 entry year of it"
        ),
        # DE-06: exit.
        pytest.param(
            2024, date(2015, 4, 1), date(2024, 5, 31), D(30), D(5), True, D("8.33"), D(13), id="DE-06 exit 31 May"
        ),
        pytest.param(
            2024, date(2015, 4, 1), date(2024, 7, 31), D(30), D(5), True, D(20), D(20), id="DE-06 exit 31 July"
        ),
        pytest.param(
            2024,
            date(2015, 4, 1),
            date(2024, 7, 31),
            D(30),
            D(5),
            False,
            D(20),
            D(30),
            id="DE-06 exit 31 July, no pro-rata clause",
        ),
        pytest.param(
            2024, date(2024, 1, 1), date(2024, 6, 30), D(30), D(5), True, D(10), D(15), id="DE-06 5(1)c 1.1.-30.6."
        ),
        pytest.param(
            2024, date(2024, 3, 1), date(2024, 7, 31), D(30), D(5), True, D("8.33"), D(13), id="DE-06 exit H2 in wait"
        ),
        pytest.param(
            2024, date(2024, 1, 1), date(2024, 8, 31), D(30), D(5), True, D(20), D(20), id="DE-06 exit H2 entry year"
        ),
        # Part time and contracts below the minimum.
        pytest.param(2024, date(2020, 1, 1), None, D(18), D(3), True, D(12), D(18), id="DE-01 DE-02 3-day week"),
        pytest.param(2024, date(2024, 7, 1), None, D(18), D(3), True, D(6), D(9), id="DE-04 3-day week joins 1 July"),
        pytest.param(2024, date(2020, 1, 1), None, D(15), D(5), True, D(20), D(20), id="DE-01 contract below minimum"),
        # Not employed in the year.
        pytest.param(2023, date(2024, 1, 1), None, D(30), D(5), True, D(0), D(0), id="before entry"),
        pytest.param(2024, date(2015, 4, 1), date(2023, 12, 31), D(30), D(5), True, D(0), D(0), id="after exit"),
    ],
)
def test_de_annual_entitlement(
    *,
    year: int,
    hire: date,
    exit_: date | None,
    contract: Decimal,
    days_per_week: Decimal,
    pro_rata: bool,
    statutory: Decimal,
    total: Decimal,
) -> None:
    entitlement = de_annual_entitlement(
        year,
        hire_date=hire,
        exit_date=exit_,
        contract_days=contract,
        days_per_week=days_per_week,
        pro_rata_on_exit=pro_rata,
    )
    assert (entitlement.statutory, entitlement.total) == (statutory, total)
    assert entitlement.contractual_extra == total - statutory


def test_de_annual_entitlement_rejects_exit_before_hire() -> None:
    with pytest.raises(ValueError, match="exit_date"):
        de_annual_entitlement(
            2024, hire_date=date(2024, 5, 1), exit_date=date(2024, 4, 30), contract_days=D(30), days_per_week=D(5)
        )


@pytest.mark.parametrize(
    ("periods", "expected"),
    [
        pytest.param(
            [(date(2024, 1, 1), date(2024, 6, 30), D(5)), (date(2024, 7, 1), date(2024, 12, 31), D(3))],
            D(24),
            id="DE-12 5 days Jan-Jun, 3 days from July: 15 + 9, not 18",
        ),
        pytest.param(
            [(date(2024, 1, 1), date(2024, 6, 30), D(3)), (date(2024, 7, 1), date(2024, 12, 31), D(5))],
            D(24),
            id="DE-12 3 days Jan-Jun, 5 days from July: 9 + 15",
        ),
        pytest.param([(date(2020, 1, 1), date(2030, 12, 31), D(5))], D(30), id="DE-12 one pattern all year"),
        pytest.param(
            [(date(2024, 1, 1), date(2024, 4, 30), D(5)), (date(2024, 5, 1), date(2024, 12, 31), D(4))],
            D(26),
            id="DE-12 4 months at 5 days, 8 at 4: 10 + 16",
        ),
        pytest.param(
            [(date(2024, 7, 1), date(2099, 12, 31), D(5))], D(15), id="DE-12 periods cover part of the year only"
        ),
    ],
)
def test_entitlement_by_periods(periods: list[tuple[date, date, Decimal]], expected: Decimal) -> None:
    assert entitlement_by_periods(periods, year=2024, contract_days_full_time=D(30)) == expected


def test_entitlement_by_periods_rejects_overlaps() -> None:
    periods = [(date(2024, 1, 1), date(2024, 7, 1), D(5)), (date(2024, 7, 1), date(2024, 12, 31), D(3))]
    with pytest.raises(ValueError, match="overlap"):
        entitlement_by_periods(periods, year=2024, contract_days_full_time=D(30))


@pytest.mark.parametrize(
    ("year", "hire", "exit_", "birth", "days_per_week", "contract", "expected"),
    [
        pytest.param(2024, date(2020, 1, 1), None, None, D(5), D(20), D(20), id="CH-01 5-day week"),
        pytest.param(2024, date(2020, 1, 1), None, date(2004, 6, 15), D(5), D(20), D(25), id="CH-01 19-year-old"),
        pytest.param(2024, date(2020, 1, 1), None, None, D(3), D(0), D(12), id="CH-01 3-day week, still 4 weeks"),
        pytest.param(2024, date(2020, 1, 1), None, date(1990, 1, 1), D(5), D(25), D(25), id="CH-01 contract above"),
        pytest.param(2024, date(2020, 1, 1), None, date(2004, 1, 1), D(5), D(20), D(20), id="CH-01 20 on 1 January"),
        pytest.param(2023, date(2023, 7, 1), None, None, D(5), D(20), D(10), id="CH-02 joins 1 July, 20 days"),
        pytest.param(2024, date(2024, 7, 1), None, None, D(5), D(20), D(10), id="CH-02 joins 1 July, leap year"),
        pytest.param(2023, date(2023, 10, 1), None, None, D(5), D(25), D("6.5"), id="CH-02 92/365 x 25 -> half day"),
        pytest.param(2024, date(2020, 1, 1), date(2024, 6, 30), None, D(5), D(20), D(10), id="CH-02 exit 30 June"),
        pytest.param(2024, date(2025, 1, 1), None, None, D(5), D(20), D(0), id="not employed"),
    ],
)
def test_ch_annual_entitlement(
    *,
    year: int,
    hire: date,
    exit_: date | None,
    birth: date | None,
    days_per_week: Decimal,
    contract: Decimal,
    expected: Decimal,
) -> None:
    actual = ch_annual_entitlement(
        year, hire_date=hire, exit_date=exit_, birth_date=birth, days_per_week=days_per_week, contract_days=contract
    )
    assert actual == expected


@pytest.mark.parametrize(
    ("year", "hire", "exit_", "days_per_week", "contract", "prior", "expected"),
    [
        pytest.param(2024, date(2020, 1, 1), None, D(5), D(0), 0, D(25), id="AT-01 5-day week: 30 Werktage = 25"),
        pytest.param(2024, date(2020, 1, 1), None, D(6), D(0), 0, D(30), id="AT-01 6-day week"),
        pytest.param(2024, date(2020, 1, 1), None, D(4), D(0), 0, D(20), id="AT-01 4-day week"),
        pytest.param(2024, date(2020, 1, 1), None, D(5), D(27), 0, D(27), id="AT-01 contract above minimum"),
        # The sixth week: from the first leave year that begins after the 25th year of service is completed.
        pytest.param(2024, date(1999, 1, 1), None, D(5), D(0), 0, D(30), id="AT-01 25 years done on 31.12.2023"),
        pytest.param(2024, date(1999, 1, 2), None, D(5), D(0), 0, D(25), id="AT-01 25 years done on 1.1.2024"),
        pytest.param(2025, date(1999, 1, 2), None, D(5), D(0), 0, D(30), id="AT-01 the year after completion"),
        pytest.param(2024, date(2009, 1, 1), None, D(5), D(0), 10, D(30), id="AT-01 prior service counts"),
        pytest.param(2024, date(2024, 1, 1), None, D(5), D(0), 25, D(30), id="AT-01 prior service alone"),
        pytest.param(2024, date(1999, 1, 1), None, D(4), D(0), 0, D(24), id="AT-01 36 Werktage on a 4-day week"),
        # Calendar leave year: aliquot in the years of entry and exit.
        pytest.param(2023, date(2023, 7, 1), None, D(5), D(0), 0, D("12.60"), id="AT-03 entry year 184/365"),
        pytest.param(2024, date(2020, 1, 1), date(2024, 6, 30), D(5), D(0), 0, D("12.43"), id="AT-03 exit year"),
        pytest.param(2024, date(2025, 1, 1), None, D(5), D(0), 0, D(0), id="not employed"),
    ],
)
def test_at_annual_entitlement(
    *,
    year: int,
    hire: date,
    exit_: date | None,
    days_per_week: Decimal,
    contract: Decimal,
    prior: int,
    expected: Decimal,
) -> None:
    actual = at_annual_entitlement(
        year,
        hire_date=hire,
        exit_date=exit_,
        days_per_week=days_per_week,
        contract_days=contract,
        prior_service_years=prior,
    )
    assert actual == expected


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        # Entry 1.3.2024 (a leap year), 25 days a year; the year's aliquot is 25 x 306/366 = 20.90.
        pytest.param(date(2024, 3, 1), D("0.07"), id="AT-02 UrlG §2(2) first day: 1 day served"),
        pytest.param(date(2024, 5, 31), D("6.28"), id="AT-02 UrlG §2(2) 92 days served -> 25 x 92/366"),
        pytest.param(date(2024, 8, 30), D("12.50"), id="AT-02 UrlG §2(2) 183 days served"),
        pytest.param(date(2024, 8, 31), None, id="AT-02 UrlG §2(2) six full months: the whole share is there"),
        pytest.param(date(2024, 12, 31), None, id="AT-02 UrlG §2(2) later in the year of entry"),
        pytest.param(date(2025, 1, 10), None, id="AT-02 second leave year: arises whole on 1 January"),
        pytest.param(date(2024, 2, 1), D(0), id="AT-02 UrlG §2(2) before entry"),
    ],
)
def test_at_accrued_first_six_months_by_days(as_of: date, expected: Decimal | None) -> None:
    assert at_accrued(date(2024, 3, 1), as_of, annual=D(25), year_share=D("20.90")) == expected


def test_at_accrued_never_exceeds_the_years_share() -> None:
    # Entry 1.11.2024: the year of entry ends before six months are served; the claim stops at the aliquot.
    share = at_annual_entitlement(
        2024, hire_date=date(2024, 11, 1), exit_date=None, days_per_week=D(5), contract_days=D(25)
    )
    assert share == D("4.17")  # 25 x 61/366
    assert at_accrued(date(2024, 11, 1), date(2024, 12, 31), annual=D(25), year_share=share) == share


def test_at_full_year_leave_is_the_minimum_or_the_contract() -> None:
    assert at_full_year_leave(D(5), D(0)) == 25  # UrlG §2(1): 30 Werktage on a 5-day week
    assert at_full_year_leave(D(4), D(0)) == 20
    assert at_full_year_leave(D(5), D(27)) == 27


def _warning(sent_on: date, deadline: date, days: str = "5") -> ExpiryWarning:
    return ExpiryWarning(sent_on=sent_on, days_stated=D(days), deadline_stated=deadline)


@pytest.mark.parametrize(
    ("leave_year", "warnings", "transfer", "ill", "worked_unwarned", "expected"),
    [
        # DE-09: 5 days left from 2023 and no warning: they do not lapse (still there on 1 Apr 2024).
        pytest.param(2023, [], True, False, False, None, id="DE-09 no warning, transferred: no lapse"),
        pytest.param(2023, [], False, False, False, None, id="DE-09 no warning: no lapse"),
        # DE-09: the unwarned days joined 2024's leave; a warning on 10 Jan 2024 names 5 days and 31.12.2024.
        pytest.param(
            2024,
            [_warning(date(2024, 1, 10), date(2024, 12, 31))],
            False,
            False,
            False,
            date(2024, 12, 31),
            id="DE-09 warned 10.1.2024 for 31.12.2024: lapses after 31.12.2024",
        ),
        pytest.param(
            2024,
            [_warning(date(2024, 1, 10), date(2024, 12, 31))],
            True,
            False,
            False,
            None,
            id="DE-09 transferred, but the warning named 31.12.2024: no lapse",
        ),
        pytest.param(
            2024,
            [_warning(date(2024, 1, 10), date(2025, 3, 31))],
            True,
            False,
            False,
            date(2025, 3, 31),
            id="DE-09 transferred, warning names 31.3.2025: lapses after 31.3.2025",
        ),
        pytest.param(
            2024,
            [_warning(date(2024, 12, 1), date(2024, 12, 31))],
            False,
            False,
            False,
            None,
            id="DE-09 warning not in good time (30 days)",
        ),
        pytest.param(
            2024,
            [_warning(date(2024, 10, 2), date(2024, 12, 31))],
            False,
            False,
            False,
            date(2024, 12, 31),
            id="DE-09 warning exactly 90 days ahead",
        ),
        pytest.param(
            2024,
            [_warning(date(2024, 1, 10), date(2024, 12, 31), days="0")],
            False,
            False,
            False,
            None,
            id="DE-09 warning without a number of days",
        ),
        # DE-11: long-term illness.
        pytest.param(2023, [], True, True, False, date(2025, 3, 31), id="DE-11 ill from 1.1.2023 throughout"),
        pytest.param(2023, [], True, True, True, None, id="DE-11 worked Jan-Jun unwarned, ill from July"),
        pytest.param(
            2023,
            [_warning(date(2023, 2, 1), date(2024, 3, 31))],
            True,
            True,
            False,
            date(2025, 3, 31),
            id="DE-11 worked Jan-Jun, warned before the illness",
        ),
    ],
)
def test_de_expiry_date(
    *,
    leave_year: int,
    warnings: list[ExpiryWarning],
    transfer: bool,
    ill: bool,
    worked_unwarned: bool,
    expected: date | None,
) -> None:
    actual = de_expiry_date(
        leave_year,
        warnings=warnings,
        transfer=transfer,
        ill_throughout=ill,
        worked_before_illness_without_warning=worked_unwarned,
    )
    assert actual == expected


@pytest.mark.parametrize(
    ("leave_year", "expected"),
    [
        pytest.param(2023, date(2025, 12, 31), id="AT-04 2023 leave lost after 31.12.2025"),
        pytest.param(2024, date(2026, 12, 31), id="AT-04 2024"),
    ],
)
def test_at_limitation_date(leave_year: int, expected: date) -> None:
    assert at_limitation_date(leave_year) == expected


@pytest.mark.parametrize(
    ("leave_year", "expected"),
    [
        pytest.param(2023, date(2028, 12, 31), id="CH-06 five years"),
        pytest.param(2024, date(2029, 12, 31), id="CH-06 2024"),
    ],
)
def test_ch_limitation_date(leave_year: int, expected: date) -> None:
    assert ch_limitation_date(leave_year) == expected


CARRY = BucketBalance(id="carry-2023", kind="carryover", remaining=D(5), expires_on=date(2024, 3, 31))
STATUTORY = BucketBalance(id="stat-2024", kind="statutory", remaining=D(20), expires_on=date(2024, 12, 31))
CONTRACTUAL = BucketBalance(id="contract-2024", kind="contractual", remaining=D(10), expires_on=date(2024, 12, 31))
SPECIAL = BucketBalance(id="special-2024", kind="special", remaining=D(2), expires_on=date(2024, 12, 31))
NEVER = BucketBalance(id="unwarned-2022", kind="carryover", remaining=D(3), expires_on=None)


@pytest.mark.parametrize(
    ("days", "buckets", "expected"),
    [
        pytest.param(D(3), [STATUTORY, CARRY], [("carry-2023", D(3))], id="soonest expiry first"),
        pytest.param(D(7), [STATUTORY, CARRY], [("carry-2023", D(5)), ("stat-2024", D(2))], id="then the next bucket"),
        pytest.param(
            D(32),
            [SPECIAL, CONTRACTUAL, STATUTORY],
            [("stat-2024", D(20)), ("contract-2024", D(10)), ("special-2024", D(2))],
            id="BAG 9 AZR 488/21 equal expiry: statutory, contractual, special",
        ),
        pytest.param(
            D(1),
            [STATUTORY, BucketBalance(id="carry-b", kind="carryover", remaining=D(1), expires_on=date(2024, 12, 31))],
            [("carry-b", D(1))],
            id="equal expiry: carryover before statutory",
        ),
        pytest.param(
            D(21), [NEVER, STATUTORY], [("stat-2024", D(20)), ("unwarned-2022", D(1))], id="never-expiring last"
        ),
        pytest.param(
            D("5.5"),
            [STATUTORY, CARRY],
            [("carry-2023", D(5)), ("stat-2024", D("0.5"))],
            id="half days",
        ),
        pytest.param(
            D("0.5"),
            [BucketBalance(id="half", kind="carryover", remaining=D("0.5"), expires_on=date(2024, 3, 31)), STATUTORY],
            [("half", D("0.5"))],
            id="half a day left in a bucket",
        ),
        pytest.param(
            D(2),
            [BucketBalance(id="empty", kind="carryover", remaining=D(0), expires_on=date(2024, 3, 31)), STATUTORY],
            [("stat-2024", D(2))],
            id="empty buckets are skipped",
        ),
        pytest.param(
            D(38),
            [CONTRACTUAL, STATUTORY, CARRY],
            [("carry-2023", D(5)), ("stat-2024", D(20)), ("contract-2024", D(13))],
            id="overdraft goes to the last bucket",
        ),
        pytest.param(
            D(1),
            [BucketBalance(id="used-up", kind="statutory", remaining=D(0), expires_on=None)],
            [("used-up", D(1))],
            id="overdraft of a used-up bucket",
        ),
        pytest.param(D(0), [STATUTORY], [], id="nothing to take"),
    ],
)
def test_allocate(days: Decimal, buckets: list[BucketBalance], expected: list[tuple[str, Decimal]]) -> None:
    assert allocate(days, buckets) == expected


def test_allocate_needs_a_bucket() -> None:
    with pytest.raises(ValueError, match="No bucket"):
        allocate(D(1), [])
