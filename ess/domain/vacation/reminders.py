"""Requests nobody decides: a daily job reminds the approver, and after longer tells HR, who can decide instead."""

from __future__ import annotations

from dataclasses import dataclass

from ess.domain.hr.model import Role
from ess.domain.shared import Link, Notice
from ess.domain.vacation.model import VacationPage
from ess.domain.vacation.ports import VacationDeps
from ess.domain.vacation.requests import date_text, days_text


@dataclass(frozen=True, slots=True)
class LeaveReminderRun:
    reminded: int  # approvers reminded of a request waiting `remind_after_days`
    escalated: int  # requests HR was told of, waiting `escalate_after_days`


async def remind_waiting(*, deps: VacationDeps) -> LeaveReminderRun:
    """Run once a day: a request waiting exactly `policy.remind_after_days` days reminds its manager; one waiting
    exactly `policy.escalate_after_days` days goes to everyone with the HR role (HR decides every request). Counting
    exact days keeps a daily run from repeating itself without storing anything."""
    today = deps.clock.today()
    async with deps.new_uow().read_only() as uow:
        waiting = await uow.vacation.pending_requests(manager_personnel_number=None)
        everyone = await uow.employees.by_personnel_numbers(sorted(await uow.employees.all_personnel_numbers()))
    hr = tuple(sorted(e.work_email for e in everyone.values() if Role.HR in e.roles and e.work_email))
    reminded = escalated = 0
    for request, employee in waiting:
        age = (today - request.created_at.date()).days
        params = {
            "employee": employee.display_name,
            "start": date_text(request.start),
            "end": date_text(request.end),
            "days": days_text(request.total),
            "waiting": str(age),
        }
        manager = everyone.get(employee.manager_personnel_number or "")
        if age == deps.policy.remind_after_days and manager is not None and manager.work_email:
            notice = Notice("leave_waiting", (manager.work_email,), params, Link(VacationPage.TEAM))
            await deps.notifier.notify(notice)
            reminded += 1
        elif age == deps.policy.escalate_after_days and hr:
            params["manager"] = manager.display_name if manager else "-"
            await deps.notifier.notify(Notice("leave_waiting_hr", hr, params, Link(VacationPage.TEAM)))
            escalated += 1
    return LeaveReminderRun(reminded=reminded, escalated=escalated)
