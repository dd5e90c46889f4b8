"""What a manager needs beside a waiting request: the balance left after approving it, who else of the team is
away then, and the substitute."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ess.domain.hr.model import Employee
from ess.domain.vacation.model import ACTIVE_STATUSES, LeaveRequest, compute_balance
from ess.domain.vacation.ports import VacationDeps
from ess.domain.vacation.projection import ledger_on


@dataclass(frozen=True, slots=True)
class DecisionContext:
    request: LeaveRequest
    employee: Employee
    remaining_after: Decimal  # the request's leave year, with this and every other open request counted
    also_away: list[str]  # colleagues (same manager) with leave on at least one of the days


async def decision_contexts(
    waiting: list[tuple[LeaveRequest, Employee]], *, deps: VacationDeps
) -> list[DecisionContext]:
    """The context of each waiting request (the caller may see them: they come from `pending_for_decision`)."""
    result: list[DecisionContext] = []
    async with deps.new_uow() as uow:
        everyone = await uow.employees.by_personnel_numbers(sorted(await uow.employees.all_personnel_numbers()))
        for request, employee in waiting:
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
            result.append(DecisionContext(request, employee, figures.remaining, sorted(away)))
        await uow.commit()  # the ledger may have booked a year the balance needed
    return result
