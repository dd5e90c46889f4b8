"""The checks every flow that sets a password shares (change, expired change, reset, operator), and their errors."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ess.domain.directory.model import normalise_password
from ess.domain.errors import AuthenticationFailed, PolicyViolation, ServiceUnavailable
from ess.domain.hr.ports import EmployeeRepository
from ess.domain.passwords.model import PasswordPolicy, PasswordProblem
from ess.domain.passwords.ports import BreachedPasswords

logger = logging.getLogger("ess.passwords")


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


async def user_context(login: str, employees: EmployeeRepository, *, display_name: str = "") -> list[str]:
    """The words of this person a password must not contain: login, names, e-mail addresses (read in the caller's
    open unit of work)."""
    employee = await employees.by_login(login)
    context = [login, display_name]
    if employee is not None:
        context += [employee.first_name, employee.last_name, employee.work_email, employee.private_email]
    return [value for value in context if value]


async def check_new_password(
    new: str,
    *,
    policy: PasswordPolicy,
    context: Sequence[str] = (),
    repeat: str | None = None,
    current: str | None = None,
    breached: BreachedPasswords | None = None,
) -> tuple[list[PasswordProblem], str]:
    """Every problem of a new password, for every flow that sets one (change, expired change, reset, operator).
    The breach corpus is asked only when the offline rules pass; when it cannot answer the change goes on
    (the offline list still applies), and the second value says so for the audit: "ok", "off" or "unavailable"."""
    new = normalise_password(new)
    problems = policy.problems(new, context=context)
    if repeat is not None and new != normalise_password(repeat):
        problems.append(PasswordProblem.MISMATCH)
    if current is not None and new and new == normalise_password(current):
        problems.append(PasswordProblem.SAME_AS_CURRENT)
    breach_check = "off"
    if breached is not None and not problems:
        try:
            if await breached.times_seen(new) > 0:
                problems.append(PasswordProblem.BREACHED)
            breach_check = "ok"
        except ServiceUnavailable:
            breach_check = "unavailable"
            logger.warning("The breached-password service did not answer; the change goes on without it")
    return problems, breach_check
