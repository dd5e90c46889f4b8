"""The Directory port: one interface for the embedded store, OpenLDAP and Active Directory."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from ess.domain.directory.model import AccountStatus, AuthOutcome, DirectoryAccount


@runtime_checkable
class Directory(Protocol):
    """Where accounts and passwords live: the embedded store, OpenLDAP or Active Directory."""

    async def authenticate(self, login: str, password: str) -> AuthOutcome:
        """Check a password. Failures count towards the directory's own lockout."""
        ...

    async def find_account(self, login_or_email: str) -> DirectoryAccount | None:
        """The one account with this login or e-mail, or None (also when ambiguous)."""
        ...

    async def account_status(self, login: str) -> AccountStatus:
        """Locked, disabled, expired, must change. Raises NotFound."""
        ...

    async def change_password(self, login: str, current: str, new: str) -> None:
        """The user changes their own password. Raises AuthenticationFailed or PolicyViolation."""
        ...

    async def reset_password(self, login: str, new: str) -> None:
        """Set a password with service rights (forgotten password). Raises NotFound or PolicyViolation."""
        ...

    async def unlock(self, login: str) -> None:
        """Clear a lockout. Raises NotFound."""
        ...

    async def groups(self, login: str) -> frozenset[str]:
        """Names of the groups the account is a member of."""
        ...

    async def read_attributes(self, login: str, fields: Sequence[str]) -> dict[str, str]:
        """Values of HR fields kept in the directory ("" when unset; unmapped fields are left out). Raises NotFound."""
        ...

    async def write_attributes(self, login: str, values: Mapping[str, str]) -> None:
        """Write HR fields to their directory attributes ("" clears; unmapped fields are ignored). Raises NotFound."""
        ...

    async def ping(self) -> None:
        """Raise ServiceUnavailable when the directory cannot answer."""
        ...
