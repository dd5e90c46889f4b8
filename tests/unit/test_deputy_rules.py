"""Deputies and reminders as rules: who may deputise, the period's checks per field, and which reminder is due."""

from __future__ import annotations

from datetime import date

import pytest

from ess.domain.errors import InvalidInput
from ess.domain.hr.model import Employee
from ess.domain.vacation.deputies import check_period, may_deputise, still_placed_to_deputise
from ess.domain.vacation.model import ReminderStage, VacationPolicy
from ess.domain.vacation.reminders import next_stage
from tests.factories import employee

TODAY = date(2026, 12, 2)
BOSS = employee(personnel_number="P1", login="boss")
MARKUS = employee(personnel_number="P10", login="markus", manager_personnel_number="P1")
JULIA = employee(personnel_number="P20", login="julia", manager_personnel_number="P1")
ANNA = employee(personnel_number="P11", login="anna", manager_personnel_number="P10")
STRANGER = employee(personnel_number="P30", login="other", manager_personnel_number="P3")
MANAGERS = {"P1", "P10", "P20", "P30", "P3"}


@pytest.mark.parametrize(
    ("candidate", "allowed"),
    [
        pytest.param(JULIA, True, id="another manager under the same manager"),
        pytest.param(BOSS, True, id="the manager's own manager"),
        pytest.param(MARKUS, False, id="not oneself"),
        pytest.param(ANNA, False, id="not a report without a team"),
        pytest.param(STRANGER, False, id="not a manager elsewhere"),
        pytest.param(
            employee(personnel_number="P21", manager_personnel_number="P1"), False, id="not a peer without a team"
        ),
        pytest.param(
            employee(personnel_number="P20", manager_personnel_number="P1", exit_date=date(2026, 12, 1)),
            False,
            id="not someone who has left",
        ),
    ],
)
def test_who_may_deputise(candidate: Employee, allowed: bool) -> None:
    assert may_deputise(MARKUS, candidate, MANAGERS, TODAY) is allowed


@pytest.mark.parametrize(
    ("deputy", "placed"),
    [
        pytest.param(JULIA, True, id="still under the same manager"),
        pytest.param(BOSS, True, id="still the manager's manager"),
        pytest.param(employee(personnel_number="P20", manager_personnel_number="P3"), False, id="moved elsewhere"),
        pytest.param(
            employee(personnel_number="P20", manager_personnel_number="P1", exit_date=date(2026, 12, 1)),
            False,
            id="left the company",
        ),
    ],
)
def test_a_named_deputy_counts_only_while_still_placed_to_be_one(deputy: Employee, placed: bool) -> None:
    # Checked on every decision and reminder by today's HR data, not only when the deputy was named.
    assert still_placed_to_deputise(MARKUS, deputy, TODAY) is placed


@pytest.mark.parametrize(
    ("first", "last", "field", "rule"),
    [
        pytest.param(date(2026, 12, 1), date(2026, 12, 5), "first_day", "deputy_in_past", id="in the past"),
        pytest.param(date(2026, 12, 5), date(2026, 12, 4), "last_day", "deputy_end_before_start", id="end first"),
        pytest.param(date(2026, 12, 5), date(2027, 12, 6), "last_day", "deputy_too_long", id="over a year"),
    ],
)
def test_a_period_is_refused_beside_its_field(first: date, last: date, field: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_period(first, last, TODAY)
    assert (refused.value.where, refused.value.rule) == (field, rule)


def test_a_period_from_today_for_a_day_is_fine() -> None:
    check_period(TODAY, TODAY, TODAY)
    check_period(TODAY, date(2027, 12, 2), TODAY)  # 366 days


POLICY = VacationPolicy(remind_after_days=3, escalate_after_days=7)


@pytest.mark.parametrize(
    ("age", "sent", "deputy", "due"),
    [
        pytest.param(2, set(), False, None, id="too young"),
        pytest.param(3, set(), False, ReminderStage.REMIND, id="remind"),
        pytest.param(5, set(), False, ReminderStage.REMIND, id="remind a day missed"),
        pytest.param(4, {ReminderStage.REMIND}, False, None, id="reminded once only"),
        pytest.param(7, {ReminderStage.REMIND}, False, ReminderStage.ESCALATE, id="HR without deputy"),
        pytest.param(7, {ReminderStage.REMIND}, True, ReminderStage.HANDOVER, id="the deputy"),
        pytest.param(9, set(), True, ReminderStage.HANDOVER, id="late run goes straight to the deputy"),
        pytest.param(8, {ReminderStage.HANDOVER}, True, None, id="handed over once only"),
        pytest.param(9, {ReminderStage.HANDOVER}, False, ReminderStage.ESCALATE, id="the deputy's period over: HR"),
        pytest.param(9, {ReminderStage.HANDOVER, ReminderStage.ESCALATE}, False, None, id="HR told once only"),
        pytest.param(8, {ReminderStage.ESCALATE}, True, None, id="escalated once only"),
    ],
)
def test_which_reminder_is_due(age: int, sent: set[ReminderStage], deputy: bool, due: ReminderStage | None) -> None:
    assert next_stage(age, sent, POLICY, has_deputy=deputy) is due
