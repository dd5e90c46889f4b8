"""Use cases: an employee changes their own password (also an expired one, from the login page); the policy check
that every flow setting a password shares."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.auth.model import Principal, is_plausible_login
from ess.domain.auth.service import (
    MAX_PASSWORD_LENGTH,
    AuthPolicy,
    _account_key,
    _client_key,
    normalize_login,
    revoke_access,
)
from ess.domain.errors import AuthenticationFailed, PolicyViolation, ServiceUnavailable, Throttled
from ess.domain.passwords.model import PasswordPolicy, PasswordProblem, normalise_password
from ess.domain.ports import (
    AttemptCounter,
    AuthOutcome,
    BreachedPasswords,
    Clock,
    Directory,
    DirectoryPasswordRejected,
    SessionStore,
    UnitOfWork,
)

logger = logging.getLogger("ess.passwords")


@dataclass(frozen=True, slots=True)
class ChangePassword:
    principal: Principal
    current: str
    new: str
    repeat: str
    client: str


@dataclass(frozen=True, slots=True)
class ChangeExpiredPassword:
    """From the login page: the account is not logged in, so the login and the current password come again."""

    login: str
    current: str
    new: str
    repeat: str
    client: str
    channel: str = "web"


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


async def user_context(login: str, *, uow: UnitOfWork, display_name: str = "") -> list[str]:
    """The words of this person a password must not contain: login, names, e-mail addresses."""
    async with uow:
        employee = await uow.employees.by_login(login)
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


async def change_password(
    cmd: ChangePassword,
    *,
    directory: Directory,
    uow: UnitOfWork,
    sessions: SessionStore,
    clock: Clock,
    policy: PasswordPolicy,
    breached: BreachedPasswords | None = None,
) -> None:
    """Check the policy first, then let the directory check the current password and store the new one.
    Afterwards every session and API token of the account ends: whoever knew the old password is out."""
    login = cmd.principal.login
    current, new = normalise_password(cmd.current), normalise_password(cmd.new)
    context = await user_context(login, uow=uow, display_name=cmd.principal.display_name)
    problems, breach_check = await check_new_password(
        new, policy=policy, context=context, repeat=cmd.repeat, current=current, breached=breached
    )

    outcome, reason = Outcome.FAILURE, "directory_error"
    details: dict[str, str | int | bool | None] = {"breach_check": breach_check}
    try:
        if problems:
            reason = "policy"
            details["problems"] = ",".join(problems)
            raise PasswordRejected(problems)
        try:
            await directory.change_password(login, current, new)
        except AuthenticationFailed as exc:
            reason = "wrong_current_password"
            raise WrongCurrentPassword("The current password is not correct.") from exc
        except DirectoryPasswordRejected as exc:
            reason = "directory_policy"
            details["directory_reason"] = exc.reason.value
            raise
        outcome = Outcome.SUCCESS
        await revoke_access(login, sessions=sessions, uow=uow, clock=clock)
    finally:
        if outcome is Outcome.FAILURE:
            details["reason"] = reason
        async with uow:
            await uow.audit.add(
                AuditEvent(
                    occurred_at=clock.now(),
                    actor=login,
                    action="password.change",
                    outcome=outcome,
                    target=login,
                    client_address=cmd.client,
                    details=details,
                )
            )
            await uow.commit()


async def change_expired_password(
    cmd: ChangeExpiredPassword,
    *,
    directory: Directory,
    uow: UnitOfWork,
    attempts: AttemptCounter,
    sessions: SessionStore,
    clock: Clock,
    auth_policy: AuthPolicy,
    policy: PasswordPolicy,
    breached: BreachedPasswords | None = None,
) -> None:
    """An expired or must-change password replaced from the login page. Counted like a login attempt (the same
    counters, before any directory work); the current password is checked by the directory first, and only an
    account whose password is right but expired (or must change) gets further. No session is opened: the user logs
    in with the new password afterwards."""
    login = normalize_login(cmd.login)
    actor = login if is_plausible_login(login) else "(invalid login)"
    account_key, client_key = _account_key(login), _client_key(cmd.client)
    window = int(auth_policy.window.total_seconds())
    current, new = normalise_password(cmd.current), normalise_password(cmd.new)

    by_account = await attempts.hit(account_key, window)
    by_client = await attempts.hit(client_key, window)
    if by_account > auth_policy.failures_per_account or by_client > auth_policy.failures_per_client:
        await _audit_expired(uow, clock, actor, outcome=Outcome.DENIED, cmd=cmd, details={"reason": "throttled"})
        raise Throttled("Too many failed attempts. Please wait a few minutes.", retry_after_seconds=window)

    outcome = AuthOutcome.INVALID_CREDENTIALS
    if is_plausible_login(login) and current and len(current) <= MAX_PASSWORD_LENGTH:
        try:
            outcome = await directory.authenticate(login, current)
        except ServiceUnavailable:
            await attempts.release(account_key)
            await attempts.release(client_key)
            await _audit_expired(
                uow, clock, actor, outcome=Outcome.FAILURE, cmd=cmd, details={"reason": "directory_unavailable"}
            )
            raise
    # OK is let through as well: whoever knows a valid password may change it; the answer reveals nothing new.
    if outcome not in (AuthOutcome.PASSWORD_EXPIRED, AuthOutcome.MUST_CHANGE, AuthOutcome.OK):
        await _audit_expired(uow, clock, actor, outcome=Outcome.FAILURE, cmd=cmd, details={"reason": outcome.value})
        raise AuthenticationFailed("The login or the password is not correct.")
    # The current password is right: the attempt does not count against the account or the office's address.
    await attempts.clear(account_key)
    await attempts.release(client_key)

    context = await user_context(login, uow=uow)
    problems, breach_check = await check_new_password(
        new, policy=policy, context=context, repeat=cmd.repeat, current=current, breached=breached
    )
    details: dict[str, str | int | bool | None] = {"state": outcome.value, "breach_check": breach_check}
    if problems:
        await _audit_expired(
            uow, clock, actor, outcome=Outcome.FAILURE, cmd=cmd, details={**details, "reason": "policy"}
        )
        raise PasswordRejected(problems)
    try:
        await directory.change_password(login, current, new)
    except DirectoryPasswordRejected as exc:
        details |= {"reason": "directory_policy", "directory_reason": exc.reason.value}
        await _audit_expired(uow, clock, actor, outcome=Outcome.FAILURE, cmd=cmd, details=details)
        raise
    except AuthenticationFailed:
        await _audit_expired(
            uow, clock, actor, outcome=Outcome.FAILURE, cmd=cmd, details={**details, "reason": "directory_refused"}
        )
        raise
    await revoke_access(login, sessions=sessions, uow=uow, clock=clock)
    await _audit_expired(uow, clock, actor, outcome=Outcome.SUCCESS, cmd=cmd, details=details)


async def _audit_expired(
    uow: UnitOfWork,
    clock: Clock,
    actor: str,
    *,
    outcome: Outcome,
    cmd: ChangeExpiredPassword,
    details: dict[str, str | int | bool | None],
) -> None:
    async with uow:
        await uow.audit.add(
            AuditEvent(
                occurred_at=clock.now(),
                actor=actor,
                action="password.change_expired",
                outcome=outcome,
                target=actor,
                client_address=cmd.client,
                details={"channel": cmd.channel, **details},
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
    new = normalise_password(new)
    problems, _ = await check_new_password(new, policy=policy, context=await user_context(login, uow=uow))
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
