"""The HR import format: every field rule, table-driven, and the rules across rows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ess.domain.errors import InvalidInput
from ess.domain.hr.model import Role, WorkPattern
from ess.domain.hr_import.format import check_managers, parse_records
from tests.factories import known_regions, row


def test_a_valid_row_becomes_an_employee() -> None:
    employees, errors = parse_records([row(roles="hr; helpdesk")], is_known_region=known_regions)
    assert errors == []
    (erika,) = employees
    assert erika.personnel_number == "P90001"
    assert erika.display_name == "Erika Mustermann"
    assert erika.location.subdivision == "BY"
    assert erika.work_pattern.days_per_week == Decimal(5)
    assert erika.annual_leave_days == Decimal(30)
    assert erika.roles == frozenset({Role.HR, Role.HELPDESK})
    assert erika.org_unit is not None
    assert erika.org_unit.name == "IT München"


@pytest.mark.parametrize(
    ("changes", "field", "reason_part"),
    [
        ({"personnel_number": ""}, "personnel_number", "required"),
        ({"login": "Erika Mustermann"}, "login", "not a login"),
        ({"first_name": ""}, "first_name", "required"),
        ({"work_email": "erika.example.org"}, "work_email", "not an e-mail"),
        ({"private_email": "a@b"}, "private_email", "not an e-mail"),
        ({"mobile_phone": "0170 1234"}, "mobile_phone", "E.164"),
        ({"hire_date": "01.02.2020"}, "hire_date", "YYYY-MM-DD"),
        ({"hire_date": ""}, "hire_date", "required"),
        ({"exit_date": "2019-12-31"}, "exit_date", "before hire_date"),
        ({"country": "FR"}, "country", "not supported"),
        ({"subdivision": "XX"}, "subdivision", "not a subdivision of DE"),
        ({"postal_code": "8080"}, "postal_code", "not a postal code of DE"),
        ({"address_country": "CH", "postal_code": "80802"}, "postal_code", "not a postal code of CH"),
        ({"days_per_week": "", "work_pattern": ""}, "days_per_week", "either days_per_week or work_pattern"),
        ({"days_per_week": "five"}, "days_per_week", "whole number"),
        ({"days_per_week": "8"}, "days_per_week", "between 1 and 7"),
        ({"days_per_week": "", "work_pattern": "1|1|1"}, "work_pattern", "seven days"),
        ({"days_per_week": "", "work_pattern": "1|1|1|1|0.7|0|0"}, "work_pattern", "0, 0.5 or 1"),
        ({"days_per_week": "4", "work_pattern": "1|1|1|1|1|0|0"}, "work_pattern", "does not add up"),
        ({"annual_leave_days": "dreißig"}, "annual_leave_days", "not a number"),
        ({"annual_leave_days": "30.3"}, "annual_leave_days", "steps of half a day"),
        ({"annual_leave_days": "-1"}, "annual_leave_days", "between 0 and"),
        ({"annual_leave_days": "NaN"}, "annual_leave_days", "between 0 and"),
        ({"roles": "manager"}, "roles", "not an assignable role"),
        ({"org_unit": "", "org_unit_name": "IT"}, "org_unit", "required when org_unit_name"),
        ({"favourite_colour": "blue"}, "favourite_colour", "not a known column"),
    ],
)
def test_each_invalid_field_is_named_with_its_reason(changes: dict[str, str], field: str, reason_part: str) -> None:
    employees, errors = parse_records([row(position=7, **changes)], is_known_region=known_regions)
    assert employees == []
    assert [(e.position, e.field) for e in errors] == [(7, field)]
    assert reason_part in errors[0].reason


def test_all_errors_of_a_row_are_reported_not_just_the_first() -> None:
    _, errors = parse_records(
        [row(work_email="nope", hire_date="yesterday", country="FR")], is_known_region=known_regions
    )
    assert {e.field for e in errors} == {"work_email", "hire_date", "country"}


def test_duplicate_personnel_numbers_and_logins_name_both_lines() -> None:
    _, errors = parse_records(
        [row(position=2), row(position=3, login="other.person"), row(position=4, personnel_number="P2")],
        is_known_region=known_regions,
    )
    assert [(e.position, e.field) for e in errors] == [(3, "personnel_number"), (4, "login")]
    assert "first at 2" in errors[0].reason


def test_json_lists_and_decimal_commas_are_accepted() -> None:
    employees, errors = parse_records(
        [row(annual_leave_days="27,5", days_per_week="", work_pattern="1|1|1|1|0.5|0|0")],
        is_known_region=known_regions,
    )
    assert errors == []
    assert employees[0].annual_leave_days == Decimal("27.5")
    assert employees[0].work_pattern.days_per_week == Decimal("4.5")


def test_managers_must_exist_in_the_file_or_in_hr() -> None:
    employees, _ = parse_records(
        [
            row(position=2, personnel_number="P1", login="a", manager_personnel_number="P2"),
            row(position=3, personnel_number="P2", login="b", manager_personnel_number="P9"),
            row(position=4, personnel_number="P3", login="c", manager_personnel_number="P100"),
        ],
        is_known_region=known_regions,
    )
    positions = {"P1": 2, "P2": 3, "P3": 4}
    errors = check_managers(employees, positions, existing_managers={"P100": None})
    assert [(e.position, e.field) for e in errors] == [(3, "manager_personnel_number")]
    assert "P9" in errors[0].reason


def test_reporting_lines_must_not_loop() -> None:
    employees, _ = parse_records(
        [
            row(position=2, personnel_number="P1", login="a", manager_personnel_number="P2"),
            row(position=3, personnel_number="P2", login="b", manager_personnel_number="P1"),
            row(position=4, personnel_number="P3", login="c", manager_personnel_number="P3"),
        ],
        is_known_region=known_regions,
    )
    errors = check_managers(employees, {"P1": 2, "P2": 3, "P3": 4}, existing_managers={})
    reasons = {(e.position, e.reason) for e in errors}
    assert (2, "the reporting line loops back to itself") in reasons
    assert (3, "the reporting line loops back to itself") in reasons
    assert (4, "an employee cannot be their own manager") in reasons


@pytest.mark.parametrize(
    ("text", "days"),
    [("1|1|1|1|1|0|0", "5"), ("0|1|1|1|1|1|0", "5"), ("1|1|0.5|0|0|0|0", "2.5"), (" 1 | 1 |1|1|1|1|1", "7")],
)
def test_work_patterns_round_trip(text: str, days: str) -> None:
    pattern = WorkPattern.parse(text)
    assert pattern.days_per_week == Decimal(days)
    assert WorkPattern.parse(str(pattern)) == pattern


def test_a_pattern_without_working_days_is_refused() -> None:
    with pytest.raises(InvalidInput):
        WorkPattern.parse("0|0|0|0|0|0|0")


def test_loops_through_stored_reporting_lines_are_found() -> None:
    # Stored: P2 reports to P1. The file makes P1 report to P2.
    employees, _ = parse_records(
        [row(position=2, personnel_number="P1", login="a", manager_personnel_number="P2")],
        is_known_region=known_regions,
    )
    errors = check_managers(employees, {"P1": 2}, existing_managers={"P1": None, "P2": "P1"})
    assert [(e.position, e.reason) for e in errors] == [(2, "the reporting line loops back to itself")]


def test_pointing_at_a_row_that_failed_to_parse_is_not_a_second_error() -> None:
    employees, _ = parse_records(
        [row(position=2, personnel_number="P1", login="a", manager_personnel_number="P2")],
        is_known_region=known_regions,
    )
    assert check_managers(employees, {"P1": 2}, existing_managers={}, numbers_in_file={"P1", "P2"}) == []
