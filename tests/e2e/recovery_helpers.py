"""Helpers for the recovery tests: reading links and notices from the SMTP sink, seeding accounts."""

from __future__ import annotations

import re
import time
from email.message import EmailMessage

from ess.bootstrap import build_container
from ess.settings import Settings
from tests.e2e.conftest import DEMO_PASSWORD, seed
from tests.harness.smtp import SmtpSink

LINK = re.compile(r"(https?://\S+/(?:password/(?:reset|unlock)|security/confirm-email)/([A-Za-z0-9_\-]+))")
MAIL_TIMEOUT_S = 15.0


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


def mails_to(sink: SmtpSink, address: str, count: int = 1, *, subject: str = "") -> list[EmailMessage]:
    """The mails to `address` (whose subject contains `subject`), once at least `count` have arrived."""
    deadline = time.monotonic() + MAIL_TIMEOUT_S
    while True:
        found = [m for m in sink.messages if address in str(m["To"]) and subject.lower() in str(m["Subject"]).lower()]
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(
                f"expected {count} mail(s) to {address} about {subject!r}, got {[str(m['Subject']) for m in found]}"
            )
        time.sleep(0.05)


def link_in(message: EmailMessage) -> tuple[str, str]:
    """The (url, token) of the one-time link in a mail."""
    match = LINK.search(text_of(message))
    assert match is not None, text_of(message)
    return match.group(1), match.group(2)


async def seed_recovery(settings: Settings) -> None:
    """The demo company plus accounts (with work e-mail) for the helpdesk member lukas.wagner and anna.schmidt."""
    await seed(settings)
    container = build_container(settings)
    try:
        assert container.local_directory is not None
        await container.local_directory.provision(
            "anna.schmidt", password=DEMO_PASSWORD, email="anna.schmidt@example-ess.test", display_name="Anna Schmidt"
        )
        await container.local_directory.provision(
            "lukas.wagner", password=DEMO_PASSWORD, email="lukas.wagner@example-ess.test"
        )
    finally:
        await container.close()
