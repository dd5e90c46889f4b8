"""The ports of authentication: sessions, attempt counters, API tokens, and what the use cases are wired with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ess.domain.auth.model import ApiToken, AuthPolicy, FederatedIdentity, Purpose, SessionRecord
from ess.domain.directory.ports import Directory
from ess.domain.hr.ports import EmployeeRepository
from ess.domain.shared import Clock, UnitOfWork


class ApiTokenRepository(Protocol):
    async def add(self, token: ApiToken) -> None: ...

    async def by_hash(self, token_hash: str) -> ApiToken | None: ...

    async def revoke(self, token_hash: str, at: datetime) -> None: ...

    async def revoke_all_for(self, login: str, at: datetime) -> int: ...


class RecoveryLinks(Protocol):
    """The one thing authentication needs of the recovery area's links: that they can be ended."""

    async def revoke_tokens(self, login: str, at: datetime, purposes: tuple[Purpose, ...]) -> int:
        """Mark every unused link of the account for these purposes as used; returns how many."""
        ...


class AuthUnitOfWork(UnitOfWork, Protocol):
    @property
    def employees(self) -> EmployeeRepository: ...

    @property
    def tokens(self) -> ApiTokenRepository: ...

    @property
    def recovery(self) -> RecoveryLinks: ...


class SessionStore(Protocol):
    """Server-side browser sessions. The id handed to the browser is never stored as such."""

    async def create(self, record: SessionRecord, ttl_seconds: int) -> str: ...

    async def get(self, session_id: str) -> SessionRecord | None: ...

    async def touch(self, session_id: str, record: SessionRecord, ttl_seconds: int) -> None: ...

    async def delete(self, session_id: str) -> None: ...

    async def revoke_all(self, login: str, *, before: datetime) -> None:
        """Every session of this account created up to `before` is no longer valid."""
        ...

    async def revoked_before(self, login: str) -> datetime | None: ...

    async def of_login(self, login: str) -> list[SessionRecord]:
        """The account's sessions that are still valid (for the person's own data export), oldest first."""
        ...

    async def remember_token(self, token_hash: str, record: SessionRecord, ttl_seconds: int) -> None:
        """Keep who holds an API token (checked at `record.last_seen_at`) for a short while, shared by every process
        like the sessions, so a token is not re-checked against the database and the directory on each request.
        Does nothing while the token is forgotten (see `forget_token`)."""
        ...

    async def recall_token(self, token_hash: str) -> SessionRecord | None: ...

    async def forget_token(self, token_hash: str, ttl_seconds: int) -> None:
        """Drop what is kept for the token, and keep nothing for it for `ttl_seconds`: a request that checked the
        token just before it was revoked must not cache it afterwards."""
        ...


class AttemptCounter(Protocol):
    """Counts events per key in a fixed window that starts with the first event."""

    async def hit(self, key: str, window_seconds: int) -> int:
        """Atomically add one and return the new count."""
        ...

    async def release(self, key: str) -> None:
        """Take one back (an attempt that turned out not to count)."""
        ...

    async def clear(self, key: str) -> None: ...


class OpenIdProvider(Protocol):
    """An OpenID Connect provider (Entra ID, Keycloak, ADFS, ...): the authorization code flow with PKCE."""

    async def authorization_url(self, *, redirect_uri: str, state: str, nonce: str, code_challenge: str) -> str: ...

    async def redeem(
        self, *, code: str, redirect_uri: str, verifier: str, nonce: str, now: datetime
    ) -> FederatedIdentity:
        """Exchange the code for tokens and check the ID token (signature, issuer, audience, expiry, nonce);
        SsoRefused with the reason otherwise, ServiceUnavailable when the provider does not answer."""
        ...

    async def identity_for_access_token(self, access_token: str) -> FederatedIdentity:
        """Who holds this access token, as the provider's userinfo endpoint says; SsoRefused when it refuses it."""
        ...

    async def logout_url(self, *, post_logout_redirect_uri: str) -> str | None:
        """The provider's end-session URL, where it has one."""
        ...


class TicketAcceptor(Protocol):
    """Kerberos through SPNEGO: the service's keytab accepts a browser's Negotiate token."""

    async def accept(self, token: bytes) -> FederatedIdentity:
        """Who the ticket names; SsoRefused with the reason (expired, clock skew, wrong key, forged) otherwise."""
        ...


@dataclass(frozen=True, slots=True)
class AuthDeps:
    """What the authentication use cases run with, wired once by the composition root."""

    new_uow: Callable[[], AuthUnitOfWork]
    directory: Directory
    sessions: SessionStore
    attempts: AttemptCounter
    clock: Clock
    policy: AuthPolicy
    # Single sign-on, where configured.
    oidc: OpenIdProvider | None = None
    kerberos: TicketAcceptor | None = None
