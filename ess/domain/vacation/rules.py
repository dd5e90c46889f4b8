"""The leave law as pure functions: entitlements, expiry and consumption order for DE (BUrlG), CH (OR) and AT (UrlG)."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Final, Literal

MONTHS_PER_YEAR: Final = 12
# BUrlG §4 and UrlG §2(2): the full entitlement arises after six months of employment.
WAITING_MONTHS: Final = 6
# BUrlG §3(1): 24 Werktage; Werktage are Monday to Saturday, so a Werktage count converts with d / 6.
DE_MINIMUM_WERKTAGE: Final = Decimal(24)
WERKTAGE_PER_WEEK: Final = Decimal(6)
# OR 329a(1): four weeks, five until the 20th birthday.
CH_MINIMUM_WEEKS: Final = Decimal(4)
CH_YOUTH_WEEKS: Final = Decimal(5)
CH_YOUTH_AGE_LIMIT: Final = 20
# OR 128 Ziff. 3: claims from employment are time-barred after five years.
CH_LIMITATION_YEARS: Final = 5
# UrlG §2(1): 30 Werktage, 36 after 25 years of service.
AT_MINIMUM_WERKTAGE: Final = Decimal(30)
AT_SENIOR_WERKTAGE: Final = Decimal(36)
AT_SENIOR_SERVICE_YEARS: Final = 25
# UrlG §4(5): the claim is time-barred two years after the end of the leave year in which it arose.
AT_LIMITATION_YEARS: Final = 2

_HALF: Final = Decimal("0.5")
_CENT: Final = Decimal("0.01")
_ZERO: Final = Decimal(0)
_DAYS_PER_WEEK_MAX: Final = Decimal(7)

BucketKind = Literal["carryover", "statutory", "contractual", "special"]
# Equal expiry: carried-over days first (they are older), then statutory before contractual days, the order
# BAG 9 AZR 488/21 applies when the employer has not designated which claim a leave fulfils.
_KIND_ORDER: Final[dict[str, int]] = {"carryover": 0, "statutory": 1, "contractual": 2, "special": 3}


# ---------------------------------------------------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------------------------------------------------


def _end_of_nth_month(start: date, n: int) -> date:
    """The last day of the n-th month of a period that begins on `start` (n >= 1)."""
    index = start.year * MONTHS_PER_YEAR + start.month - 1 + n
    year, month = divmod(index, MONTHS_PER_YEAR)
    month += 1
    last_day = calendar.monthrange(year, month)[1]
    # BGB §188(3): when the final month has no day with the start's number, the period ends on its last day.
    if start.day > last_day:
        return date(year, month, last_day)
    # BGB §§187(2), 188(2): a period that begins with the start of a day ends the day before the same-numbered day.
    return date(year, month, start.day) - timedelta(days=1)


def full_months(start: date, end: date) -> int:
    """Full months of employment from `start` to `end`, both inclusive, counted from the start date.

    A month runs from a day to the day before the same-numbered day of the next month (BGB §§187(2), 188(2)):
    15.7.-14.12. is 5 months, 1.7.-31.12. is 6. An empty period (end before start) has 0.
    """
    if end < start:
        return 0
    months = (end.year - start.year) * MONTHS_PER_YEAR + end.month - start.month + 1
    while months > 0 and _end_of_nth_month(start, months) > end:
        months -= 1
    return months


def _year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def _employment_in_year(year: int, hire_date: date, exit_date: date | None) -> tuple[date, date] | None:
    """The part of the employment that falls into `year`, or None when there is none."""
    if exit_date is not None and exit_date < hire_date:
        raise ValueError("exit_date is before hire_date.")
    first, last = _year_bounds(year)
    start = max(hire_date, first)
    end = last if exit_date is None else min(exit_date, last)
    return None if end < start else (start, end)


def _days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def _require_non_negative(**values: Decimal) -> None:
    for name, value in values.items():
        # NaN first: comparing a NaN Decimal raises InvalidOperation instead of answering.
        if value.is_nan() or value < _ZERO:
            raise ValueError(f"{name} must be a number of days >= 0.")


def _require_days_per_week(days_per_week: Decimal) -> None:
    if days_per_week.is_nan() or not _ZERO < days_per_week <= _DAYS_PER_WEEK_MAX:
        raise ValueError("days_per_week must be above 0 and at most 7.")


# ---------------------------------------------------------------------------------------------------------------------
# Germany: BUrlG
# ---------------------------------------------------------------------------------------------------------------------


def round_partial_leave(days: Decimal) -> Decimal:
    """Round partial leave as BUrlG §5(2) says: a fraction of at least half a day becomes a whole day.

    A smaller fraction is neither rounded up nor dropped (BAG: §5(2) has no rounding down); it is kept to two
    decimals (ROUND_HALF_UP), e.g. 8.333... -> 8.33. 12.5 -> 13, 1.75 -> 2, 20 -> 20. The decision is made on the
    exact value, so 12.497 stays (shown as 12.50); twelfths of half-day amounts never come that close to one half.
    """
    _require_non_negative(days=days)
    whole = days.to_integral_value(rounding=ROUND_FLOOR)
    fraction = days - whole
    if fraction >= _HALF:
        return whole + 1
    if fraction == _ZERO:
        return whole
    return days.quantize(_CENT, rounding=ROUND_HALF_UP)


def de_statutory_minimum(days_per_week: Decimal) -> Decimal:
    """The statutory minimum of BUrlG §3(1) in working days: 24 Werktage x d / 6 (5 days -> 20, 3 days -> 12)."""
    _require_days_per_week(days_per_week)
    return DE_MINIMUM_WERKTAGE * days_per_week / WERKTAGE_PER_WEEK


def convert_part_time(
    contract_days: Decimal, part_days_per_week: Decimal, full_days_per_week: Decimal = Decimal(5)
) -> Decimal:
    """Convert contract days agreed for a full-time week to a part-time week: days x part / full.

    Not rounded: §5(2) BUrlG rounds partial-year leave only, not a conversion (26 days at 3 of 5 days -> 15.6).
    """
    _require_non_negative(contract_days=contract_days, part_days_per_week=part_days_per_week)
    if full_days_per_week.is_nan() or full_days_per_week <= _ZERO:
        raise ValueError("full_days_per_week must be above 0.")
    return contract_days * part_days_per_week / full_days_per_week


@dataclass(frozen=True, slots=True)
class Entitlement:
    """A year's leave in working days: the statutory minimum and the contractual days on top of it."""

    statutory: Decimal
    contractual_extra: Decimal

    @property
    def total(self) -> Decimal:
        return self.statutory + self.contractual_extra


def _twelfths(days: Decimal, months: int) -> Decimal:
    # BUrlG §5(1): one twelfth of the annual leave per full month, rounded per §5(2).
    return round_partial_leave(days * months / MONTHS_PER_YEAR)


def de_annual_entitlement(
    year: int,
    *,
    hire_date: date,
    exit_date: date | None,
    contract_days: Decimal,
    days_per_week: Decimal,
    pro_rata_on_exit: bool = True,
) -> Entitlement:
    """The leave for calendar `year` under BUrlG §§3-5, in working days of a `days_per_week` pattern.

    `contract_days` is the contractual annual leave in days of the same pattern; the total is never below the
    statutory minimum (§13(1): the contract may only improve on it).

    - §4: the full entitlement arises once the six-month waiting period is over, once per employment; from then on
      on 1 January of each year. It arises on the day after the period ends, so it arises in the year of entry only
      when the employee joined by 30 June (30 June: the period ends 29 Dec, full leave; 1 July: it ends 31 Dec and
      the full claim would arise only in the next year).
    - §5(1)a and b: in a year without the full claim (entry in the second half, or exit before the waiting period
      is over), 1/12 per full month of employment in the year.
    - §5(1)c: exit in the first half of a year after the waiting period: 1/12 per full month (reduced full leave).
    - Exit on or after 1 July after the waiting period: the full statutory minimum; the contractual total is cut to
      1/12 per full month only when `pro_rata_on_exit` (the contract has a pro-rata clause), never below the minimum.

    Full months in a year are counted from the later of the hire date and 1 January, to the earlier of the exit
    date and 31 December. Statutory and total are rounded per §5(2) separately. §6 (leave already granted by a
    previous employer) is not deducted here.
    """
    _require_non_negative(contract_days=contract_days)
    statutory_full = de_statutory_minimum(days_per_week)
    total_full = max(contract_days, statutory_full)
    employed = _employment_in_year(year, hire_date, exit_date)
    if employed is None:
        return Entitlement(statutory=_ZERO, contractual_extra=_ZERO)
    start, end = employed
    months = full_months(start, end)
    waiting_ends = _end_of_nth_month(hire_date, WAITING_MONTHS)
    _, year_end = _year_bounds(year)
    waiting_completed = exit_date is None or exit_date >= waiting_ends
    full_claim = waiting_completed and waiting_ends < year_end
    exits_this_year = exit_date is not None and exit_date <= year_end

    if not full_claim or (exits_this_year and end < date(year, 7, 1)):
        statutory = _twelfths(statutory_full, months)
        total = _twelfths(total_full, months)
    elif exits_this_year:
        statutory = statutory_full
        total = max(statutory_full, _twelfths(total_full, months)) if pro_rata_on_exit else total_full
    else:
        statutory, total = statutory_full, total_full
    return Entitlement(statutory=statutory, contractual_extra=max(total - statutory, _ZERO))


def entitlement_by_periods(
    periods: Sequence[tuple[date, date, Decimal]],
    *,
    year: int,
    contract_days_full_time: Decimal,
    full_time_days: Decimal = Decimal(5),
) -> Decimal:
    """The leave of `year` when the number of working days per week changes during the year.

    Each period (start, end, days_per_week) earns contract_days_full_time x days_per_week / full_time_days for its
    share of the year, measured in full months of the period within the year. Days earned while working more days
    keep their value after a switch to fewer days (EuGH C-415/12 Brandes; BAG 9 AZR 406/17, 9 AZR 315/17): 30 days,
    5-day week Jan-Jun, 3-day week from 1 July -> 15 + 9 = 24, not 30 x 3/5 = 18. The sum is not rounded (the
    §5(2) rounding is for partial-year leave), only kept to two decimals (ROUND_HALF_UP).

    Full months only: a change in the middle of a month leaves the broken parts of that month uncounted in both
    periods, so patterns should change on the 1st. Periods must not overlap.
    """
    _require_non_negative(contract_days_full_time=contract_days_full_time)
    if full_time_days.is_nan() or full_time_days <= _ZERO:
        raise ValueError("full_time_days must be above 0.")
    ordered = sorted(periods, key=lambda period: period[0])
    for start, end, days_per_week in ordered:
        if end < start:
            raise ValueError("A period ends before it starts.")
        _require_non_negative(days_per_week=days_per_week)
    for (_, previous_end, _), (next_start, _, _) in pairwise(ordered):
        if next_start <= previous_end:
            raise ValueError("Periods overlap.")
    first, last = _year_bounds(year)
    earned = _ZERO
    for start, end, days_per_week in ordered:
        months = full_months(max(start, first), min(end, last))
        earned += contract_days_full_time * days_per_week * months / (full_time_days * MONTHS_PER_YEAR)
    return earned.quantize(_CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class ExpiryWarning:
    """Evidence that the employer asked the employee to take their leave and warned it would lapse.

    Without it statutory leave does not lapse (EuGH C-684/16 Max-Planck; BAG 19.2.2019 9 AZR 541/15): the notice
    must name the concrete number of days and the deadline, in good time.
    """

    sent_on: date
    days_stated: Decimal
    deadline_stated: date


def de_expiry_date(
    leave_year: int,
    *,
    warnings: Sequence[ExpiryWarning],
    transfer: bool = True,
    min_notice_days: int = 90,
    ill_throughout: bool = False,
    worked_before_illness_without_warning: bool = False,
) -> date | None:
    """The last day statutory leave of `leave_year` can be taken, or None when it does not lapse.

    - The regular deadline is 31 December of the leave year, or 31 March of the next year when the leave was
      transferred (BUrlG §7(3)).
    - The leave lapses at that deadline only if a warning stating exactly that deadline and more than 0 days was
      sent at least `min_notice_days` before it (the duty to warn, DE-09). Otherwise it does not lapse and belongs
      to the next year, where it needs a new warning; limitation (BGB §§194, 195) starts only after a warning
      (BAG 9 AZR 266/20), so None here means "no end date yet".
    - `ill_throughout`: unable to take leave because of illness from some day of the leave year until past the
      deadline. The leave then lapses 15 months after the end of the leave year, on 31 March of the year after
      next, warned or not (EuGH C-214/10 KHS; BAG 20.12.2022 9 AZR 245/19) - unless the employee worked part of
      the year and had not been warned before the illness began (`worked_before_illness_without_warning`,
      BAG 9 AZR 245/19): then it does not lapse. An illness that began so early in the year that no warning was
      possible (BAG 31.1.2023 9 AZR 107/20) is not such a case: pass False.
    """
    if min_notice_days < 0:
        raise ValueError("min_notice_days must be >= 0.")
    if ill_throughout:
        return None if worked_before_illness_without_warning else date(leave_year + 2, 3, 31)
    deadline = date(leave_year + 1, 3, 31) if transfer else date(leave_year, 12, 31)
    warned = any(
        warning.deadline_stated == deadline
        and warning.days_stated > _ZERO
        and (deadline - warning.sent_on).days >= min_notice_days
        for warning in warnings
    )
    return deadline if warned else None


# ---------------------------------------------------------------------------------------------------------------------
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
    _require_non_negative(contract_days=contract_days)
    _require_days_per_week(days_per_week)
    employed = _employment_in_year(year, hire_date, exit_date)
    if employed is None:
        return _ZERO
    first, _ = _year_bounds(year)
    young = birth_date is not None and _age_on(birth_date, first) < CH_YOUTH_AGE_LIMIT
    minimum = (CH_YOUTH_WEEKS if young else CH_MINIMUM_WEEKS) * days_per_week
    annual = max(contract_days, minimum)
    start, end = employed
    days_employed = (end - start).days + 1
    if days_employed == _days_in_year(year):
        return annual
    return _round_to_half_day(annual * days_employed / _days_in_year(year))


def ch_limitation_date(leave_year: int) -> date:
    """The last day the leave of `leave_year` can be claimed: OR 128 Ziff. 3, five years.

    Counted from the end of the leave year (31.12. of leave_year + 5), the date by which the leave had to be granted.
    """
    return date(leave_year + CH_LIMITATION_YEARS, 12, 31)


# ---------------------------------------------------------------------------------------------------------------------
# Austria: UrlG
# ---------------------------------------------------------------------------------------------------------------------


def _at_senior(year: int, hire_date: date, prior_service_years: int) -> bool:
    missing_years = AT_SENIOR_SERVICE_YEARS - prior_service_years
    if missing_years <= 0:
        return True
    start_of_26th_year = _end_of_nth_month(hire_date, missing_years * MONTHS_PER_YEAR) + timedelta(days=1)
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
    _require_non_negative(contract_days=contract_days)
    _require_days_per_week(days_per_week)
    if prior_service_years < 0:
        raise ValueError("prior_service_years must be >= 0.")
    employed = _employment_in_year(year, hire_date, exit_date)
    if employed is None:
        return _ZERO
    werktage = AT_SENIOR_WERKTAGE if _at_senior(year, hire_date, prior_service_years) else AT_MINIMUM_WERKTAGE
    annual = max(contract_days, werktage * days_per_week / WERKTAGE_PER_WEEK)
    start, end = employed
    days_employed = (end - start).days + 1
    if days_employed == _days_in_year(year):
        return annual
    return (annual * days_employed / _days_in_year(year)).quantize(_CENT, rounding=ROUND_HALF_UP)


def at_available_first_year(hire_date: date, as_of: date, annual: Decimal) -> Decimal:
    """The leave available on `as_of` in the first six months after `hire_date` (UrlG §2(2)).

    While fewer than six full months are served it grows by 1/12 of `annual` per full month (3 months, 25 days ->
    6.25), kept to two decimals (ROUND_HALF_UP); from six months on it is `annual`. `annual` is the leave of the
    year being served; with a calendar leave year pass the entry year's aliquot (`at_annual_entitlement`).
    """
    _require_non_negative(annual=annual)
    months = full_months(hire_date, as_of)
    if months >= WAITING_MONTHS:
        return annual
    return (annual * months / MONTHS_PER_YEAR).quantize(_CENT, rounding=ROUND_HALF_UP)


def at_limitation_date(leave_year: int) -> date:
    """The last day the leave of `leave_year` can be taken: UrlG §4(5), two years after the end of the leave year.

    Calendar leave year: 2023 leave is lost after 31.12.2025. EuGH C-120/21 may require a warning before the EU
    minimum can lapse; that is for counsel and the same warning evidence as in Germany.
    """
    return date(leave_year + AT_LIMITATION_YEARS, 12, 31)


# ---------------------------------------------------------------------------------------------------------------------
# Consumption order
# ---------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BucketBalance:
    """What is left of one grant of leave, and the last day it can be used (None: it does not expire)."""

    id: str
    kind: BucketKind
    remaining: Decimal
    expires_on: date | None


def _consumption_key(bucket: BucketBalance) -> tuple[bool, date, int]:
    return (bucket.expires_on is None, bucket.expires_on or date.max, _KIND_ORDER[bucket.kind])


def allocate(days: Decimal, buckets: Sequence[BucketBalance]) -> list[tuple[str, Decimal]]:
    """Decide which buckets pay for `days` of leave: a list of (bucket id, days taken from it), in order.

    The soonest-expiring bucket goes first, so that nothing lapses that could have been used; buckets that never
    expire go last. On equal expiry: carryover, statutory, contractual, special (BAG 9 AZR 488/21: without the
    employer's designation leave fulfils the statutory claim before the contractual one). A bucket gives at most
    its `remaining`; half days (Decimal("0.5")) work like any other amount.

    `buckets` are those usable on the days taken (the caller leaves out expired ones). When they do not cover
    `days`, the rest is charged to the last bucket in that order, which then goes negative: the caller decides
    beforehand whether an overdraft is allowed. Raises ValueError when `buckets` is empty.
    """
    if not buckets:
        raise ValueError("No bucket to take leave from.")
    if len({bucket.id for bucket in buckets}) != len(buckets):
        raise ValueError("Bucket ids must be unique.")
    _require_non_negative(days=days)
    ordered = sorted(buckets, key=_consumption_key)
    taken: dict[str, Decimal] = {}
    rest = days
    for bucket in ordered:
        if rest <= _ZERO:
            break
        if bucket.remaining <= _ZERO:
            continue
        amount = min(rest, bucket.remaining)
        taken[bucket.id] = amount
        rest -= amount
    if rest > _ZERO:
        last = ordered[-1]
        taken[last.id] = taken.get(last.id, _ZERO) + rest
    return list(taken.items())
