"""Use cases of browser sessions: open one at login, resume it on each request, log out, end all of an account's."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.auth.login import still_allowed
from ess.domain.auth.model import Principal, Purpose, SessionRecord
from ess.domain.auth.ports import AuthDeps, AuthUnitOfWork, SessionStore


async def open_session(principal: Principal, *, deps: AuthDeps) -> str:
    """A fresh session id for every login, so an id planted before login is worthless afterwards."""
    now = deps.clock.now()
    record = SessionRecord(principal=principal, created_at=now, last_seen_at=now)
    return await deps.sessions.create(record, int(deps.policy.session_idle.total_seconds()))


async def resume_session(session_id: str, *, deps: AuthDeps) -> Principal | None:
    """The principal of a live session; None (and the session gone) after a timeout, a revocation or when the
    account was disabled. Roles are re-read (and the last-seen time written) at most every `policy.principal_cache`:
    every request would be a directory round trip and a store write otherwise."""
    sessions, policy = deps.sessions, deps.policy
    record = await sessions.get(session_id)
    if record is None:
        return None
    now = deps.clock.now()
    revoked_before = await sessions.revoked_before(record.principal.login)
    if (
        now - record.created_at >= policy.session_absolute
        or now - record.last_seen_at >= policy.session_idle
        or (revoked_before is not None and record.created_at < revoked_before)
    ):
        await sessions.delete(session_id)
        return None
    if now - record.last_seen_at < policy.principal_cache:
        return record.principal
    principal = await still_allowed(record.principal.login, deps=deps)
    if principal is None:
        await sessions.delete(session_id)
        return None
    await sessions.touch(
        session_id, replace(record, principal=principal, last_seen_at=now), int(policy.session_idle.total_seconds())
    )
    return principal


async def log_out(session_id: str, principal: Principal, *, deps: AuthDeps, client: str) -> None:
    await deps.sessions.delete(session_id)
    async with deps.new_uow() as uow:
        await uow.audit.add(
            AuditEvent(
                occurred_at=deps.clock.now(),
                actor=principal.login,
                action="auth.logout",
                outcome=Outcome.SUCCESS,
                target=principal.login,
                client_address=client,
            )
        )
        await uow.commit()


async def revoke_access(login: str, uow: AuthUnitOfWork, *, sessions: SessionStore, now: datetime) -> None:
    """End every browser session, API token and outstanding reset or unlock link of an account (after a password
    change or reset), inside the caller's open unit of work; the caller commits."""
    await sessions.revoke_all(login, before=now)
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
