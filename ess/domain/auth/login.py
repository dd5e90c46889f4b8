"""Use case: log in with login and password, and the roles an account has right now."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.auth.model import PasswordLoginRefused, Principal, is_plausible_login
from ess.domain.auth.ports import AuthDeps
from ess.domain.auth.throttle import admit, is_known_device, new_device_cookie, refund, settle
from ess.domain.directory.model import AuthOutcome, normalise_password
from ess.domain.errors import AuthenticationFailed, DomainError, NotFound, ServiceUnavailable, Throttled
from ess.domain.hr.model import Role

MAX_LOGIN_LENGTH: Final = 256
MAX_PASSWORD_LENGTH: Final = 1024
# Outcomes that prove the password right.
RIGHT_PASSWORD: Final = frozenset({AuthOutcome.OK, AuthOutcome.PASSWORD_EXPIRED, AuthOutcome.MUST_CHANGE})


class PasswordChangeRequired(DomainError):
    """The password was right but has expired or must be changed first. Only said after a correct password."""

    code = "password_change_required"


@dataclass(frozen=True, slots=True)
class LogIn:
    login: str
    password: str
    client: str
    channel: str = "web"
    # The browser's known-device cookie, if any (see auth.throttle).
    device: str = ""


def normalize_login(raw: str) -> str:
    return raw.strip().lower()[:MAX_LOGIN_LENGTH]


async def log_in(cmd: LogIn, *, deps: AuthDeps) -> Principal:
    """Check the credentials and return who logged in. Every failure looks the same to the caller."""
    login = normalize_login(cmd.login)
    # What the audit log records as the actor: never raw control characters from the form.
    actor = login if is_plausible_login(login) else "(invalid login)"
    known = is_known_device(cmd.device, login, policy=deps.policy, now=deps.clock.now())
    try:
        admission = await admit(
            login, cmd.client, known_device=known, policy=deps.policy, attempts=deps.attempts, now=deps.clock.now()
        )
    except Throttled:
        await _audit(deps, actor, Outcome.DENIED, cmd, reason="throttled")
        raise

    if not is_plausible_login(login) or not cmd.password or len(cmd.password) > MAX_PASSWORD_LENGTH:
        outcome = AuthOutcome.INVALID_CREDENTIALS  # never ask the directory with an empty password
    else:
        try:
            # The same normalisation as when the password was set (NFC), so a composed and a decomposed "é" match.
            outcome = await deps.directory.authenticate(login, normalise_password(cmd.password))
        except ServiceUnavailable:
            await refund(admission, attempts=deps.attempts)
            await _audit(deps, actor, Outcome.FAILURE, cmd, reason="directory_unavailable")
            raise
    # A right password (also an expired one) resets the directory's failure count: ours are cleared with it.
    await settle(admission, right_password=outcome in RIGHT_PASSWORD, attempts=deps.attempts)

    if outcome in (AuthOutcome.PASSWORD_EXPIRED, AuthOutcome.MUST_CHANGE):
        await _audit(deps, actor, Outcome.DENIED, cmd, reason=outcome.value)
        raise PasswordChangeRequired("Your password must be changed before you can log in.")
    principal = await resolve_principal(login, deps=deps) if outcome is AuthOutcome.OK else None
    if principal is None:
        reason = outcome.value if outcome is not AuthOutcome.OK else "no_access"
        await _audit(deps, actor, Outcome.FAILURE, cmd, reason=reason)
        raise AuthenticationFailed("The login or the password is not correct.")
    if not password_login_allowed(principal, deps=deps):
        # Said only after the right password: it tells nothing to someone guessing.
        await _audit(deps, actor, Outcome.DENIED, cmd, reason="sso_required")
        raise PasswordLoginRefused("This account must sign in with single sign-on.")
    await _audit(deps, actor, Outcome.SUCCESS, cmd, known_device=known)
    return principal


def password_login_allowed(principal: Principal, *, deps: AuthDeps) -> bool:
    """Once single sign-on is on, roles in `policy.sso_only_roles` must use it (and the provider's second factor)."""
    if deps.oidc is None and deps.kerberos is None:
        return True
    return not (principal.roles & deps.policy.sso_only_roles)


def remember_device(principal: Principal, *, deps: AuthDeps) -> str | None:
    """A known-device cookie value for the browser that just logged in (None when devices are not remembered)."""
    if not deps.policy.device_key:
        return None
    return new_device_cookie(principal.login, key=deps.policy.device_key, now=deps.clock.now())


async def resolve_principal(login: str, *, deps: AuthDeps, with_groups: bool = True) -> Principal | None:
    """The roles of an account as of now: HR data and directory groups (unless `with_groups` is False). None when
    it has no business in ESS."""
    async with deps.new_uow().read_only() as uow:
        employee = await uow.employees.by_login(login)
        has_reports = employee is not None and employee.id is not None and await uow.employees.has_reports(employee.id)
    roles: set[Role] = set()
    if employee is not None:
        if employee.exit_date is None or employee.exit_date >= deps.clock.today():
            roles.add(Role.EMPLOYEE)
            if has_reports:
                roles.add(Role.MANAGER)
        roles |= employee.roles
    group_roles = deps.policy.group_roles or {}
    if group_roles and with_groups:
        roles |= {group_roles[g] for g in await deps.directory.groups(login) if g in group_roles}
    if not roles:
        return None
    return Principal(
        login=login,
        display_name=employee.display_name if employee else login,
        roles=frozenset(roles),
        employee_id=employee.id if employee else None,
    )


async def still_allowed(login: str, *, deps: AuthDeps) -> Principal | None:
    """Re-read roles and refuse disabled or deleted accounts: a session or token is only as good as the account.

    While the directory cannot answer, a live session or token goes on with the roles HR data gives (roles from
    directory groups are withheld until it answers again): an outage must not log everybody out, nor grant more."""
    return (await checked_principal(login, deps=deps))[0]


async def checked_principal(login: str, *, deps: AuthDeps) -> tuple[Principal | None, bool]:
    """`still_allowed`, and whether the directory answered: only such an answer may be kept for a while."""
    try:
        if (await deps.directory.account_status(login)).disabled:
            return None, True
        return await resolve_principal(login, deps=deps), True
    except NotFound:
        return None, True
    except ServiceUnavailable:
        return await resolve_principal(login, deps=deps, with_groups=False), False


async def _audit(
    deps: AuthDeps, login: str, outcome: Outcome, cmd: LogIn, *, reason: str = "", known_device: bool = False
) -> None:
    async with deps.new_uow() as uow:
        await uow.audit.add(
            AuditEvent(
                occurred_at=deps.clock.now(),
                actor=login or "(empty)",
                action="auth.login",
                outcome=outcome,
                target=login,
                client_address=cmd.client,
                details={
                    "channel": cmd.channel,
                    "method": "password",
                    **({"reason": reason} if reason else {}),
                    **({"known_device": True} if known_device else {}),
                },
            )
        )
        await uow.commit()
