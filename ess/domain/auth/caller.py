"""The caller's own HR record: every use case that acts on "my" data starts here."""

from __future__ import annotations

from dataclasses import dataclass

from ess.domain.auth.model import Principal
from ess.domain.auth.ports import AuthDeps
from ess.domain.errors import NotFound
from ess.domain.hr.model import Employee
from ess.domain.hr.ports import EmployeeRepository


@dataclass(frozen=True, slots=True)
class OwnRecord:
    employee: Employee
    manager: Employee | None


async def own_employee(principal: Principal, employees: EmployeeRepository) -> Employee:
    """The caller's HR record, within the caller's open unit of work. Raises NotFound for accounts without one."""
    if principal.employee_id is None:
        raise NotFound("No HR record belongs to this account.")
    employee = await employees.get(principal.employee_id)
    if employee is None or employee.login != principal.login:
        raise NotFound("No HR record belongs to this account.")
    return employee


async def own_record(principal: Principal, *, deps: AuthDeps) -> OwnRecord:
    """The caller's own HR record and their manager. Raises NotFound for accounts without one."""
    async with deps.new_uow().read_only() as uow:
        employee = await own_employee(principal, uow.employees)
        manager = None
        if employee.manager_personnel_number:
            found = await uow.employees.by_personnel_numbers([employee.manager_personnel_number])
            manager = found.get(employee.manager_personnel_number)
    return OwnRecord(employee=employee, manager=manager)
