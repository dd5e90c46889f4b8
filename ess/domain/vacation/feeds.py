"""Use cases of the private iCal feed of one's own leave: create (shown once), revoke, and read by token."""

from __future__ import annotations

from ess.domain.auth.caller import own_employee
from ess.domain.auth.model import Principal, hash_token, new_secret_token
from ess.domain.errors import NotFound
from ess.domain.hr.model import Employee
from ess.domain.vacation.model import ACTIVE_STATUSES, LeaveRequest
from ess.domain.vacation.ports import VacationDeps


async def create_feed(principal: Principal, *, deps: VacationDeps) -> str:
    """A private iCal feed of the caller's leave: the token is shown once and stored as a hash."""
    token = new_secret_token()
    async with deps.new_uow() as uow:
        employee = await own_employee(principal, uow.employees)
        assert employee.id is not None
        await uow.vacation.add_feed_token(employee.id, hash_token(token), deps.clock.now())
        await uow.commit()
    return token


async def revoke_feed(principal: Principal, *, deps: VacationDeps) -> None:
    async with deps.new_uow() as uow:
        employee = await own_employee(principal, uow.employees)
        assert employee.id is not None
        await uow.vacation.revoke_feed_tokens(employee.id, deps.clock.now())
        await uow.commit()


async def feed(token: str, *, deps: VacationDeps) -> tuple[Employee, list[LeaveRequest]]:
    """The owner of a feed token and their approved and pending leave; NotFound for unknown or revoked tokens."""
    async with deps.new_uow() as uow:
        owner = await uow.vacation.feed_owner(hash_token(token))
        employee = await uow.employees.get(owner) if owner is not None else None
        if employee is None or employee.id is None or (employee.exit_date and employee.exit_date < deps.clock.today()):
            raise NotFound("No such calendar.")  # a revoked link, or someone who has left
        requests = [r for r in await uow.vacation.requests(employee.id) if r.status in ACTIVE_STATUSES]
    return employee, requests
