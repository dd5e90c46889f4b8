"""The leave ledger: buckets of days with validity, append-only entries, requests, and the balance built from them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Final

from ess.domain.errors import InvalidInput
from ess.domain.types import EmployeeId

ZERO = Decimal(0)
# `created_by` of the entries a projection adds in memory (never stored): what the year-end jobs will book.
PROJECTION: Final = "projection"
HALF_DAY: Final = Decimal("0.5")
WHOLE_DAY: Final = Decimal(1)


@dataclass(frozen=True, slots=True)
class DayOff:
    """A day nobody at a location works, wholly (fraction 1) or for half the day (0.5, e.g. the afternoon of 24.12)."""

    day: date
    name: str
    fraction: Decimal

    def __post_init__(self) -> None:
        if not Decimal(0) < self.fraction <= WHOLE_DAY:
            raise InvalidInput("A day off is a fraction of a day above 0 and at most 1.")


@dataclass(frozen=True, slots=True)
class LeaveDay:
    """One date of a leave and how much of a working day it uses (0.5 or 1)."""

    day: date
    fraction: Decimal


class VacationPage(StrEnum):
    """The pages leave notices link to (the edge turns them into URLs)."""

    OWN = "vacation.own"
    TEAM = "vacation.team"
    REPORT = "vacation.report"
    CALENDAR = "vacation.calendar"


@dataclass(frozen=True, slots=True)
class VacationPolicy:
    # BUrlG knows no overdraft; some companies allow a few days in advance.
    allow_overdraft_days: Decimal = ZERO
    # Leave forgotten to be entered may be requested afterwards (the employee is warned, the manager sees that it
    # lies in the past); with a limit, leave more than this many days back is refused: HR books it. None: no limit.
    backdate_days: int | None = None
    # A request nobody decides: the manager is reminded after this many days, HR is told after that many.
    remind_after_days: int = 3
    escalate_after_days: int = 7


class BucketKind(StrEnum):
    STATUTORY = "statutory"
    CONTRACTUAL = "contractual"
    CARRYOVER = "carryover"
    SPECIAL = "special"


class EntryType(StrEnum):
    GRANT = "grant"
    PRO_RATA_GRANT = "pro_rata_grant"
    CARRY_IN = "carry_in"
    CARRY_OUT = "carry_out"
    EXPIRE = "expire"
    TAKE = "take"
    REVERSE = "reverse"
    ADJUST = "adjust"
    # ESS recomputed a year's entitlement after the HR data changed: the difference, with old -> new and the cause.
    RECALC = "recalc"


# Entries that add to what an employee may take (as opposed to consuming it).
CREDITS = frozenset({EntryType.GRANT, EntryType.PRO_RATA_GRANT, EntryType.CARRY_IN, EntryType.ADJUST, EntryType.RECALC})
# Entries that make up a year's entitlement in its statutory, contractual and special buckets.
ENTITLEMENT_TYPES = frozenset({EntryType.GRANT, EntryType.PRO_RATA_GRANT, EntryType.ADJUST, EntryType.RECALC})
# Entries that book the year's own grant, which ESS keeps equal to what the HR data gives (HR's ADJUST is apart).
GRANT_TYPES = frozenset({EntryType.GRANT, EntryType.PRO_RATA_GRANT, EntryType.RECALC})


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    CANCELLATION_REQUESTED = "cancellation_requested"
    CANCELLED = "cancelled"


# Requests whose days are booked or reserved: nobody may request the same day again.
ACTIVE_STATUSES = frozenset({RequestStatus.PENDING, RequestStatus.APPROVED, RequestStatus.CANCELLATION_REQUESTED})


@dataclass(frozen=True, slots=True)
class Bucket:
    employee_id: EmployeeId
    kind: BucketKind
    leave_year: int
    valid_from: date
    expires_on: date | None = None
    id: int | None = None

    def usable_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.expires_on is None or day <= self.expires_on)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    bucket_id: int
    employee_id: EmployeeId
    effective_date: date
    amount: Decimal
    entry_type: EntryType
    created_by: str
    created_at: datetime
    reason: str = ""
    request_id: int | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class LeaveRequest:
    employee_id: EmployeeId
    start: date
    end: date
    days: tuple[LeaveDay, ...]
    status: RequestStatus
    created_at: datetime
    start_half: bool = False
    end_half: bool = False
    note: str = ""
    substitute: str = ""
    decided_by: str = ""
    decided_at: datetime | None = None
    decision_comment: str = ""
    id: int | None = None

    @property
    def total(self) -> Decimal:
        return sum((d.fraction for d in self.days), ZERO)


@dataclass(frozen=True, slots=True)
class Colleague:
    """A team colleague one can name as substitute: another report of one's manager, or one's own report."""

    personnel_number: str
    name: str


@dataclass(frozen=True, slots=True)
class Deputy:
    """A manager's deputy for a period: from `first_day` to `last_day` (both included) the deputy sees and decides
    the manager's waiting requests."""

    manager_id: EmployeeId
    deputy_id: EmployeeId
    first_day: date
    last_day: date
    created_at: datetime
    created_by: str
    id: int | None = None

    def active_on(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


class ReminderStage(StrEnum):
    """What `ess vacation remind` has sent for a waiting request (each once)."""

    REMIND = "remind"  # the approver reminded
    HANDOVER = "handover"  # handed to the manager's active deputy
    ESCALATE = "escalate"  # HR told


@dataclass(frozen=True, slots=True)
class ReportPerson:
    """Who a report row is about: what the report is sorted and searched by."""

    personnel_number: str
    name: str
    org_unit: str
    location: str = ""
    # Days of buckets that lapse after the report date and by its "lapses soon" horizon, not taken yet.
    lapsing: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One employee's balance on the report date, with the same meaning as the fields of `Balance`:
    `remaining = entitlement + carried_over - taken - approved_upcoming - expired - pending`."""

    personnel_number: str
    name: str
    org_unit: str
    location: str
    entitlement: Decimal
    carried_over: Decimal
    taken: Decimal
    approved_upcoming: Decimal
    pending: Decimal
    expired: Decimal
    remaining: Decimal
    # False: nothing of the year is booked yet (nobody opened it); the entitlement is computed from the HR data.
    booked: bool = True
    # As `ReportPerson.lapsing`.
    lapsing: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class ReportTotals:
    """The report's figures summed over its rows (after the filter); `unbooked` as `LeaveReport.totals` says."""

    employees: int
    entitlement: Decimal
    carried_over: Decimal
    taken: Decimal
    approved_upcoming: Decimal
    pending: Decimal
    expired: Decimal
    remaining: Decimal
    unbooked: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Lapse:
    """Days that lapse after `last_day` unless taken by then (the projection of the expiry job)."""

    last_day: date
    days: Decimal


@dataclass(frozen=True, slots=True)
class Balance:
    """What the employee sees; every figure is a sum over ledger entries or requests."""

    as_of: date
    entitlement: Decimal
    carried_over: Decimal
    carry_over_expires_on: date | None
    carry_over_lapsing: Decimal
    taken: Decimal
    approved_upcoming: Decimal
    pending: Decimal
    expired: Decimal
    remaining: Decimal
    entries: Sequence[LedgerEntry] = field(default_factory=tuple)
    # The parts that are projected, not yet booked: carry-over of years HR has not closed yet, and lapses whose
    # deadline lies before `as_of` but that the expiry job has not booked yet (both as the jobs will book them).
    projected_carried_over: Decimal = ZERO
    projected_expired: Decimal = ZERO
    # Deadlines still ahead, soonest first: what lapses on each unless taken.
    lapses: tuple[Lapse, ...] = ()
    # UrlG §2(2): in the first six months the year's leave arises with the time worked; None once it is whole.
    accrued: Decimal | None = None
    accrual_complete_on: date | None = None

    @property
    def overdrawn(self) -> bool:
        """More leave taken, approved or requested than the year gives (e.g. after an exit date was entered)."""
        return self.remaining < 0


def bucket_remaining(bucket: Bucket, entries: Sequence[LedgerEntry], *, upto: date | None = None) -> Decimal:
    """What is left in a bucket: all its entries (or those up to a date) added up."""
    return sum(
        (e.amount for e in entries if e.bucket_id == bucket.id and (upto is None or e.effective_date <= upto)),
        ZERO,
    )


def compute_balance(
    as_of: date, *, buckets: Sequence[Bucket], entries: Sequence[LedgerEntry], pending: Sequence[LeaveRequest]
) -> Balance:
    """The balance of the leave year of `as_of`, and the projection: bookings after `as_of` count as upcoming."""
    year = as_of.year
    in_year = {b.id: b for b in buckets if b.leave_year == year}
    mine = [e for e in entries if e.bucket_id in in_year]

    def total(types: frozenset[EntryType], kinds: frozenset[BucketKind] | None = None) -> Decimal:
        return sum(
            (e.amount for e in mine if e.entry_type in types and (kinds is None or in_year[e.bucket_id].kind in kinds)),
            ZERO,
        )

    entitlement = total(
        ENTITLEMENT_TYPES,
        frozenset({BucketKind.STATUTORY, BucketKind.CONTRACTUAL, BucketKind.SPECIAL}),
    )
    carried_over = total(frozenset({EntryType.CARRY_IN, EntryType.ADJUST}), frozenset({BucketKind.CARRYOVER}))
    bookings = [e for e in mine if e.entry_type in (EntryType.TAKE, EntryType.REVERSE)]
    taken = -sum((e.amount for e in bookings if e.effective_date <= as_of), ZERO)
    upcoming = -sum((e.amount for e in bookings if e.effective_date > as_of), ZERO)
    expired = -sum(
        (
            e.amount
            for e in mine
            if e.entry_type in (EntryType.EXPIRE, EntryType.CARRY_OUT) and e.effective_date <= as_of
        ),
        ZERO,
    )
    pending_days = sum(
        (d.fraction for r in pending if r.status is RequestStatus.PENDING for d in r.days if d.day.year == year), ZERO
    )
    carry = [b for b in in_year.values() if b.kind is BucketKind.CARRYOVER]
    open_carry = [b for b in carry if bucket_remaining(b, mine) > 0 and b.expires_on is not None]
    expires_on = min((b.expires_on for b in open_carry if b.expires_on), default=None)
    lapsing = sum((bucket_remaining(b, mine) for b in open_carry if b.expires_on and b.expires_on >= as_of), ZERO)
    projected = [e for e in mine if e.created_by == PROJECTION]
    remaining = entitlement + carried_over - taken - upcoming - expired - pending_days
    return Balance(
        as_of=as_of,
        entitlement=entitlement,
        carried_over=carried_over,
        carry_over_expires_on=expires_on,
        carry_over_lapsing=lapsing,
        taken=taken,
        approved_upcoming=upcoming,
        pending=pending_days,
        expired=expired,
        remaining=remaining,
        entries=tuple(sorted(mine, key=lambda e: (e.effective_date, e.id or 0))),
        projected_carried_over=sum((e.amount for e in projected if e.entry_type is EntryType.CARRY_IN), ZERO),
        projected_expired=-sum(
            (e.amount for e in projected if e.entry_type is EntryType.EXPIRE and e.effective_date <= as_of), ZERO
        ),
        lapses=_lapses_ahead(as_of, open_carry, mine),
    )


def _lapses_ahead(as_of: date, carry: Sequence[Bucket], entries: Sequence[LedgerEntry]) -> tuple[Lapse, ...]:
    """Per deadline on or after `as_of`, soonest first: the days that lapse unless taken by then."""
    ahead: dict[date, Decimal] = {}
    for bucket in carry:
        if bucket.expires_on is not None and bucket.expires_on >= as_of:
            ahead[bucket.expires_on] = ahead.get(bucket.expires_on, ZERO) + bucket_remaining(bucket, entries)
    return tuple(Lapse(day, days) for day, days in sorted(ahead.items()) if days > 0)
