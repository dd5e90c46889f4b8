"""The ports of the password use cases: the breach corpus, the reminder record, and what they are wired with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ess.domain.auth.model import AuthPolicy
from ess.domain.auth.ports import AttemptCounter, AuthUnitOfWork, SessionStore
from ess.domain.directory.ports import Directory
from ess.domain.passwords.model import PasswordPolicy
from ess.domain.shared import Clock, Notifier


class BreachedPasswords(Protocol):
    """A breach corpus asked without giving the password away (Have I Been Pwned's k-anonymity range API)."""

    async def times_seen(self, password: str) -> int:
        """How often the password appears in known breaches (0: never). Raises ServiceUnavailable when the service
        cannot answer in time; callers go on without the check then."""
        ...


class PasswordReminderRepository(Protocol):
    async def sent_offsets(self, login: str, expires_at: datetime) -> set[int]:
        """The offsets (days before expiry) already reminded for this account's password expiring at `expires_at`."""
        ...

    async def add(
        self, login: str, expires_at: datetime, offset_days: int, *, recipient: str, sent_at: datetime
    ) -> None: ...


class PasswordsUnitOfWork(AuthUnitOfWork, Protocol):
    @property
    def password_reminders(self) -> PasswordReminderRepository: ...


@dataclass(frozen=True, slots=True)
class PasswordDeps:
    """What the password use cases run with, wired once by the composition root."""

    new_uow: Callable[[], PasswordsUnitOfWork]
    directory: Directory
    sessions: SessionStore
    attempts: AttemptCounter
    clock: Clock
    notifier: Notifier
    # The login limits: a change from the login page counts like a login attempt.
    auth_policy: AuthPolicy
    policy: PasswordPolicy
    # Have I Been Pwned when [passwords] hibp_enabled, else None.
    breached: BreachedPasswords | None = None
