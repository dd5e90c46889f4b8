"""Requests nobody decides: a daily job reminds the approver, and after longer hands the request to the manager's
deputy or, without one, tells HR, who can decide instead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.hr.model import Employee, Role
from ess.domain.shared import Link, Notice
from ess.domain.vacation.deputies import active_deputies
from ess.domain.vacation.model import LeaveRequest, ReminderStage, VacationPage, VacationPolicy
from ess.domain.vacation.ports import VacationDeps
from ess.domain.vacation.requests import date_text, days_text

ACTOR = "ess vacation remind"


@dataclass(frozen=True, slots=True)
class LeaveReminderRun:
    reminded: int  # approvers reminded of a request waiting `remind_after_days`
    escalated: int  # requests HR was told of, waiting `escalate_after_days`
    handed_over: int = 0  # requests handed to the manager's deputy instead of HR


def next_stage(age: int, sent: set[ReminderStage], policy: VacationPolicy, *, has_deputy: bool) -> ReminderStage | None:
    """What a request waiting `age` days needs now, given what was sent for it before (each stage once): after
    `escalate_after_days` the deputy (when the manager has one today) or HR, and HR still when the deputy it was
    handed to is no longer one; after `remind_after_days` the approver."""
    if age >= policy.escalate_after_days and ReminderStage.ESCALATE not in sent:
        if ReminderStage.HANDOVER not in sent:
            return ReminderStage.HANDOVER if has_deputy else ReminderStage.ESCALATE
        if not has_deputy:  # handed to a deputy whose period is over, the manager not back: HR after all
            return ReminderStage.ESCALATE
    if policy.remind_after_days <= age < policy.escalate_after_days and ReminderStage.REMIND not in sent:
        return ReminderStage.REMIND
    return None


@dataclass(frozen=True, slots=True)
class _Send:
    request: LeaveRequest
    stage: ReminderStage
    notice: Notice


async def remind_waiting(*, deps: VacationDeps) -> LeaveReminderRun:
    """Run once a day (running it again sends nothing twice: what was sent is recorded per request and stage, with
    an audit event, in the same transaction as the decision to send it). A request waiting `remind_after_days`
    reminds its manager; one waiting `escalate_after_days` goes to the manager's deputy of the day, and without one
    to everyone with the HR role (HR decides every request)."""
    today = deps.clock.today()
    async with deps.new_uow() as uow:
        waiting = await uow.vacation.pending_requests(manager_personnel_number=None)
        everyone = await uow.employees.by_personnel_numbers(sorted(await uow.employees.all_personnel_numbers()))
        deputies = await active_deputies(uow, today)
        sent = await uow.vacation.reminders_sent([r.id for r, _ in waiting if r.id is not None])
        hr = tuple(sorted(e.work_email for e in everyone.values() if Role.HR in e.roles and e.work_email))
        sends: list[_Send] = []
        for request, employee in waiting:
            assert request.id is not None
            manager = everyone.get(employee.manager_personnel_number or "")
            deputy = deputies.get(manager.personnel_number) if manager else None
            done = {stage for request_id, stage in sent if request_id == request.id}
            stage = next_stage(
                (today - request.created_at.date()).days,
                done,
                deps.policy,
                has_deputy=bool(deputy and deputy.work_email),
            )
            notice = _notice(stage, request, employee, manager, deputy, hr, today) if stage else None
            if stage is None or notice is None:
                continue
            await uow.vacation.add_reminder(request.id, stage, deps.clock.now())
            await uow.audit.add(_event(deps, request, stage, notice))
            sends.append(_Send(request, stage, notice))
        await uow.commit()
    for send in sends:
        await deps.notifier.notify(send.notice)
    return LeaveReminderRun(
        reminded=sum(s.stage is ReminderStage.REMIND for s in sends),
        escalated=sum(s.stage is ReminderStage.ESCALATE for s in sends),
        handed_over=sum(s.stage is ReminderStage.HANDOVER for s in sends),
    )


def _notice(  # noqa: PLR0917 - the request and everyone it may go to
    stage: ReminderStage,
    request: LeaveRequest,
    employee: Employee,
    manager: Employee | None,
    deputy: Employee | None,
    hr: tuple[str, ...],
    today: date,
) -> Notice | None:
    """The mail of a stage, or None when nobody can receive it (no manager's or deputy's address, no HR)."""
    params = {
        "employee": employee.display_name,
        "start": date_text(request.start),
        "end": date_text(request.end),
        "days": days_text(request.total),
        "waiting": str((today - request.created_at.date()).days),
        "manager": manager.display_name if manager else "-",
    }
    link = Link(VacationPage.TEAM)
    if stage is ReminderStage.REMIND and manager is not None and manager.work_email:
        return Notice("leave_waiting", (manager.work_email,), params, link)
    if stage is ReminderStage.HANDOVER and deputy is not None and deputy.work_email:
        return Notice("leave_waiting_deputy", (deputy.work_email,), params | {"deputy": deputy.display_name}, link)
    if stage is ReminderStage.ESCALATE and hr:
        return Notice("leave_waiting_hr", hr, params, link)
    return None


def _event(deps: VacationDeps, request: LeaveRequest, stage: ReminderStage, notice: Notice) -> AuditEvent:
    return AuditEvent(
        occurred_at=deps.clock.now(),
        actor=ACTOR,
        action=f"leave.waiting_{stage.value}",
        outcome=Outcome.SUCCESS,
        target=f"leave_request:{request.id}",
        details={"start": request.start.isoformat(), "recipients": len(notice.to)},
    )
