"""Use case: remind employees by e-mail before their directory password expires (ASVS 5.0 6.4.5, NIST §6)."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.errors import NotFound, ServiceUnavailable
from ess.domain.hr.model import Employee
from ess.domain.passwords.model import PasswordPage
from ess.domain.passwords.ports import PasswordDeps
from ess.domain.shared import Link, Notice

logger = logging.getLogger("ess.passwords")

DAY = timedelta(days=1)


def due_offset(expires_at: datetime, now: datetime, offsets: Sequence[int], already_sent: set[int]) -> int | None:
    """The reminder to send now, if any. An offset of N days is due once no more than N days are left; of all due
    offsets only the nearest to the expiry counts, and only if it has not gone out yet. So a run every day sends each
    offset once, and a run after a gap sends just the nearest one (not a burst of every offset it missed)."""
    left = expires_at - now
    if left <= timedelta(0):
        return None  # expired already: the login page takes over from here
    due = [offset for offset in offsets if left <= offset * DAY]
    if not due:
        return None
    nearest = min(due)
    return None if nearest in already_sent else nearest


@dataclass
class ReminderRun:
    """What one run did; `failed` lists logins the directory could not answer for (not their passwords, ever)."""

    checked: int = 0
    sent: int = 0
    not_due: int = 0
    no_expiry: int = 0
    already_sent: int = 0
    failed: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return (
            f"Password reminders: {self.sent} sent, {self.checked} accounts checked, {self.not_due} not due, "
            f"{self.already_sent} already reminded, {self.no_expiry} without expiry, {len(self.failed)} failed."
        )


async def send_password_reminders(*, offsets: Sequence[int], deps: PasswordDeps, actor: str = "system") -> ReminderRun:
    """Read every active employee's password expiry from the directory and e-mail the work address at the configured
    offsets (days before expiry), each offset once per password: sent reminders are recorded with the expiry instant,
    which a password change moves, so the next password gets its own reminders."""
    run = ReminderRun()
    now, today = deps.clock.now(), deps.clock.today()
    async with deps.new_uow() as uow:
        numbers = sorted(await uow.employees.all_personnel_numbers())
        employees = list((await uow.employees.by_personnel_numbers(numbers)).values())
    for employee in sorted(employees, key=lambda e: e.login):
        if not employee.login or not employee.work_email:
            continue
        if employee.hire_date > today or (employee.exit_date is not None and employee.exit_date < today):
            continue
        run.checked += 1
        await _remind(employee, run, now=now, offsets=offsets, deps=deps, actor=actor)
    if run.failed:
        logger.warning("Password reminders: the directory did not answer for %d accounts", len(run.failed))
    return run


async def _remind(
    employee: Employee, run: ReminderRun, *, now: datetime, offsets: Sequence[int], deps: PasswordDeps, actor: str
) -> None:
    """One account: ask the directory for the expiry, record and send the reminder that is due (if any)."""
    try:
        status = await deps.directory.account_status(employee.login)
    except NotFound:
        run.no_expiry += 1  # an employee without a directory account has no password to expire
        return
    except ServiceUnavailable:
        run.failed.append(employee.login)
        return
    if status.disabled or status.password_expires_at is None:
        run.no_expiry += 1
        return
    expires_at = status.password_expires_at
    async with deps.new_uow() as uow:
        sent_before = await uow.password_reminders.sent_offsets(employee.login, expires_at)
        offset = due_offset(expires_at, now, offsets, sent_before)
        if offset is None:
            if sent_before and expires_at - now <= max(offsets, default=0) * DAY:
                run.already_sent += 1
            else:
                run.not_due += 1
            return
        await uow.password_reminders.add(employee.login, expires_at, offset, recipient=employee.work_email, sent_at=now)
        await uow.audit.add(
            AuditEvent(
                occurred_at=now,
                actor=actor,
                action="password.expiry_reminder",
                outcome=Outcome.SUCCESS,
                target=employee.login,
                details={"offset_days": offset, "expires_at": expires_at.isoformat()},
            )
        )
        await uow.commit()
    await deps.notifier.notify(
        Notice(
            kind="password_expiry_reminder",
            to=(employee.work_email,),
            params={
                "employee": employee.display_name,
                "days": str(max(1, math.ceil((expires_at - now) / DAY))),
                "expires": expires_at.strftime("%d.%m.%Y %H:%M UTC"),
            },
            link=Link(PasswordPage.CHANGE),
        )
    )
    run.sent += 1
