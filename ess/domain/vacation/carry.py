"""What the year-end jobs book, as pure functions over a ledger: the carry-over of a closed year and the lapse of
days past their deadline. The jobs book these moves; the projection adds them in memory for years and deadlines
the jobs have not reached yet, so that both always agree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from ess.domain.shared import Clock
from ess.domain.types import EmployeeId
from ess.domain.vacation.entitlement import ledger_entry
from ess.domain.vacation.law_at import at_limitation_date
from ess.domain.vacation.law_ch import ch_limitation_date
from ess.domain.vacation.law_de import ExpiryWarning, de_expiry_date
from ess.domain.vacation.model import ZERO, Bucket, BucketKind, EntryType, LedgerEntry, bucket_remaining


def carry_over_expiry(country: str, leave_year: int, warnings: Sequence[ExpiryWarning]) -> date | None:
    """Until when days left over from `leave_year` can still be taken, by the law of the work location."""
    if country == "AT":
        return at_limitation_date(leave_year)  # UrlG §4(5): two years after the end of the leave year
    if country == "CH":
        return ch_limitation_date(leave_year)  # OR 128 Ziff. 3: five years
    # BUrlG §7(3) with the duty to warn (EuGH C-684/16): without a warning in time the days do not lapse (None).
    return de_expiry_date(leave_year, warnings=warnings, transfer=True)


@dataclass(frozen=True, slots=True)
class CarryGroup:
    """Days of one leave year that move into one carry-over bucket of the next year, lapsing on `expires_on`."""

    expires_on: date | None
    sources: tuple[tuple[Bucket, Decimal], ...]  # each source bucket and what is left in it

    @property
    def total(self) -> Decimal:
        return sum((amount for _, amount in self.sources), ZERO)


def carry_plan(
    year: int, buckets: Sequence[Bucket], entries: Sequence[LedgerEntry], legal_expiry: date | None
) -> list[CarryGroup]:
    """What closing `year` moves on: whatever is left in each of its buckets (negative rests too), grouped by the
    deadline it keeps. Days carried over before keep their own deadline; the year's own days get `legal_expiry`.
    Days past their deadline are left to the expiry job. Run again after a correction of a closed year, the plan
    moves just the correction (the rest was moved the first time)."""
    year_end = date(year, 12, 31)
    groups: dict[date | None, list[tuple[Bucket, Decimal]]] = {}
    for bucket in buckets:
        if bucket.leave_year != year or (bucket.expires_on is not None and bucket.expires_on <= year_end):
            continue
        left = bucket_remaining(bucket, entries)
        if left == 0:
            continue
        keeps_deadline = bucket.kind is BucketKind.CARRYOVER and bucket.expires_on is not None
        groups.setdefault(bucket.expires_on if keeps_deadline else legal_expiry, []).append((bucket, left))
    return [CarryGroup(expires_on, tuple(sources)) for expires_on, sources in groups.items()]


def carry_target(buckets: Sequence[Bucket], year: int, expires_on: date | None) -> Bucket | None:
    """The carry-over bucket of `year` that already takes days lapsing on `expires_on`, if there is one."""
    return next(
        (b for b in buckets if b.leave_year == year and b.kind is BucketKind.CARRYOVER and b.expires_on == expires_on),
        None,
    )


@dataclass(frozen=True, slots=True)
class LapseMove:
    """A lapse to book on the day after the bucket's deadline: negative when days lapse, positive when a later
    correction of the entitlement means that fewer days had lapsed than were booked."""

    bucket: Bucket
    amount: Decimal
    effective_date: date


def lapse_plan(today: date, buckets: Sequence[Bucket], entries: Sequence[LedgerEntry]) -> list[LapseMove]:
    """The lapses the expiry job books on `today`: every bucket whose deadline has passed gives up what is left in
    it. A bucket that went below zero after its lapse (its entitlement was corrected down) gets back as much of the
    lapse as it needs, never more than had lapsed: the lapse did not happen for days that never existed."""
    moves = []
    for bucket in buckets:
        if bucket.expires_on is None or bucket.expires_on >= today:
            continue
        left = bucket_remaining(bucket, entries)
        lapsed = -sum(
            (e.amount for e in entries if e.bucket_id == bucket.id and e.entry_type is EntryType.EXPIRE), ZERO
        )
        amount = -left if left > 0 else min(-left, lapsed)
        if amount != 0:
            moves.append(LapseMove(bucket, amount, bucket.expires_on + timedelta(days=1)))
    return moves


def lapse_entry(employee_id: EmployeeId, move: LapseMove, *, clock: Clock, author: str) -> LedgerEntry:
    """The ledger entry that books a lapse (or gives back part of one) on the day after the deadline."""
    assert move.bucket.id is not None and move.bucket.expires_on is not None
    deadline = move.bucket.expires_on.isoformat()
    reason = f"not taken by {deadline}" if move.amount < 0 else f"lapse of {deadline} corrected"
    return ledger_entry(
        move.bucket.id,
        employee_id,
        move.effective_date,
        move.amount,
        EntryType.EXPIRE,
        author=author,
        clock=clock,
        reason=reason,
    )
