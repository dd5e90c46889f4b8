"""The ports of the HR records: the employee repository."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from ess.domain.hr.model import Employee
from ess.domain.types import EmployeeId


class EmployeeRepository(Protocol):
    async def get(self, employee_id: EmployeeId) -> Employee | None: ...

    async def by_login(self, login: str) -> Employee | None: ...

    async def by_personnel_numbers(self, numbers: Sequence[str]) -> dict[str, Employee]: ...

    async def logins_in_use(self, logins: Sequence[str]) -> dict[str, str]:
        """login -> personnel number, for the given logins that exist."""
        ...

    async def all_personnel_numbers(self) -> set[str]: ...

    async def manager_links(self) -> dict[str, str | None]:
        """Personnel number -> the manager's personnel number, for every employee."""
        ...

    async def save_all(self, employees: Sequence[Employee], *, progress: Callable[[int], None] | None = None) -> None:
        """Insert or update by personnel number, then link managers, org units and roles; `progress` gets the
        number of employees written so far."""
        ...

    async def has_reports(self, employee_id: EmployeeId) -> bool: ...
