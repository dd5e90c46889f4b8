"""What a manager needs beside a waiting request: the balance left after approving it, who else of the team is
away then, and the substitute."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from ess.domain.hr.model import Employee
from ess.domain.vacation.decisions import Waiting
from ess.domain.vacation.model import ACTIVE_STATUSES, LeaveRequest, compute_balance
from ess.domain.vacation.ports import VacationDeps
from ess.domain.vacation.projection import ledger_on


@dataclass(frozen=True, slots=True)
class DecisionContext:
    request: LeaveRequest
    employee: Employee
    remaining_after: Decimal  # the request's leave year, with this and every other open request counted
    also_away: list[str]  # colleagues (same manager) with leave on at least one of the days
    on_behalf_of: str = ""  # the absent manager, when the caller decides as their deputy


async def decision_contexts(waiting: Sequence[Waiting], *, deps: VacationDeps) -> list[DecisionContext]:
    """The context of each waiting request (the caller may see them: they come from `decisions_waiting`)."""
    result: list[DecisionContext] = []
    async with deps.new_uow() as uow:
        everyone = await uow.employees.by_personnel_numbers(sorted(await uow.employees.all_personnel_numbers()))
        for item in waiting:
            request, employee = item.request, item.employee
            assert employee.id is not None
            ledger = await ledger_on(employee, request.start, uow, deps.clock)
            requests = await uow.vacation.requests(employee.id)
            figures = compute_balance(request.start, buckets=ledger.buckets, entries=ledger.entries, pending=requests)
            days = {d.day for d in request.days}
            away: list[str] = []
            for colleague in everyone.values():
                if (
                    colleague.id is None
                    or colleague.id == employee.id
                    or colleague.manager_personnel_number != employee.manager_personnel_number
                ):
                    continue
                theirs = await uow.vacation.requests(colleague.id)
                if any(r.status in ACTIVE_STATUSES and days & {d.day for d in r.days} for r in theirs):
                    away.append(colleague.display_name)
            absent = item.on_behalf_of.display_name if item.on_behalf_of else ""
            result.append(DecisionContext(request, employee, figures.remaining, sorted(away), absent))
        await uow.commit()  # the ledger may have booked a year the balance needed
    return result
