"""The ports of the login second factor: its storage, the WebAuthn ceremonies, and what its use cases run with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ess.domain.auth.ports import AttemptCounter
from ess.domain.mfa.model import Factor, MfaPolicy
from ess.domain.recovery.ports import Authenticator, RecoveryDeps, RecoveryUnitOfWork, SecretBox
from ess.domain.shared import Clock


class FactorRepository(Protocol):
    async def factors(self, login: str) -> list[Factor]:
        """Every factor of the account, confirmed or not, oldest first."""
        ...

    async def add(self, factor: Factor) -> int:
        """Store a factor; returns its id."""
        ...

    async def confirm(self, factor_id: int, step: int, at: datetime) -> None:
        """The factor counts from now on; every other unconfirmed one of the account goes."""
        ...

    async def rename(self, factor_id: int, label: str) -> None: ...

    async def advance_step(self, factor_id: int, step: int, at: datetime) -> bool:
        """Record a TOTP time step as used, only if it is later than the last one (False: replayed)."""
        ...

    async def record_passkey_use(self, factor_id: int, sign_count: int, at: datetime) -> None: ...

    async def remove(self, login: str, factor_id: int) -> bool: ...

    async def remove_all(self, login: str) -> int:
        """Every factor and recovery code of the account; returns how many factors went."""
        ...

    async def replace_recovery_codes(self, login: str, code_hashes: list[str], at: datetime) -> None: ...

    async def use_recovery_code(self, login: str, code_hash: str, at: datetime) -> bool:
        """Mark an unused code as used; False when there is none (wrong, or used before)."""
        ...

    async def recovery_codes_left(self, login: str) -> int: ...


class MfaUnitOfWork(RecoveryUnitOfWork, Protocol):
    @property
    def factors(self) -> FactorRepository: ...


@dataclass(frozen=True, slots=True)
class PasskeyRegistration:
    credential_id: str
    public_key: str
    sign_count: int


class Passkeys(Protocol):
    """WebAuthn ceremonies for one relying party (this site). Options and responses are the JSON the browser's
    `navigator.credentials` API speaks; challenges come from the caller."""

    def registration_options(
        self, *, login: str, display_name: str, user_handle: bytes, challenge: bytes, exclude: list[str]
    ) -> str: ...

    def verify_registration(self, response: str, *, challenge: bytes) -> PasskeyRegistration:
        """Raises SecondFactorWrong when the response does not prove a new credential for this challenge."""
        ...

    def authentication_options(self, *, challenge: bytes, allow: list[str]) -> str: ...

    def credential_of(self, response: str) -> str:
        """The credential id (base64url) a browser's assertion names; SecondFactorWrong when unreadable."""
        ...

    def verify_authentication(self, response: str, *, challenge: bytes, public_key: str, sign_count: int) -> int:
        """The authenticator's new signature counter; SecondFactorWrong when the assertion does not verify."""
        ...


@dataclass(frozen=True, slots=True)
class MfaDeps:
    """What the second-factor use cases run with, wired once by the composition root. `recovery` lends its password
    check, contact addresses and notices."""

    new_uow: Callable[[], MfaUnitOfWork]
    clock: Clock
    attempts: AttemptCounter
    authenticator: Authenticator
    box: SecretBox
    passkeys: Passkeys
    policy: MfaPolicy
    # Key of the recovery codes' HMAC (from the application secret).
    code_key: str
    recovery: RecoveryDeps
