"""Use cases of API bearer tokens: issue one for a login, find who holds one, revoke it."""

from __future__ import annotations

from datetime import datetime

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.auth.login import checked_principal
from ess.domain.auth.model import ApiToken, Principal, SessionRecord, hash_token, new_secret_token
from ess.domain.auth.ports import AuthDeps


async def issue_api_token(principal: Principal, *, deps: AuthDeps, client: str) -> tuple[str, datetime]:
    """A bearer token for API clients. Only its hash is stored; the caller sees the token once."""
    token = new_secret_token()
    now = deps.clock.now()
    expires_at = now + deps.policy.token_lifetime
    async with deps.new_uow() as uow:
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


async def principal_for_token(token: str, *, deps: AuthDeps) -> Principal | None:
    """Who holds this bearer token, with roles at most `policy.principal_cache` old; None for unknown, expired or
    revoked tokens.

    The answer is kept in the shared store for that long (never past the token's expiry). A cached answer counts
    only while no revocation of the account (password change or reset) is newer than the check that made it; a
    revoked token is dropped from the cache by `revoke_api_token`. Both work across every process at once."""
    token_hash = hash_token(token)
    now = deps.clock.now()
    cached = await deps.sessions.recall_token(token_hash)
    if cached is not None:
        revoked_before = await deps.sessions.revoked_before(cached.principal.login)
        if revoked_before is None or revoked_before < cached.last_seen_at:
            return cached.principal
        await deps.sessions.forget_token(token_hash, int(deps.policy.principal_cache.total_seconds()))
    async with deps.new_uow().read_only() as uow:
        stored = await uow.tokens.by_hash(token_hash)
    if stored is None or not stored.is_valid_at(now):
        return None
    principal, complete = await checked_principal(stored.login, deps=deps)
    ttl_seconds = int(min(deps.policy.principal_cache, stored.expires_at - now).total_seconds())
    # Roles withheld during a directory outage are not kept: the next request asks again.
    if principal is not None and complete and ttl_seconds > 0:
        record = SessionRecord(principal=principal, created_at=stored.created_at, last_seen_at=now)
        await deps.sessions.remember_token(token_hash, record, ttl_seconds)
    return principal


async def revoke_api_token(token: str, principal: Principal, *, deps: AuthDeps, client: str) -> None:
    now = deps.clock.now()
    async with deps.new_uow() as uow:
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
    # After the commit, and for as long as the token could have lived: a request that read the token as valid
    # just before cannot cache it afterwards.
    await deps.sessions.forget_token(hash_token(token), int(deps.policy.token_lifetime.total_seconds()))
