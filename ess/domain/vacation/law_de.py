"""The leave law of Germany (BUrlG) as pure functions: entitlement, partial leave, expiry and the duty to warn."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Final

from ess.domain.vacation.rules import (
    CENT,
    HALF,
    MONTHS_PER_YEAR,
    WAITING_MONTHS,
    WERKTAGE_PER_WEEK,
    ZERO,
    Entitlement,
    employment_in_year,
    end_of_nth_month,
    full_months,
    require_days_per_week,
    require_non_negative,
    year_bounds,
)

# BUrlG §3(1): 24 Werktage; Werktage are Monday to Saturday, so a Werktage count converts with d / 6.
DE_MINIMUM_WERKTAGE: Final = Decimal(24)

# ---------------------------------------------------------------------------------------------------------------------
# Germany: BUrlG
# ---------------------------------------------------------------------------------------------------------------------


def round_partial_leave(days: Decimal) -> Decimal:
    """Round partial leave as BUrlG §5(2) says: a fraction of at least half a day becomes a whole day.

    A smaller fraction is neither rounded up nor dropped (BAG: §5(2) has no rounding down); it is kept to two
    decimals (ROUND_HALF_UP), e.g. 8.333... -> 8.33. 12.5 -> 13, 1.75 -> 2, 20 -> 20. The decision is made on the
    exact value, so 12.497 stays (shown as 12.50); twelfths of half-day amounts never come that close to one half.
    """
    require_non_negative(days=days)
    whole = days.to_integral_value(rounding=ROUND_FLOOR)
    fraction = days - whole
    if fraction >= HALF:
        return whole + 1
    if fraction == ZERO:
        return whole
    return days.quantize(CENT, rounding=ROUND_HALF_UP)


def de_statutory_minimum(days_per_week: Decimal) -> Decimal:
    """The statutory minimum of BUrlG §3(1) in working days: 24 Werktage x d / 6 (5 days -> 20, 3 days -> 12)."""
    require_days_per_week(days_per_week)
    return DE_MINIMUM_WERKTAGE * days_per_week / WERKTAGE_PER_WEEK


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
    require_non_negative(contract_days=contract_days)
    statutory_full = de_statutory_minimum(days_per_week)
    total_full = max(contract_days, statutory_full)
    employed = employment_in_year(year, hire_date, exit_date)
    if employed is None:
        return Entitlement(statutory=ZERO, contractual_extra=ZERO)
    start, end = employed
    months = full_months(start, end)
    waiting_ends = end_of_nth_month(hire_date, WAITING_MONTHS)
    _, year_end = year_bounds(year)
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
    return Entitlement(statutory=statutory, contractual_extra=max(total - statutory, ZERO))


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
        and warning.days_stated > ZERO
        and (deadline - warning.sent_on).days >= min_notice_days
        for warning in warnings
    )
    return deadline if warned else None


# ---------------------------------------------------------------------------------------------------------------------
