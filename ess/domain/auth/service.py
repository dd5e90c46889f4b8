"""Use cases of authentication: log in, browser sessions, API tokens, log out."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.auth.model import (
    ApiToken,
    Principal,
    SessionRecord,
    hash_token,
    is_plausible_login,
    new_secret_token,
)
from ess.domain.errors import AuthenticationFailed, DomainError, NotFound, ServiceUnavailable, Throttled
from ess.domain.hr.model import Role
from ess.domain.passwords.model import normalise_password
from ess.domain.ports import AttemptCounter, AuthOutcome, Clock, Directory, SessionStore, UnitOfWork
from ess.domain.recovery.model import Purpose

MAX_LOGIN_LENGTH: Final = 256
MAX_PASSWORD_LENGTH: Final = 1024
# A session's last-seen time is written at most this often: every request would be a store write otherwise.
TOUCH_INTERVAL: Final = timedelta(seconds=60)


class PasswordChangeRequired(DomainError):
    """The password was right but has expired or must be changed first. Only said after a correct password."""

    code = "password_change_required"


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    failures_per_account: int = 5
    failures_per_client: int = 30
    window: timedelta = timedelta(minutes=15)
    session_idle: timedelta = timedelta(minutes=30)
    session_absolute: timedelta = timedelta(hours=10)
    token_lifetime: timedelta = timedelta(hours=12)
    group_roles: Mapping[str, Role] | None = None


@dataclass(frozen=True, slots=True)
class LogIn:
    login: str
    password: str
    client: str
    channel: str = "web"


def normalize_login(raw: str) -> str:
    return raw.strip().lower()[:MAX_LOGIN_LENGTH]


def _account_key(login: str) -> str:
    # Keyed by what was typed, existing or not, so throttling behaves the same for unknown accounts.
    return "login-account:" + hashlib.sha256(login.encode("utf-8")).hexdigest()


def _client_key(client: str) -> str:
    return "login-client:" + client


async def log_in(
    cmd: LogIn,
    *,
    directory: Directory,
    uow: UnitOfWork,
    attempts: AttemptCounter,
    clock: Clock,
    policy: AuthPolicy,
) -> Principal:
    """Check the credentials and return who logged in. Every failure looks the same to the caller."""
    login = normalize_login(cmd.login)
    account_key, client_key = _account_key(login), _client_key(cmd.client)
    window = int(policy.window.total_seconds())
    # What the audit log records as the actor: never raw control characters from the form.
    actor = login if is_plausible_login(login) else "(invalid login)"

    # Count first, check the count, then do the work: parallel attempts cannot slip through between check and count.
    # A success refunds its place, so successful logins from a shared office address never add up.
    by_account = await attempts.hit(account_key, window)
    by_client = await attempts.hit(client_key, window)
    if by_account > policy.failures_per_account or by_client > policy.failures_per_client:
        await _audit(uow, clock, actor, Outcome.DENIED, cmd, reason="throttled")
        raise Throttled("Too many failed logins. Please wait a few minutes.", retry_after_seconds=window)

    if not is_plausible_login(login) or not cmd.password or len(cmd.password) > MAX_PASSWORD_LENGTH:
        outcome = AuthOutcome.INVALID_CREDENTIALS  # never ask the directory with an empty password
    else:
        try:
            # The same normalisation as when the password was set (NFC), so a composed and a decomposed "é" match.
            outcome = await directory.authenticate(login, normalise_password(cmd.password))
        except ServiceUnavailable:
            await attempts.release(account_key)
            await attempts.release(client_key)
            await _audit(uow, clock, actor, Outcome.FAILURE, cmd, reason="directory_unavailable")
            raise

    if outcome in (AuthOutcome.PASSWORD_EXPIRED, AuthOutcome.MUST_CHANGE):
        await _audit(uow, clock, actor, Outcome.DENIED, cmd, reason=outcome.value)
        raise PasswordChangeRequired("Your password must be changed before you can log in.")
    principal = (
        await resolve_principal(login, directory=directory, uow=uow, clock=clock, policy=policy)
        if outcome is AuthOutcome.OK
        else None
    )
    if principal is None:
        reason = outcome.value if outcome is not AuthOutcome.OK else "no_access"
        await _audit(uow, clock, actor, Outcome.FAILURE, cmd, reason=reason)
        raise AuthenticationFailed("The login or the password is not correct.")

    await attempts.clear(account_key)
    await attempts.release(client_key)
    await _audit(uow, clock, actor, Outcome.SUCCESS, cmd)
    return principal


async def resolve_principal(
    login: str,
    *,
    directory: Directory,
    uow: UnitOfWork,
    clock: Clock,
    policy: AuthPolicy,
    with_groups: bool = True,
) -> Principal | None:
    """The roles of an account as of now: HR data and directory groups (unless `with_groups` is False). None when
    it has no business in ESS."""
    async with uow:
        employee = await uow.employees.by_login(login)
        has_reports = employee is not None and employee.id is not None and await uow.employees.has_reports(employee.id)
    roles: set[Role] = set()
    if employee is not None:
        if employee.exit_date is None or employee.exit_date >= clock.today():
            roles.add(Role.EMPLOYEE)
            if has_reports:
                roles.add(Role.MANAGER)
        roles |= employee.roles
    group_roles = policy.group_roles or {}
    if group_roles and with_groups:
        roles |= {group_roles[g] for g in await directory.groups(login) if g in group_roles}
    if not roles:
        return None
    return Principal(
        login=login,
        display_name=employee.display_name if employee else login,
        roles=frozenset(roles),
        employee_id=employee.id if employee else None,
    )


async def _still_allowed(
    login: str, *, directory: Directory, uow: UnitOfWork, clock: Clock, policy: AuthPolicy
) -> Principal | None:
    """Re-read roles and refuse disabled or deleted accounts: a session or token is only as good as the account.

    While the directory cannot answer, a live session or token goes on with the roles HR data gives (roles from
    directory groups are withheld until it answers again): an outage must not log everybody out, nor grant more."""
    try:
        if (await directory.account_status(login)).disabled:
            return None
        return await resolve_principal(login, directory=directory, uow=uow, clock=clock, policy=policy)
    except NotFound:
        return None
    except ServiceUnavailable:
        return await resolve_principal(
            login, directory=directory, uow=uow, clock=clock, policy=policy, with_groups=False
        )


async def open_session(principal: Principal, *, sessions: SessionStore, clock: Clock, policy: AuthPolicy) -> str:
    """A fresh session id for every login, so an id planted before login is worthless afterwards."""
    now = clock.now()
    record = SessionRecord(principal=principal, created_at=now, last_seen_at=now)
    return await sessions.create(record, int(policy.session_idle.total_seconds()))


async def resume_session(
    session_id: str,
    *,
    sessions: SessionStore,
    directory: Directory,
    uow: UnitOfWork,
    clock: Clock,
    policy: AuthPolicy,
) -> Principal | None:
    """The principal of a live session; None (and the session gone) after a timeout, a revocation or when the
    account was disabled. Roles are re-read at most every TOUCH_INTERVAL."""
    record = await sessions.get(session_id)
    if record is None:
        return None
    now = clock.now()
    revoked_before = await sessions.revoked_before(record.principal.login)
    if (
        now - record.created_at >= policy.session_absolute
        or now - record.last_seen_at >= policy.session_idle
        or (revoked_before is not None and record.created_at < revoked_before)
    ):
        await sessions.delete(session_id)
        return None
    if now - record.last_seen_at < TOUCH_INTERVAL:
        return record.principal
    principal = await _still_allowed(record.principal.login, directory=directory, uow=uow, clock=clock, policy=policy)
    if principal is None:
        await sessions.delete(session_id)
        return None
    await sessions.touch(
        session_id, replace(record, principal=principal, last_seen_at=now), int(policy.session_idle.total_seconds())
    )
    return principal


async def revoke_access(login: str, *, sessions: SessionStore, uow: UnitOfWork, clock: Clock) -> None:
    """End every browser session and API token of an account (after a password change or reset)."""
    now = clock.now()
    await sessions.revoke_all(login, before=now)
    async with uow:
        revoked = await uow.tokens.revoke_all_for(login, now)
        # Outstanding reset and unlock links die with the old password too (SSP 2.1.3 #5).
        links = await uow.recovery.revoke_tokens(login, now, (Purpose.RESET, Purpose.UNLOCK))
        await uow.audit.add(
            AuditEvent(
                occurred_at=now,
                actor=login,
                action="auth.access_revoked",
                outcome=Outcome.SUCCESS,
                target=login,
                details={"revoked": revoked, **({"recovery_links_revoked": links} if links else {})},
            )
        )
        await uow.commit()


async def log_out(
    session_id: str, principal: Principal, *, sessions: SessionStore, uow: UnitOfWork, clock: Clock, client: str
) -> None:
    await sessions.delete(session_id)
    async with uow:
        await uow.audit.add(
            AuditEvent(
                occurred_at=clock.now(),
                actor=principal.login,
                action="auth.logout",
                outcome=Outcome.SUCCESS,
                target=principal.login,
                client_address=client,
            )
        )
        await uow.commit()


async def issue_api_token(
    principal: Principal, *, uow: UnitOfWork, clock: Clock, policy: AuthPolicy, client: str
) -> tuple[str, datetime]:
    """A bearer token for API clients. Only its hash is stored; the caller sees the token once."""
    token = new_secret_token()
    now = clock.now()
    expires_at = now + policy.token_lifetime
    async with uow:
        await uow.tokens.add(ApiToken(hash_token(token), principal.login, created_at=now, expires_at=expires_at))
        await uow.audit.add(
            AuditEvent(
                occurred_at=now,
                actor=principal.login,
                action="auth.token_issued",
                outcome=Outcome.SUCCESS,
                target=principal.login,
                client_address=client,
                details={"expires_at": expires_at.isoformat()},
            )
        )
        await uow.commit()
    return token, expires_at


async def principal_for_token(
    token: str, *, uow: UnitOfWork, directory: Directory, clock: Clock, policy: AuthPolicy
) -> Principal | None:
    """Who holds this bearer token, with roles as of now; None for unknown, expired or revoked tokens."""
    async with uow:
        stored = await uow.tokens.by_hash(hash_token(token))
    if stored is None or not stored.is_valid_at(clock.now()):
        return None
    return await _still_allowed(stored.login, directory=directory, uow=uow, clock=clock, policy=policy)


async def revoke_api_token(token: str, principal: Principal, *, uow: UnitOfWork, clock: Clock, client: str) -> None:
    now = clock.now()
    async with uow:
        await uow.tokens.revoke(hash_token(token), now)
        await uow.audit.add(
            AuditEvent(
                occurred_at=now,
                actor=principal.login,
                action="auth.token_revoked",
                outcome=Outcome.SUCCESS,
                target=principal.login,
                client_address=client,
            )
        )
        await uow.commit()


async def _audit(uow: UnitOfWork, clock: Clock, login: str, outcome: Outcome, cmd: LogIn, *, reason: str = "") -> None:
    async with uow:
        await uow.audit.add(
            AuditEvent(
                occurred_at=clock.now(),
                actor=login or "(empty)",
                action="auth.login",
                outcome=outcome,
                target=login,
                client_address=cmd.client,
                details={"channel": cmd.channel, **({"reason": reason} if reason else {})},
            )
        )
        await uow.commit()
