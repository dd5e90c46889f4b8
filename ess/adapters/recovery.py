"""Adapters for recovery: background jobs, TOTP (pyotp), sealed secrets (Fernet) and SMS gateways."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ess.domain.errors import ServiceUnavailable

logger = logging.getLogger("ess.recovery")

TOTP_INTERVAL: Final = 30


class BackgroundJobs:
    """Implements the Jobs port on the app's event loop. Errors are logged by type only (they may hold input)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, job: Callable[[], Awaitable[None]], *, name: str) -> None:
        task = asyncio.get_running_loop().create_task(self._run(job, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _run(job: Callable[[], Awaitable[None]], name: str) -> None:
        try:
            await job()
        except Exception as exc:  # a failed job must not take the loop down; it is logged
            logger.error("Background job %s failed: %s", name, type(exc).__name__)

    async def drain(self) -> None:
        """Wait for every submitted job (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


class PyotpAuthenticator:
    """Implements the Authenticator port: RFC 6238, SHA-1, 6 digits, 30 s, one step of clock drift either way."""

    def new_secret(self) -> str:
        return pyotp.random_base32(32)  # 160 bits, as RFC 4226 recommends

    def provisioning_uri(self, secret: str, *, account: str, issuer: str) -> str:
        return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)

    def matching_step(self, secret: str, code: str, at: datetime) -> int | None:
        totp = pyotp.TOTP(secret)
        step = int(at.timestamp()) // TOTP_INTERVAL
        for candidate in (step, step - 1, step + 1):
            if totp.verify(code, for_time=candidate * TOTP_INTERVAL):
                return candidate
        return None


class FernetSecretBox:
    """Implements the SecretBox port: AES-128-CBC + HMAC-SHA256 (Fernet), key derived from the app secret by HKDF."""

    def __init__(self, secret_key: str, *, purpose: bytes = b"ess recovery secret box") -> None:
        """`purpose` separates the keys of different uses of the same application secret."""
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret_key.encode("utf-8"))
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            # The application secret changed since enrolment: the seed cannot be read back.
            raise ServiceUnavailable("A stored recovery secret cannot be read with the current key.") from exc


class DisabledSmsGateway:
    """SMS is off (the default): nothing is ever sent."""

    async def send(self, number: str, text: str) -> None:
        raise ServiceUnavailable("Text messages are not configured.")


@dataclass
class MemorySmsGateway:
    """For tests and trials: keeps the messages in memory (never in a file or a log). A real gateway implements
    the same one-method port (`SmsGateway.send`) and is chosen in bootstrap.build_sms_gateway."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, number: str, text: str) -> None:
        self.sent.append((number, text))
