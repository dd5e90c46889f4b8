"""Signed values the browser carries between the steps of a login: "the password of <login> was right at <time>",
"this browser passed the second factor of <login> at <time>" and a passkey challenge. Each is an HMAC under the
second factor's own key over its purpose, the login and the time, so none can be forged, moved to another login or
used for another purpose."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

PASSWORD_STEP: Final = "password-step"  # noqa: S105 - a purpose name, not a secret
REMEMBERED: Final = "remembered-device"
CHALLENGE: Final = "passkey-challenge"
CHALLENGE_BYTES: Final = 32


@dataclass(frozen=True, slots=True)
class Ticket:
    login: str
    issued_at: datetime
    nonce: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _mac(key: bytes, purpose: str, login: str, issued: str, nonce: str) -> str:
    message = "\0".join((purpose, login, issued, nonce)).encode("utf-8")
    return _b64(hmac.new(key, message, hashlib.sha256).digest())


def issue(purpose: str, login: str, *, key: bytes, now: datetime, nonce: str = "") -> str:
    """`<login as base64url>.<unix time in milliseconds>.<nonce>.<mac>`; a random nonce unless one is given.
    Milliseconds, so that "issued after the factor was set up" holds even within the same second."""
    nonce = nonce or _b64(secrets.token_bytes(16))
    issued = str(int(now.timestamp() * 1000))
    return ".".join((_b64(login.encode("utf-8")), issued, nonce, _mac(key, purpose, login, issued, nonce)))


def read(purpose: str, value: str, *, key: bytes, now: datetime, lifetime: timedelta) -> Ticket | None:
    """The ticket when the value is genuine, of this purpose and not older than `lifetime`; None otherwise."""
    parts = value.split(".")
    if not key or len(parts) != 4 or len(value) > 2048:
        return None
    encoded, issued, nonce, mac = parts
    try:
        login = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
        issued_at = datetime.fromtimestamp(int(issued) / 1000, tz=UTC)
    except (ValueError, OverflowError):
        return None
    if not hmac.compare_digest(mac, _mac(key, purpose, login, issued, nonce)):
        return None
    if not timedelta(0) <= now - issued_at + timedelta(seconds=1) <= lifetime + timedelta(seconds=1):
        return None
    return Ticket(login=login, issued_at=issued_at, nonce=nonce)


def new_challenge() -> bytes:
    return secrets.token_bytes(CHALLENGE_BYTES)


def challenge_ticket(login: str, challenge: bytes, *, key: bytes, now: datetime) -> str:
    return issue(CHALLENGE, login, key=key, now=now, nonce=_b64(challenge))


def challenge_of(ticket: Ticket) -> bytes:
    return base64.urlsafe_b64decode(ticket.nonce + "=" * (-len(ticket.nonce) % 4))


def user_handle(login: str, *, key: bytes) -> bytes:
    """The WebAuthn user handle: stable per login, but not the login itself (authenticators may show or sync it)."""
    return hmac.new(key, b"user-handle\0" + login.encode("utf-8"), hashlib.sha256).digest()
