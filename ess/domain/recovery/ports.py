"""The ports recovery needs besides the shared ones: its storage, background jobs, SMS, TOTP and sealing secrets, and
what the recovery use cases run with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ess.domain.auth.ports import AttemptCounter, AuthUnitOfWork, RecoveryLinks, SessionStore
from ess.domain.directory.ports import Directory
from ess.domain.mail.ports import MailDeps, MailUnitOfWork
from ess.domain.passwords.model import PasswordPolicy
from ess.domain.passwords.ports import BreachedPasswords
from ess.domain.recovery.model import RecoveryContact, RecoveryPolicy, RecoveryProfile, RecoveryToken
from ess.domain.shared import Clock, Notifier


class RecoveryRepository(RecoveryLinks, Protocol):
    async def add_token(self, token: RecoveryToken) -> None:
        """Store a new link; every other unused link of the same account and purpose stops working."""
        ...

    async def token(self, token_hash: str) -> RecoveryToken | None: ...

    async def claim_token(self, token_hash: str, at: datetime) -> bool:
        """Mark the link used if it still is usable at `at`; False when another request was first."""
        ...

    async def update_token(self, token: RecoveryToken) -> None:
        """Store the used time, failed-code count and SMS code of a link."""
        ...

    async def profile(self, login: str) -> RecoveryProfile: ...

    async def save_profile(self, profile: RecoveryProfile) -> None: ...

    async def contact(self, login: str) -> RecoveryContact | None:
        """Work and private e-mail of the employee with this login, or None when HR does not know the login."""
        ...

    async def set_private_email(self, login: str, address: str, verified_at: datetime | None) -> None: ...


class RecoveryUnitOfWork(AuthUnitOfWork, MailUnitOfWork, Protocol):
    @property
    def recovery(self) -> RecoveryRepository: ...


class Jobs(Protocol):
    """Work that runs after the answer has gone out (mail and directory lookups of the forgot-password flow)."""

    def submit(self, job: Callable[[], Awaitable[None]], *, name: str) -> None: ...


class SmsGateway(Protocol):
    async def send(self, number: str, text: str) -> None:
        """Deliver a text message to an E.164 number or raise ServiceUnavailable."""
        ...


class Authenticator(Protocol):
    """TOTP (RFC 6238) for authenticator apps."""

    def new_secret(self) -> str: ...

    def provisioning_uri(self, secret: str, *, account: str, issuer: str) -> str: ...

    def matching_step(self, secret: str, code: str, at: datetime) -> int | None:
        """The time step the code belongs to (the current one or a neighbour), or None when it does not match."""
        ...


class SecretBox(Protocol):
    """Authenticated encryption for secrets that must be read back (TOTP seeds)."""

    def seal(self, plain: str) -> str: ...

    def open(self, sealed: str) -> str: ...


@dataclass(frozen=True, slots=True)
class RecoveryDeps:
    """What the recovery use cases run with, wired once by the composition root."""

    directory: Directory
    new_uow: Callable[[], RecoveryUnitOfWork]
    sessions: SessionStore
    attempts: AttemptCounter
    clock: Clock
    notifier: Notifier
    jobs: Jobs
    sms: SmsGateway
    authenticator: Authenticator
    box: SecretBox
    policy: RecoveryPolicy
    password_policy: PasswordPolicy
    # Key for the HMAC of short SMS codes (from the application secret).
    code_key: str
    # The mail queue: a one-time link's mail is queued in the transaction that stores the link.
    mail: MailDeps
    # Have I Been Pwned when [passwords] hibp_enabled: a reset checks what a change checks.
    breached: BreachedPasswords | None = None
