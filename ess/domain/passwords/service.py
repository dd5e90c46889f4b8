"""Use case: an employee changes their own password, knowing the current one."""

from __future__ import annotations

from dataclasses import dataclass

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.auth.model import Principal
from ess.domain.auth.service import revoke_access
from ess.domain.errors import AuthenticationFailed, PolicyViolation
from ess.domain.passwords.model import PasswordPolicy, PasswordProblem
from ess.domain.ports import Clock, Directory, SessionStore, UnitOfWork


@dataclass(frozen=True, slots=True)
class ChangePassword:
    principal: Principal
    current: str
    new: str
    repeat: str
    client: str


class WrongCurrentPassword(AuthenticationFailed):
    code = "wrong_current_password"


class PasswordRejected(PolicyViolation):
    """The new password breaks the policy; `problems` says which rules (shown to the user, never the password)."""

    code = "password_rejected"

    def __init__(self, problems: list[PasswordProblem]) -> None:
        super().__init__(
            "The new password does not meet the password rules: " + ", ".join(p.value for p in problems),
            fields={"new_password": ", ".join(p.value for p in problems)},
        )
        self.problems = problems


async def change_password(
    cmd: ChangePassword,
    *,
    directory: Directory,
    uow: UnitOfWork,
    sessions: SessionStore,
    clock: Clock,
    policy: PasswordPolicy,
) -> None:
    """Check the policy first, then let the directory check the current password and store the new one.
    Afterwards every session and API token of the account ends: whoever knew the old password is out."""
    login = cmd.principal.login
    async with uow:
        employee = await uow.employees.by_login(login)
    context = [login, cmd.principal.display_name]
    if employee is not None:
        context += [employee.first_name, employee.last_name, employee.work_email, employee.private_email]
    problems = policy.problems(cmd.new, context=context)
    if cmd.new != cmd.repeat:
        problems.append(PasswordProblem.MISMATCH)
    if cmd.new and cmd.new == cmd.current:
        problems.append(PasswordProblem.SAME_AS_CURRENT)

    outcome, reason = Outcome.FAILURE, "directory_error"
    try:
        if problems:
            reason = "policy"
            raise PasswordRejected(problems)
        try:
            await directory.change_password(login, cmd.current, cmd.new)
        except AuthenticationFailed as exc:
            reason = "wrong_current_password"
            raise WrongCurrentPassword("The current password is not correct.") from exc
        outcome = Outcome.SUCCESS
        await revoke_access(login, sessions=sessions, uow=uow, clock=clock)
    finally:
        async with uow:
            await uow.audit.add(
                AuditEvent(
                    occurred_at=clock.now(),
                    actor=login,
                    action="password.change",
                    outcome=outcome,
                    target=login,
                    client_address=cmd.client,
                    details={"reason": reason} if outcome is Outcome.FAILURE else {},
                )
            )
            await uow.commit()


async def set_password_by_operator(
    login: str,
    new: str,
    *,
    operator: str,
    directory: Directory,
    uow: UnitOfWork,
    sessions: SessionStore,
    clock: Clock,
    policy: PasswordPolicy,
) -> None:
    """An administrator sets an account's password (embedded directory set-up, recovery). Same policy as
    everyone else; the account's sessions and tokens end; the operator is audited, the password never."""
    async with uow:
        employee = await uow.employees.by_login(login)
    context = [login]
    if employee is not None:
        context += [employee.first_name, employee.last_name, employee.work_email, employee.private_email]
    problems = policy.problems(new, context=context)
    if problems:
        raise PasswordRejected(problems)
    await directory.reset_password(login, new)
    await revoke_access(login, sessions=sessions, uow=uow, clock=clock)
    async with uow:
        await uow.audit.add(
            AuditEvent(
                occurred_at=clock.now(),
                actor=operator,
                action="password.set_by_operator",
                outcome=Outcome.SUCCESS,
                target=login,
            )
        )
        await uow.commit()
