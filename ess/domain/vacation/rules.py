"""The leave law as pure functions, what DE (BUrlG), CH (OR) and AT (UrlG) share: periods, part-time conversion,
entitlement by periods and the order in which buckets are used. Each country's own rules: law_de, law_ch, law_at."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Final, Literal

MONTHS_PER_YEAR: Final = 12
# Werktage are Monday to Saturday: a count of Werktage converts to working days with d / 6.
WERKTAGE_PER_WEEK: Final = Decimal(6)
# BUrlG §4 and UrlG §2(2): the full entitlement arises after six months of employment.
WAITING_MONTHS: Final = 6
HALF: Final = Decimal("0.5")
CENT: Final = Decimal("0.01")
ZERO: Final = Decimal(0)
DAYS_PER_WEEK_MAX: Final = Decimal(7)

BucketKind = Literal["carryover", "statutory", "contractual", "special"]
# Equal expiry: carried-over days first (they are older), then statutory before contractual days, the order
# BAG 9 AZR 488/21 applies when the employer has not designated which claim a leave fulfils.
_KIND_ORDER: Final[dict[str, int]] = {"carryover": 0, "statutory": 1, "contractual": 2, "special": 3}


# ---------------------------------------------------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------------------------------------------------


def end_of_nth_month(start: date, n: int) -> date:
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
    while months > 0 and end_of_nth_month(start, months) > end:
        months -= 1
    return months


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def employment_in_year(year: int, hire_date: date, exit_date: date | None) -> tuple[date, date] | None:
    """The part of the employment that falls into `year`, or None when there is none."""
    if exit_date is not None and exit_date < hire_date:
        raise ValueError("exit_date is before hire_date.")
    first, last = year_bounds(year)
    start = max(hire_date, first)
    end = last if exit_date is None else min(exit_date, last)
    return None if end < start else (start, end)


def days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def require_non_negative(**values: Decimal) -> None:
    for name, value in values.items():
        # NaN first: comparing a NaN Decimal raises InvalidOperation instead of answering.
        if value.is_nan() or value < ZERO:
            raise ValueError(f"{name} must be a number of days >= 0.")


def require_days_per_week(days_per_week: Decimal) -> None:
    if days_per_week.is_nan() or not ZERO < days_per_week <= DAYS_PER_WEEK_MAX:
        raise ValueError("days_per_week must be above 0 and at most 7.")


def convert_part_time(
    contract_days: Decimal, part_days_per_week: Decimal, full_days_per_week: Decimal = Decimal(5)
) -> Decimal:
    """Convert contract days agreed for a full-time week to a part-time week: days x part / full.

    Not rounded: §5(2) BUrlG rounds partial-year leave only, not a conversion (26 days at 3 of 5 days -> 15.6).
    """
    require_non_negative(contract_days=contract_days, part_days_per_week=part_days_per_week)
    if full_days_per_week.is_nan() or full_days_per_week <= ZERO:
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
    require_non_negative(contract_days_full_time=contract_days_full_time)
    if full_time_days.is_nan() or full_time_days <= ZERO:
        raise ValueError("full_time_days must be above 0.")
    ordered = sorted(periods, key=lambda period: period[0])
    for start, end, days_per_week in ordered:
        if end < start:
            raise ValueError("A period ends before it starts.")
        require_non_negative(days_per_week=days_per_week)
    for (_, previous_end, _), (next_start, _, _) in pairwise(ordered):
        if next_start <= previous_end:
            raise ValueError("Periods overlap.")
    first, last = year_bounds(year)
    earned = ZERO
    for start, end, days_per_week in ordered:
        months = full_months(max(start, first), min(end, last))
        earned += contract_days_full_time * days_per_week * months / (full_time_days * MONTHS_PER_YEAR)
    return earned.quantize(CENT, rounding=ROUND_HALF_UP)


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
    require_non_negative(days=days)
    ordered = sorted(buckets, key=_consumption_key)
    taken: dict[str, Decimal] = {}
    rest = days
    for bucket in ordered:
        if rest <= ZERO:
            break
        if bucket.remaining <= ZERO:
            continue
        amount = min(rest, bucket.remaining)
        taken[bucket.id] = amount
        rest -= amount
    if rest > ZERO:
        last = ordered[-1]
        taken[last.id] = taken.get(last.id, ZERO) + rest
    return list(taken.items())
