"""A real SMTP server for tests (aiosmtpd in a thread on 127.0.0.1) that keeps every mail it receives.

Usage::

    with running_smtp_sink() as sink:
        settings = MailSettings(backend="smtp", smtp_host=sink.host, smtp_port=sink.port)
        ...                                   # the code under test sends mail
        [message] = sink.wait_for(1)          # parsed EmailMessage objects, in arrival order
        sink.received[0].recipients           # envelope recipients (RCPT TO), which may differ from To:

The server runs its own event loop in a thread, so it answers while the test's loop is blocked in a send; from
inside an ``async`` test that waits for mail sent by *another* task, call
``await asyncio.to_thread(sink.wait_for, n)`` so the sender's loop keeps running.

Options: ``certificates`` (:func:`tests.harness.tls.make_certificates`) offers STARTTLS with that server
certificate; ``credentials=(user, password)`` (needs ``certificates``) offers AUTH PLAIN/LOGIN after STARTTLS
only, requires it before MAIL FROM and refuses any other user or password (535). Without credentials no AUTH is
offered at all: a client that insists on logging in gets "SMTP AUTH extension not supported".

aiosmtpd logs every SMTP line it receives (logger ``mail.log``, DEBUG and INFO), message bodies included.
"""

from __future__ import annotations

import email.policy
import hmac
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.harness.ports import free_port
from tests.harness.tls import TestCertificates

_BIND_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class ReceivedMail:
    message: EmailMessage
    mail_from: str
    recipients: tuple[str, ...]
    raw: bytes


class _Handler:
    """aiosmtpd handler: parse each accepted mail and hand it to the sink."""

    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        raw = envelope.original_content or b""
        message = BytesParser(policy=email.policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        self._sink._add(
            ReceivedMail(
                message=message,
                mail_from=envelope.mail_from or "",
                recipients=tuple(envelope.rcpt_tos),
                raw=raw,
            )
        )
        return "250 Message accepted for delivery"


class _Authenticator:
    def __init__(self, user: str, password: str) -> None:
        self._user = user.encode()
        self._password = password.encode()

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and hmac.compare_digest(auth_data.login, self._user)
            and hmac.compare_digest(auth_data.password, self._password)
        )
        # handled=False: aiosmtpd then answers 535 itself (handled=True would leave the client waiting).
        return AuthResult(success=ok, handled=False)


class SmtpSink:
    """One aiosmtpd server on 127.0.0.1:<free port>; `received` lists what it accepted, thread-safely."""

    def __init__(
        self, *, certificates: TestCertificates | None = None, credentials: tuple[str, str] | None = None
    ) -> None:
        if credentials is not None and certificates is None:
            raise ValueError("credentials need certificates: the sink offers AUTH only after STARTTLS")
        self.host = "127.0.0.1"
        self.port = 0
        self._certificates = certificates
        self._credentials = credentials
        self._received: list[ReceivedMail] = []
        self._changed = threading.Condition()
        self._controller: Controller | None = None

    # --- lifecycle -------------------------------------------------------------------------------------------

    def start(self, port: int = 0) -> None:
        """Listen on `port`, or on a free port (retrying if another process takes it between lookup and bind).
        A given port lets a test start the mail server after the program that sends to it (an outage that ends)."""
        if self._controller is not None:
            raise RuntimeError("the SMTP sink is already running")
        attempts = 1 if port else _BIND_ATTEMPTS
        for attempt in range(attempts):
            chosen = port or free_port()
            controller = Controller(_Handler(self), hostname=self.host, port=chosen, **self._smtp_options())
            try:
                controller.start()
            except OSError:
                controller.loop.close()  # the server thread gave up before it could close its loop
                if attempt == attempts - 1:
                    raise
                continue
            self.port = chosen
            self._controller = controller
            return

    def stop(self) -> None:
        """Stop listening; connections to the port are refused afterwards (the received mails stay)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def _smtp_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self._certificates is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self._certificates.cert_file, self._certificates.key_file)
            options["tls_context"] = context
        if self._credentials is not None:
            options["authenticator"] = _Authenticator(*self._credentials)
            options["auth_required"] = True
        return options

    # --- what arrived ----------------------------------------------------------------------------------------

    def _add(self, mail: ReceivedMail) -> None:
        with self._changed:
            self._received.append(mail)
            self._changed.notify_all()

    @property
    def received(self) -> list[ReceivedMail]:
        """A snapshot of every mail accepted so far, in arrival order."""
        with self._changed:
            return list(self._received)

    @property
    def messages(self) -> list[EmailMessage]:
        return [mail.message for mail in self.received]

    def clear(self) -> None:
        with self._changed:
            self._received.clear()

    def wait_for_received(self, count: int, timeout: float = 5) -> list[ReceivedMail]:
        """Block until at least `count` mails arrived, then return all of them; AssertionError after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"SMTP sink on port {self.port}: expected {count} mail(s) within {timeout}s, "
                        f"got {len(self._received)}"
                    )
                self._changed.wait(remaining)
            return list(self._received)

    def wait_for(self, count: int, timeout: float = 5) -> list[EmailMessage]:
        """Block until at least `count` mails arrived, then return all messages; AssertionError after `timeout`."""
        return [mail.message for mail in self.wait_for_received(count, timeout)]


@contextmanager
def running_smtp_sink(
    *, certificates: TestCertificates | None = None, credentials: tuple[str, str] | None = None
) -> Iterator[SmtpSink]:
    """A started SmtpSink, stopped on exit."""
    sink = SmtpSink(certificates=certificates, credentials=credentials)
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()
