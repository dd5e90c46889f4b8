"""Use cases of API bearer tokens: issue one for a login, find who holds one, revoke it."""

from __future__ import annotations

from datetime import datetime

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.auth.login import still_allowed
from ess.domain.auth.model import ApiToken, Principal, hash_token, new_secret_token
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
    """Who holds this bearer token, with roles as of now; None for unknown, expired or revoked tokens."""
    async with deps.new_uow() as uow:
        stored = await uow.tokens.by_hash(hash_token(token))
    if stored is None or not stored.is_valid_at(deps.clock.now()):
        return None
    return await still_allowed(stored.login, deps=deps)


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
