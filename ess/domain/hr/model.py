"""Employees as HR keeps them: identity, contact, address, contract and organisation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Final

from ess.domain.errors import InvalidInput
from ess.domain.types import EmployeeId

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_FRACTIONS: Final = (Decimal(0), Decimal("0.5"), Decimal(1))


class Role(StrEnum):
    """What a person may do in ESS. employee and manager are derived; the others are assigned."""

    EMPLOYEE = "employee"
    MANAGER = "manager"
    HR = "hr"
    HELPDESK = "helpdesk"
    ADMIN = "admin"
    AUDITOR = "auditor"  # the data-protection officer: reads every audit event


ASSIGNABLE_ROLES: Final = frozenset({Role.HR, Role.HELPDESK, Role.ADMIN, Role.AUDITOR})


@dataclass(frozen=True, slots=True)
class WorkPattern:
    """Working time per weekday, Monday first: 1 a full day, 0.5 a half day, 0 free."""

    days: tuple[Decimal, Decimal, Decimal, Decimal, Decimal, Decimal, Decimal]

    def __post_init__(self) -> None:
        if len(self.days) != len(WEEKDAYS) or any(d not in _DAY_FRACTIONS for d in self.days):
            raise InvalidInput("A work pattern has seven days, each 0, 0.5 or 1.")
        if not any(self.days):
            raise InvalidInput("A work pattern needs at least one working day.")

    @classmethod
    def first_days(cls, days_per_week: int) -> WorkPattern:
        """A pattern of `days_per_week` full days from Monday on."""
        if not 1 <= days_per_week <= len(WEEKDAYS):
            raise InvalidInput("days_per_week must be between 1 and 7.")
        values = [Decimal(1) if i < days_per_week else Decimal(0) for i in range(len(WEEKDAYS))]
        return cls(days=(values[0], values[1], values[2], values[3], values[4], values[5], values[6]))

    @classmethod
    def parse(cls, text: str) -> WorkPattern:
        """Parse "1|1|1|0.5|0|0|0" (Monday first)."""
        parts = [p.strip() for p in text.split("|")]
        if len(parts) != len(WEEKDAYS):
            raise InvalidInput("A work pattern lists seven days separated by '|', Monday first, e.g. 1|1|1|1|0.5|0|0.")
        try:
            values = [Decimal(p) for p in parts]
        except ArithmeticError as exc:
            raise InvalidInput("Each day of a work pattern is 0, 0.5 or 1.") from exc
        return cls(days=(values[0], values[1], values[2], values[3], values[4], values[5], values[6]))

    @property
    def days_per_week(self) -> Decimal:
        return sum(self.days, Decimal(0))

    def __str__(self) -> str:
        return "|".join(format(d.normalize(), "f") for d in self.days)


@dataclass(frozen=True, slots=True)
class PostalAddress:
    street: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.street or self.postal_code or self.city)


@dataclass(frozen=True, slots=True)
class WorkLocation:
    """Where someone works, as ISO country and subdivision: decides the public holidays."""

    country: str
    subdivision: str


@dataclass(frozen=True, slots=True)
class OrgUnit:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Employee:
    personnel_number: str
    login: str
    first_name: str
    last_name: str
    work_email: str
    hire_date: date
    location: WorkLocation
    work_pattern: WorkPattern
    annual_leave_days: Decimal
    id: EmployeeId | None = None
    preferred_name: str = ""
    birth_date: date | None = None
    private_email: str = ""
    work_phone: str = ""
    mobile_phone: str = ""
    private_phone: str = ""
    address: PostalAddress = field(default_factory=PostalAddress)
    exit_date: date | None = None
    manager_personnel_number: str | None = None
    org_unit: OrgUnit | None = None
    cost_center: str = ""
    roles: frozenset[Role] = frozenset()
    # From when `work_pattern` applies (None: from hire, or from today for a change); with the earlier patterns
    # in `pattern_history` (valid_from, pattern), oldest first.
    work_pattern_since: date | None = None
    pattern_history: tuple[tuple[date, WorkPattern], ...] = ()

    @property
    def display_name(self) -> str:
        return f"{self.preferred_name or self.first_name} {self.last_name}"

    @property
    def legal_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def pattern_on(self, day: date) -> WorkPattern:
        """The work pattern in force on a day (before the history starts: the earliest known one)."""
        history = sorted(self.pattern_history, key=lambda item: item[0])
        if not history:
            return self.work_pattern
        current = history[0][1]
        for valid_from, pattern in history:
            if valid_from > day:
                break
            current = pattern
        return current

    def pattern_periods(self, first: date, last: date) -> list[tuple[date, date, WorkPattern]]:
        """The patterns in force between two days while employed, as (start, end, pattern) periods."""
        first = max(first, self.hire_date)
        if self.exit_date is not None:
            last = min(last, self.exit_date)
        changes = sorted(self.pattern_history, key=lambda item: item[0]) or [(self.hire_date, self.work_pattern)]
        periods: list[tuple[date, date, WorkPattern]] = []
        for index, (valid_from, pattern) in enumerate(changes):
            until = changes[index + 1][0] if index + 1 < len(changes) else None
            start = max(valid_from, first) if index else first
            end = min(last, date.fromordinal(until.toordinal() - 1)) if until else last
            if start <= end:
                periods.append((start, end, pattern))
        return periods

    def is_employed_on(self, day: date) -> bool:
        return self.hire_date <= day and (self.exit_date is None or day <= self.exit_date)
