"""What a test needs to know about a running directory server, whatever its flavour."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol


@dataclass(frozen=True)
class DirectoryEndpoint:
    """Connection facts for ESS's LDAP settings (see ess.settings.LdapSettings)."""

    kind: Literal["openldap", "activedirectory"]
    uris: tuple[str, ...]
    start_tls: bool
    ca_file: Path
    # The service account ESS binds as: NOT the rootdn / Administrator, so the password policy applies to it.
    bind_dn: str
    bind_password: str
    user_base_dn: str
    group_base_dn: str
    user_filter: str
    login_attribute: str
    email_attribute: str
    # Full rights, for test set-up only.
    admin_dn: str
    admin_password: str


class DirectoryServer(Protocol):
    """A directory the tests start themselves. stop() and start() keep the data and the port."""

    @property
    def endpoint(self) -> DirectoryEndpoint: ...

    def add_user(
        self,
        login: str,
        password: str,
        *,
        given_name: str,
        surname: str,
        mail: str,
        groups: Sequence[str] = (),
        attributes: dict[str, str] | None = None,
    ) -> str:
        """Create an enabled account (member of the named groups, created if missing); returns its DN."""
        ...

    def force_must_change(self, login: str) -> None:
        """Flag the account "must change the password at next login", as an administrator would."""
        ...

    def stop(self) -> None: ...

    def start(self) -> None: ...
