"""Use cases: an employee changes their own password (also an expired one, from the login page); an operator sets
one. Each checks the same policy, lets the directory decide last, and ends every other way into the account."""

from __future__ import annotations

from dataclasses import dataclass

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.auth.login import MAX_PASSWORD_LENGTH, RIGHT_PASSWORD, normalize_login
from ess.domain.auth.model import Principal, is_plausible_login
from ess.domain.auth.sessions import revoke_access
from ess.domain.auth.throttle import admit, refund, settle
from ess.domain.directory.model import AuthOutcome, DirectoryPasswordRejected, normalise_password
from ess.domain.errors import AuthenticationFailed, ServiceUnavailable, Throttled
from ess.domain.passwords.checks import PasswordRejected, WrongCurrentPassword, check_new_password, user_context
from ess.domain.passwords.ports import PasswordDeps

Details = dict[str, str | int | bool | None]


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


async def _end_other_access(login: str, deps: PasswordDeps) -> None:
    async with deps.new_uow() as uow:
        await revoke_access(login, uow, sessions=deps.sessions, now=deps.clock.now())
        await uow.commit()


async def change_password(cmd: ChangePassword, *, deps: PasswordDeps) -> None:
    """Check the policy first, then let the directory check the current password and store the new one.
    Afterwards every session and API token of the account ends: whoever knew the old password is out."""
    login = cmd.principal.login
    current, new = normalise_password(cmd.current), normalise_password(cmd.new)
    async with deps.new_uow() as uow:
        context = await user_context(login, uow.employees, display_name=cmd.principal.display_name)
    problems, breach_check = await check_new_password(
        new, policy=deps.policy, context=context, repeat=cmd.repeat, current=current, breached=deps.breached
    )

    outcome, reason = Outcome.FAILURE, "directory_error"
    details: Details = {"breach_check": breach_check}
    try:
        if problems:
            reason = "policy"
            details["problems"] = ",".join(problems)
            raise PasswordRejected(problems)
        try:
            await deps.directory.change_password(login, current, new)
        except AuthenticationFailed as exc:
            reason = "wrong_current_password"
            raise WrongCurrentPassword("The current password is not correct.") from exc
        except DirectoryPasswordRejected as exc:
            reason = "directory_policy"
            details["directory_reason"] = exc.reason.value
            raise
        outcome = Outcome.SUCCESS
        await _end_other_access(login, deps)
    finally:
        if outcome is Outcome.FAILURE:
            details["reason"] = reason
        await _audit(deps, login, "password.change", outcome, target=login, client=cmd.client, details=details)


async def change_expired_password(cmd: ChangeExpiredPassword, *, deps: PasswordDeps) -> None:
    """An expired or must-change password replaced from the login page. Counted like a login attempt (the same
    counters, before any directory work); the current password is checked by the directory first, and only an
    account whose password is right but expired (or must change) gets further. No session is opened: the user logs
    in with the new password afterwards."""
    login = normalize_login(cmd.login)
    current, new = normalise_password(cmd.current), normalise_password(cmd.new)
    outcome = await _verify_current(cmd, login, current, deps)
    async with deps.new_uow() as uow:
        context = await user_context(login, uow.employees)
    problems, breach_check = await check_new_password(
        new, policy=deps.policy, context=context, repeat=cmd.repeat, current=current, breached=deps.breached
    )
    details: Details = {"state": outcome.value, "breach_check": breach_check}
    if problems:
        await _audit_expired(deps, cmd, login, Outcome.FAILURE, {**details, "reason": "policy"})
        raise PasswordRejected(problems)
    try:
        await deps.directory.change_password(login, current, new)
    except DirectoryPasswordRejected as exc:
        details |= {"reason": "directory_policy", "directory_reason": exc.reason.value}
        await _audit_expired(deps, cmd, login, Outcome.FAILURE, details)
        raise
    except AuthenticationFailed:
        await _audit_expired(deps, cmd, login, Outcome.FAILURE, {**details, "reason": "directory_refused"})
        raise
    await _end_other_access(login, deps)
    await _audit_expired(deps, cmd, login, Outcome.SUCCESS, details)


async def _verify_current(cmd: ChangeExpiredPassword, login: str, current: str, deps: PasswordDeps) -> AuthOutcome:
    """Count the attempt like a login, then let the directory check the current password. Only a right password
    (expired, must change, or simply valid) gets further; the attempt is then refunded."""
    try:
        admission = await admit(
            login,
            cmd.client,
            known_device=False,
            policy=deps.auth_policy,
            attempts=deps.attempts,
            now=deps.clock.now(),
        )
    except Throttled:
        await _audit_expired(deps, cmd, login, Outcome.DENIED, {"reason": "throttled"})
        raise

    outcome = AuthOutcome.INVALID_CREDENTIALS
    if is_plausible_login(login) and current and len(current) <= MAX_PASSWORD_LENGTH:
        try:
            outcome = await deps.directory.authenticate(login, current)
        except ServiceUnavailable:
            await refund(admission, attempts=deps.attempts)
            await _audit_expired(deps, cmd, login, Outcome.FAILURE, {"reason": "directory_unavailable"})
            raise
    # OK is let through as well: whoever knows a valid password may change it; the answer reveals nothing new.
    # A right password does not count against the account or the office's address.
    await settle(admission, right_password=outcome in RIGHT_PASSWORD, attempts=deps.attempts)
    if outcome not in RIGHT_PASSWORD:
        await _audit_expired(deps, cmd, login, Outcome.FAILURE, {"reason": outcome.value})
        raise AuthenticationFailed("The login or the password is not correct.")
    return outcome


async def set_password_by_operator(login: str, new: str, *, operator: str, deps: PasswordDeps) -> None:
    """An administrator sets an account's password (embedded directory set-up, recovery). Same policy as
    everyone else; the account's sessions and tokens end; the operator is audited, the password never."""
    new = normalise_password(new)
    async with deps.new_uow() as uow:
        context = await user_context(login, uow.employees)
    problems, _ = await check_new_password(new, policy=deps.policy, context=context)
    if problems:
        raise PasswordRejected(problems)
    await deps.directory.reset_password(login, new)
    await _end_other_access(login, deps)
    await _audit(deps, operator, "password.set_by_operator", Outcome.SUCCESS, target=login)


async def _audit_expired(
    deps: PasswordDeps, cmd: ChangeExpiredPassword, login: str, outcome: Outcome, details: Details
) -> None:
    actor = login if is_plausible_login(login) else "(invalid login)"
    await _audit(
        deps,
        actor,
        "password.change_expired",
        outcome,
        target=actor,
        client=cmd.client,
        details={"channel": cmd.channel, **details},
    )


async def _audit(
    deps: PasswordDeps,
    actor: str,
    action: str,
    outcome: Outcome,
    *,
    target: str,
    client: str = "",
    details: Details | None = None,
) -> None:
    async with deps.new_uow() as uow:
        await uow.audit.add(
            AuditEvent(
                occurred_at=deps.clock.now(),
                actor=actor,
                action=action,
                outcome=outcome,
                target=target,
                client_address=client,
                details=details or {},
            )
        )
        await uow.commit()
