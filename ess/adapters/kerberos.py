"""Kerberos / SPNEGO ("Windows integrated login"): accept a browser's Negotiate token with the service keytab
(python-gssapi on MIT Kerberos), and say in plain words why a ticket was refused."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from typing import Final

import gssapi
from gssapi.raw.misc import GSSError

from ess.domain.auth.model import FederatedIdentity, SsoReason, SsoRefused
from ess.domain.errors import ServiceUnavailable

# Negotiate tokens larger than this are refused unread (a Kerberos ticket with a big PAC stays far below).
MAX_TOKEN_BYTES: Final = 64 * 1024
# Pieces of MIT Kerberos's messages, and what they mean for the person at the browser.
_REASONS: Final = (
    ("expired", SsoReason.EXPIRED),
    ("skew", SsoReason.CLOCK_SKEW),
    ("key version", SsoReason.TICKET_KEY),
    ("kvno", SsoReason.TICKET_KEY),
    ("decrypt integrity", SsoReason.TICKET_KEY),
    ("cannot find key", SsoReason.TICKET_KEY),
    ("wrong principal", SsoReason.TICKET_KEY),
)


@dataclass(frozen=True, slots=True)
class KerberosConfig:
    keytab: str
    # HTTP/ess.corp.example@CORP.EXAMPLE; empty: any service key in the keytab.
    service_principal: str = ""
    # Realms whose users may sign in (upper case); empty: any realm the keytab's key accepts tickets from.
    realms: tuple[str, ...] = field(default_factory=tuple)


class GssapiTickets:
    """Accepts one-leg SPNEGO/Kerberos tokens (what browsers send) with the configured keytab."""

    def __init__(self, config: KerberosConfig) -> None:
        self.config = config

    async def accept(self, token: bytes) -> FederatedIdentity:
        if not token or len(token) > MAX_TOKEN_BYTES:
            raise SsoRefused("The Negotiate token is empty or too large.", reason=SsoReason.FORGED)
        return await asyncio.to_thread(self._accept, token)

    def _credentials(self) -> gssapi.Credentials:
        name = (
            gssapi.Name(self.config.service_principal, gssapi.NameType.kerberos_principal)
            if self.config.service_principal
            else None
        )
        return gssapi.Credentials(name=name, usage="accept", store={"keytab": self.config.keytab})

    def _accept(self, token: bytes) -> FederatedIdentity:
        try:
            context = gssapi.SecurityContext(creds=self._credentials(), usage="accept")
            context.step(token)
        except GSSError as exc:
            raise _refusal(exc) from exc
        if not context.complete or context.initiator_name is None:
            raise SsoRefused("The Negotiate exchange needs more steps than ESS supports.", reason=SsoReason.FORGED)
        initiator = str(context.initiator_name)
        login, _, realm = initiator.rpartition("@")
        if self.config.realms and realm.upper() not in self.config.realms:
            raise SsoRefused("The ticket's realm is not accepted.", reason=SsoReason.UNKNOWN_ACCOUNT)
        return FederatedIdentity(method="kerberos", login=login or initiator, subject=initiator)

    def check(self) -> str:
        """For `ess directory check`: the keytab is readable and holds the service key."""
        if not os.access(self.config.keytab, os.R_OK):
            raise ServiceUnavailable(f"The keytab {self.config.keytab} is missing or not readable by ESS.")
        try:
            credentials = self._credentials()
        except GSSError as exc:
            raise ServiceUnavailable(f"The keytab cannot be used: {_plain(exc)}") from exc
        return f"keytab {self.config.keytab}, service {credentials.name or 'any key in the keytab'}"


def _plain(exc: GSSError) -> str:
    return " ".join(str(exc).split())[:300]


def _refusal(exc: GSSError) -> SsoRefused:
    text = _plain(exc).lower()
    for piece, reason in _REASONS:
        if piece in text:
            return SsoRefused(f"The Kerberos ticket was refused: {_plain(exc)}", reason=reason)
    return SsoRefused(f"The Kerberos ticket was refused: {_plain(exc)}", reason=SsoReason.FORGED)
