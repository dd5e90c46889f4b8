"""The year-end rules over a ledger, as pure functions: carry-over (BUrlG §7(3), UrlG §4(5), OR 128), lapses and
their correction, the projection of both, and which HR changes feed the entitlement."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ess.domain.hr.model import Employee, WorkLocation, WorkPattern
from ess.domain.types import EmployeeId
from ess.domain.vacation.carry import carry_over_expiry, carry_plan, lapse_plan
from ess.domain.vacation.hr_changes import leave_relevant_changes
from ess.domain.vacation.law_de import ExpiryWarning
from ess.domain.vacation.model import (
    PROJECTION,
    Bucket,
    BucketKind,
    EntryType,
    Lapse,
    LedgerEntry,
    compute_balance,
)
from ess.domain.vacation.projection import project
from ess.domain.vacation.recompute import Ledger
from tests.fakes import FixedClock

D = Decimal
ME = EmployeeId(7)
AT = datetime(2026, 11, 22, tzinfo=UTC)


def bucket(id_: int, kind: BucketKind, year: int, expires_on: date | None = None) -> Bucket:
    return Bucket(ME, kind, year, date(year, 1, 1), expires_on, id_)


def entry(bucket_id: int, day: date, amount: str, kind: EntryType) -> LedgerEntry:
    return LedgerEntry(bucket_id, ME, day, D(amount), kind, "test", AT)


def employee(country: str = "DE", **changes: object) -> Employee:
    base = Employee(
        personnel_number="P1",
        login="p1",
        first_name="Pat",
        last_name="One",
        work_email="p1@example.test",
        hire_date=date(2015, 1, 1),
        location=WorkLocation(country, "BY" if country == "DE" else "9"),
        work_pattern=WorkPattern.first_days(5),
        annual_leave_days=D(30),
        id=ME,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


WARNED = [ExpiryWarning(sent_on=date(2026, 11, 1), days_stated=D(10), deadline_stated=date(2027, 3, 31))]


@pytest.mark.parametrize(
    ("country", "warnings", "expected"),
    [
        pytest.param("DE", [], None, id="BUrlG §7(3) + EuGH C-684/16: not warned, does not lapse"),
        pytest.param("DE", WARNED, date(2027, 3, 31), id="BUrlG §7(3): warned 150 days ahead, lapses 31 March"),
        pytest.param(
            "DE",
            [ExpiryWarning(date(2027, 1, 15), D(10), date(2027, 3, 31))],
            None,
            id="BUrlG §7(3): a warning 75 days ahead is too late (90 days)",
        ),
        pytest.param("AT", [], date(2028, 12, 31), id="UrlG §4(5): two years after the leave year"),
        pytest.param("CH", [], date(2031, 12, 31), id="OR 128 Ziff. 3: five years"),
    ],
)
def test_carry_over_expiry_by_country(country: str, warnings: list[ExpiryWarning], expected: date | None) -> None:
    assert carry_over_expiry(country, 2026, warnings) == expected


def test_carry_plan_moves_every_rest_and_keeps_old_deadlines() -> None:
    buckets = [
        bucket(1, BucketKind.STATUTORY, 2026),
        bucket(2, BucketKind.CONTRACTUAL, 2026),
        bucket(3, BucketKind.CARRYOVER, 2026, date(2027, 12, 31)),  # from 2025 (AT), keeps its deadline
        bucket(4, BucketKind.CARRYOVER, 2026, date(2026, 3, 31)),  # lapsed in 2026: the expiry job's business
    ]
    entries = [
        entry(1, date(2026, 1, 1), "20", EntryType.GRANT),
        entry(1, date(2026, 5, 4), "-22", EntryType.TAKE),  # overdrawn: the negative rest moves on as well
        entry(2, date(2026, 1, 1), "10", EntryType.GRANT),
        entry(3, date(2026, 1, 1), "4", EntryType.CARRY_IN),
        entry(4, date(2026, 1, 1), "3", EntryType.CARRY_IN),
    ]
    plan = {g.expires_on: g for g in carry_plan(2026, buckets, entries, date(2027, 3, 31))}
    assert set(plan) == {date(2027, 3, 31), date(2027, 12, 31)}
    assert plan[date(2027, 3, 31)].total == D(8)  # -2 + 10
    assert [(b.id, left) for b, left in plan[date(2027, 3, 31)].sources] == [(1, D(-2)), (2, D(10))]
    assert plan[date(2027, 12, 31)].total == D(4)


def test_a_second_carry_plan_moves_only_a_later_correction() -> None:
    buckets = [bucket(1, BucketKind.STATUTORY, 2026), bucket(9, BucketKind.CARRYOVER, 2027)]
    entries = [
        entry(1, date(2026, 1, 1), "20", EntryType.GRANT),
        entry(1, date(2027, 1, 1), "-20", EntryType.CARRY_OUT),
        entry(9, date(2027, 1, 1), "20", EntryType.CARRY_IN),
    ]
    assert carry_plan(2026, buckets, entries, None) == []
    corrected = [*entries, entry(1, date(2026, 1, 1), "-5", EntryType.RECALC)]
    (group,) = carry_plan(2026, buckets, corrected, None)
    assert group.total == D(-5)


def test_lapse_plan_books_what_is_left_after_the_deadline_and_corrects_a_lapse_that_was_too_large() -> None:
    carry = bucket(5, BucketKind.CARRYOVER, 2027, date(2027, 3, 31))
    entries = [
        entry(5, date(2027, 1, 1), "5", EntryType.CARRY_IN),
        entry(5, date(2027, 2, 1), "-2", EntryType.TAKE),
    ]
    assert lapse_plan(date(2027, 3, 31), [carry], entries) == []  # still usable on the last day
    (lapse,) = lapse_plan(date(2027, 4, 1), [carry], entries)
    assert (lapse.amount, lapse.effective_date) == (D(-3), date(2027, 4, 1))
    lapsed = [*entries, entry(5, date(2027, 4, 1), "-3", EntryType.EXPIRE)]
    assert lapse_plan(date(2027, 4, 2), [carry], lapsed) == []  # idempotent
    # HR data changed afterwards: only 1 day had been carried in. 2 were taken, none can have lapsed: the lapse
    # is given back as far as it went, and the overdraft of 1 stays visible.
    corrected = [*lapsed, entry(5, date(2027, 1, 1), "-4", EntryType.CARRY_IN)]
    (back,) = lapse_plan(date(2027, 5, 1), [carry], corrected)
    assert back.amount == D(3)


def _ledger(*, closed: set[int]) -> Ledger:
    buckets = [bucket(1, BucketKind.STATUTORY, 2026), bucket(2, BucketKind.STATUTORY, 2027)]
    entries = [
        entry(1, date(2026, 1, 1), "30", EntryType.GRANT),
        entry(1, date(2026, 7, 1), "-10", EntryType.TAKE),
        entry(2, date(2027, 1, 1), "30", EntryType.GRANT),
    ]
    return Ledger(buckets, entries, closed)


@pytest.mark.parametrize(
    ("warnings", "as_of", "carried", "expired", "remaining", "lapses"),
    [
        pytest.param([], date(2027, 4, 15), 20, 0, 50, (), id="DE unwarned: carried, never lapses"),
        pytest.param(
            WARNED, date(2027, 3, 1), 20, 0, 50, (Lapse(date(2027, 3, 31), D(20)),), id="DE warned: lapse ahead"
        ),
        pytest.param(WARNED, date(2027, 4, 15), 20, 20, 30, (), id="DE warned: lapsed after 31 March"),
    ],
)
def test_the_projection_carries_and_lapses_as_the_jobs_will(  # noqa: PLR0917 - one table row
    warnings: list[ExpiryWarning],
    as_of: date,
    carried: int,
    expired: int,
    remaining: int,
    lapses: tuple[Lapse, ...],
) -> None:
    projected = project(as_of, employee(), _ledger(closed=set()), {2026: warnings}, clock=FixedClock())
    figures = compute_balance(as_of, buckets=projected.buckets, entries=projected.entries, pending=[])
    assert (figures.carried_over, figures.expired, figures.remaining) == (D(carried), D(expired), D(remaining))
    assert figures.projected_carried_over == carried
    assert figures.projected_expired == expired
    assert figures.lapses == lapses
    assert all(e.created_by == PROJECTION for e in projected.entries[3:])


def test_a_closed_year_is_not_projected_again() -> None:
    projected = project(date(2027, 4, 15), employee(), _ledger(closed={2026}), {}, clock=FixedClock())
    assert len(projected.entries) == 3
    assert (
        compute_balance(date(2027, 4, 15), buckets=projected.buckets, entries=projected.entries, pending=[]).remaining
        == 30
    )


def test_the_projection_in_austria_and_switzerland_keeps_the_days_for_years() -> None:
    for country, deadline in (("AT", date(2028, 12, 31)), ("CH", date(2031, 12, 31))):
        projected = project(date(2027, 6, 1), employee(country), _ledger(closed=set()), {}, clock=FixedClock())
        figures = compute_balance(date(2027, 6, 1), buckets=projected.buckets, entries=projected.entries, pending=[])
        assert figures.lapses == (Lapse(deadline, D(20)),)
        assert figures.remaining == 50


def test_which_hr_changes_feed_the_entitlement() -> None:
    before = employee()
    assert leave_relevant_changes(before, replace(before, mobile_phone="+49 170 1")) == []
    changed = replace(
        before,
        exit_date=date(2027, 3, 31),
        annual_leave_days=D(28),
        work_pattern=WorkPattern.first_days(3),
        location=WorkLocation("AT", "9"),
        birth_date=date(2008, 1, 1),
        hire_date=date(2016, 1, 1),
    )
    assert leave_relevant_changes(before, changed) == [
        "entry date 2016-01-01 (was 2015-01-01)",
        "exit date 2027-03-31 (was none)",
        "contractual days 28 (was 30)",
        "birth date 2008-01-01 (was none)",
        "work location AT (was DE)",
        "work pattern 1|1|1|0|0|0|0 (was 1|1|1|1|1|0|0)",
    ]
