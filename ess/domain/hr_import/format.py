"""The HR import format: one record per employee, validated field by field before anything is written."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Final, TypeVar

from ess.domain.errors import InvalidInput
from ess.domain.hr.model import (
    ASSIGNABLE_ROLES,
    Employee,
    OrgUnit,
    PostalAddress,
    Role,
    WorkLocation,
    WorkPattern,
)

# The documented columns (docs/hr-import.md). Unknown columns are an error: a typo must not drop data silently.
COLUMNS: Final = (
    "personnel_number",
    "login",
    "first_name",
    "last_name",
    "preferred_name",
    "birth_date",
    "work_email",
    "private_email",
    "work_phone",
    "mobile_phone",
    "private_phone",
    "street",
    "postal_code",
    "city",
    "address_country",
    "hire_date",
    "exit_date",
    "country",
    "subdivision",
    "days_per_week",
    "work_pattern",
    "work_pattern_valid_from",
    "annual_leave_days",
    "manager_personnel_number",
    "org_unit",
    "org_unit_name",
    "cost_center",
    "roles",
)
REQUIRED: Final = (
    "personnel_number",
    "login",
    "first_name",
    "last_name",
    "work_email",
    "hire_date",
    "country",
    "subdivision",
    "annual_leave_days",
)
SUPPORTED_COUNTRIES: Final = frozenset({"DE", "CH", "AT"})
POSTAL_CODE_PATTERNS: Final = {"DE": re.compile(r"\d{5}"), "CH": re.compile(r"\d{4}"), "AT": re.compile(r"\d{4}")}
LOGIN_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
PERSONNEL_NUMBER_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,31}")
# Deliberately simple: one @, no spaces, a dot in the domain. Full RFC 5322 is not what HR files need.
EMAIL_PATTERN: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PHONE_PATTERN: Final = re.compile(r"\+[1-9]\d{6,14}")
MAX_LEAVE_DAYS: Final = Decimal(60)
MAX_TEXT: Final = 200


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One record as read from the file: its position (line or record number) and its raw text values."""

    position: int
    values: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class RowError:
    position: int
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"field '{self.field}': " if self.field else ""
        return f"{self.position}: {where}{self.reason}"


RegionCheck = Callable[[str, str], bool]
_V = TypeVar("_V")


@dataclass(slots=True)
class ParsedFile:
    """What one pass over the records found: the employees that parsed, every row error, where each personnel
    number first appears, every personnel number in the file (rows with errors included) and how many rows."""

    employees: list[Employee]
    errors: list[RowError]
    positions: dict[str, int]
    numbers: set[str]
    rows: int


def parse_records(
    records: Iterable[SourceRecord], *, is_known_region: RegionCheck
) -> tuple[list[Employee], list[RowError]]:
    """Turn raw records into employees. Returns all employees and every error; callers write nothing if any error."""
    parsed = parse_file(records, is_known_region=is_known_region)
    return parsed.employees, parsed.errors


def parse_file(records: Iterable[SourceRecord], *, is_known_region: RegionCheck) -> ParsedFile:
    """`parse_records` in one pass over `records` (an iterator will do: the file need not be held as a whole).

    Equal values (dates, work patterns, locations, units, amounts) are shared between the employees instead of
    held once per row: 100,000 parsed employees take a third of the memory."""
    parsed = ParsedFile(employees=[], errors=[], positions={}, numbers=set(), rows=0)
    shared: dict[object, object] = {}
    seen_logins: dict[str, int] = {}
    for record in records:
        parsed.rows += 1
        parsed.numbers.add((record.values.get("personnel_number") or "").strip())
        employee, row_errors = _parse_one(record, is_known_region, shared)
        parsed.errors.extend(row_errors)
        if employee is None:
            continue
        for key, seen, label in (
            (employee.personnel_number, parsed.positions, "personnel_number"),
            (employee.login, seen_logins, "login"),
        ):
            if key in seen:
                parsed.errors.append(RowError(record.position, label, f"'{key}' appears again (first at {seen[key]})"))
            else:
                seen[key] = record.position
        parsed.employees.append(employee)
    return parsed


def check_managers(
    employees: list[Employee],
    positions: Mapping[str, int],
    existing_managers: Mapping[str, str | None],
    numbers_in_file: Iterable[str] = (),
) -> list[RowError]:
    """Every manager must exist (in the file or already in HR) and no reporting line may loop, counting the
    lines already stored: the file's links replace the stored ones of the same people.

    `numbers_in_file` holds personnel numbers of rows that failed to parse: pointing at them is not an
    error of its own (their own errors are reported).
    """
    errors: list[RowError] = []
    manager_of: dict[str, str | None] = {**existing_managers}
    manager_of.update({e.personnel_number: e.manager_personnel_number for e in employees})
    known = manager_of.keys() | set(numbers_in_file)
    for employee in employees:
        boss = employee.manager_personnel_number
        pos = positions[employee.personnel_number]
        if boss is None:
            continue
        if boss == employee.personnel_number:
            errors.append(RowError(pos, "manager_personnel_number", "an employee cannot be their own manager"))
        elif boss not in known:
            errors.append(RowError(pos, "manager_personnel_number", f"no employee with personnel number '{boss}'"))
        elif _loops(employee.personnel_number, manager_of):
            errors.append(RowError(pos, "manager_personnel_number", "the reporting line loops back to itself"))
    return errors


def _loops(start: str, manager_of: Mapping[str, str | None]) -> bool:
    seen = {start}
    current = manager_of.get(start)
    while current is not None:
        if current in seen:
            return current == start
        seen.add(current)
        current = manager_of.get(current)
    return False


class _Row:
    """Field accessors that collect errors instead of stopping at the first one."""

    def __init__(self, record: SourceRecord, shared: dict[object, object]) -> None:
        self.record = record
        self.errors: list[RowError] = []
        self._shared = shared

    def share(self, value: _V) -> _V:
        """`value`, or an equal one seen before in this file (one object for many rows)."""
        return self._shared.setdefault(value, value)  # type: ignore[return-value]

    def error(self, name: str, reason: str) -> None:
        self.errors.append(RowError(self.record.position, name, reason))

    def text(self, name: str, *, required: bool = False) -> str:
        value = (self.record.values.get(name) or "").strip()
        if required and not value:
            self.error(name, "is required")
        if len(value) > MAX_TEXT:
            self.error(name, f"is longer than {MAX_TEXT} characters")
        return value

    def matching(self, name: str, pattern: re.Pattern[str], hint: str, *, required: bool = False) -> str:
        value = self.text(name, required=required)
        if value and not pattern.fullmatch(value):
            self.error(name, f"'{value}' is not {hint}")
        return value

    def day(self, name: str, *, required: bool = False) -> date | None:
        value = self.text(name, required=required)
        if not value:
            return None
        try:
            return self.share(date.fromisoformat(value))
        except ValueError:
            self.error(name, f"'{value}' is not a date in the form YYYY-MM-DD")
            return None


def _parse_one(
    record: SourceRecord, is_known_region: RegionCheck, shared: dict[object, object]
) -> tuple[Employee | None, list[RowError]]:
    """Long because it reads every column of a row in turn, collecting every error."""
    row = _Row(record, shared)
    for name in sorted(set(record.values) - set(COLUMNS)):
        row.error(name, "is not a known column")

    number = row.matching("personnel_number", PERSONNEL_NUMBER_PATTERN, "a valid personnel number", required=True)
    login = row.matching(
        "login", LOGIN_PATTERN, "a login of lower-case letters, digits, '.', '_' or '-'", required=True
    )
    first_name = row.share(row.text("first_name", required=True))
    last_name = row.text("last_name", required=True)
    work_email = row.matching("work_email", EMAIL_PATTERN, "an e-mail address", required=True)
    private_email = row.matching("private_email", EMAIL_PATTERN, "an e-mail address")
    phones = {
        name: row.matching(name, PHONE_PATTERN, "a phone number in E.164 form (+4989...)")
        for name in ("work_phone", "mobile_phone", "private_phone")
    }
    birth_date = row.day("birth_date")
    hire_date = row.day("hire_date", required=True)
    exit_date = row.day("exit_date")
    if hire_date and exit_date and exit_date < hire_date:
        row.error("exit_date", "is before hire_date")
    location = row.share(_location(row, is_known_region))
    address = row.share(_address(row, location.country))
    pattern = row.share(_work_pattern(row))
    pattern_since = row.day("work_pattern_valid_from")
    if pattern_since is not None and pattern_since.day != 1:
        # Entitlements are earned per full month (BAG 9 AZR 406/17): a pattern changes on the first of a month.
        row.error("work_pattern_valid_from", "must be the first day of a month")
    leave_days = _leave_days(row)
    org_unit = row.share(_org_unit(row))
    roles = row.share(_roles(row))

    if row.errors or hire_date is None or pattern is None or leave_days is None:
        return None, row.errors
    employee = Employee(
        personnel_number=number,
        login=login,
        first_name=first_name,
        last_name=last_name,
        preferred_name=row.text("preferred_name"),
        birth_date=birth_date,
        work_email=work_email.lower(),
        private_email=private_email,
        work_phone=phones["work_phone"],
        mobile_phone=phones["mobile_phone"],
        private_phone=phones["private_phone"],
        address=address,
        hire_date=hire_date,
        exit_date=exit_date,
        location=location,
        work_pattern=pattern,
        annual_leave_days=leave_days,
        manager_personnel_number=row.share(row.text("manager_personnel_number")) or None,
        org_unit=org_unit,
        cost_center=row.share(row.text("cost_center")),
        roles=roles,
        work_pattern_since=pattern_since,
    )
    return employee, []


def _location(row: _Row, is_known_region: RegionCheck) -> WorkLocation:
    country = row.text("country", required=True).upper()
    subdivision = row.text("subdivision", required=True).upper()
    if country and country not in SUPPORTED_COUNTRIES:
        row.error("country", f"'{country}' is not supported (DE, CH or AT)")
    elif country and subdivision and not is_known_region(country, subdivision):
        row.error("subdivision", f"'{subdivision}' is not a subdivision of {country}")
    return WorkLocation(country=country, subdivision=subdivision)


def _address(row: _Row, work_country: str) -> PostalAddress:
    address = PostalAddress(
        street=row.text("street"),
        postal_code=row.share(row.text("postal_code")),
        city=row.share(row.text("city")),
        country=row.text("address_country").upper(),
    )
    postal_rule = POSTAL_CODE_PATTERNS.get(address.country or work_country)
    if address.postal_code and postal_rule and not postal_rule.fullmatch(address.postal_code):
        row.error("postal_code", f"'{address.postal_code}' is not a postal code of {address.country or work_country}")
    return address


def _org_unit(row: _Row) -> OrgUnit | None:
    org_code = row.text("org_unit")
    org_name = row.text("org_unit_name")
    if org_name and not org_code:
        row.error("org_unit", "is required when org_unit_name is given")
    return OrgUnit(code=org_code, name=org_name or org_code) if org_code else None


def _roles(row: _Row) -> frozenset[Role]:
    roles: set[Role] = set()
    for raw in filter(None, (r.strip().lower() for r in row.text("roles").split(";"))):
        if raw in {r.value for r in ASSIGNABLE_ROLES}:
            roles.add(Role(raw))
        else:
            row.error("roles", f"'{raw}' is not an assignable role (hr, helpdesk, admin)")
    return frozenset(roles)


def _work_pattern(row: _Row) -> WorkPattern | None:
    days_text = row.text("days_per_week")
    pattern_text = row.text("work_pattern")
    if not days_text and not pattern_text:
        row.error("days_per_week", "either days_per_week or work_pattern is required")
        return None
    try:
        pattern = WorkPattern.parse(pattern_text) if pattern_text else None
        if days_text:
            if not days_text.isdigit():
                row.error("days_per_week", f"'{days_text}' is not a whole number of days")
                return None
            by_days = WorkPattern.first_days(int(days_text))
            if pattern is not None and pattern.days_per_week != by_days.days_per_week:
                row.error("work_pattern", "does not add up to days_per_week")
                return None
            return pattern or by_days
    except InvalidInput as exc:
        row.error("work_pattern" if pattern_text else "days_per_week", exc.message)
        return None
    return pattern


def _leave_days(row: _Row) -> Decimal | None:
    text = row.text("annual_leave_days", required=True)
    if not text:
        return None
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        row.error("annual_leave_days", f"'{text}' is not a number")
        return None
    if not value.is_finite() or value < 0 or value > MAX_LEAVE_DAYS or (value * 2) % 1 != 0:
        row.error("annual_leave_days", f"must be between 0 and {MAX_LEAVE_DAYS} in steps of half a day")
        return None
    return row.share(value)
