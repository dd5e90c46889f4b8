"""Mailers: deliver OutgoingMail over SMTP (aiosmtplib) or write it as .eml files into a folder (the demo)."""

from __future__ import annotations

import asyncio
import email.policy
import email.utils
import logging
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Final, Protocol, runtime_checkable

import aiosmtplib

from ess.domain.errors import ServiceUnavailable
from ess.domain.privacy.model import Record, Subject
from ess.domain.privacy.ports import PrivacyUnitOfWork
from ess.settings import MailSettings

logger = logging.getLogger("ess.mail")


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    to: tuple[str, ...]
    subject: str
    text: str
    # Never a secret in a mail: links carry single-use tokens at most, never passwords.


@runtime_checkable
class Mailer(Protocol):
    """How the notifier delivers a rendered mail: SMTP, or a folder of .eml files in the demo."""

    async def send(self, mail: OutgoingMail) -> None:
        """Deliver or raise ServiceUnavailable; the caller decides whether to retry."""


_FILE_MODE = 0o600  # mails carry reset links: only the service account may read them
_FOLDER_MODE = 0o700


def build_message(mail: OutgoingMail, *, from_address: str, now: datetime | None = None) -> EmailMessage:
    """The RFC 5322 message for `mail`: UTF-8 plain text, marked as automatically generated (RFC 3834).

    Raises ValueError when the mail has no recipient.
    """
    if not mail.to:
        raise ValueError("A mail needs at least one recipient.")
    instant = now or datetime.now(UTC)
    message = EmailMessage(policy=email.policy.default)
    message["From"] = from_address
    message["To"] = ", ".join(mail.to)
    # A subject is one line; folding stray line breaks keeps them from being read as further headers.
    message["Subject"] = " ".join(mail.subject.split())
    message["Date"] = email.utils.formatdate(instant.timestamp(), localtime=False, usegmt=True)
    message["Message-ID"] = email.utils.make_msgid(domain=_domain_of(from_address))
    # RFC 3834: out-of-office and similar responders must not answer.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text, subtype="plain", charset="utf-8")
    return message


def _domain_of(address: str) -> str:
    # Without a domain make_msgid() would ask for the host's FQDN, a possibly slow DNS lookup on the event loop.
    _, addr_spec = email.utils.parseaddr(address)
    _, at, domain = addr_spec.rpartition("@")
    return domain if at and domain else "localhost"


class SmtpMailer:
    """Delivers each mail in its own SMTP session (STARTTLS and login as configured)."""

    def __init__(self, settings: MailSettings) -> None:
        self._settings = settings
        _, self._sender = email.utils.parseaddr(settings.from_address)

    async def send(self, mail: OutgoingMail) -> None:
        """Deliver `mail` or raise ServiceUnavailable; neither the password nor the text reach the error or log."""
        settings = self._settings
        message = build_message(mail, from_address=settings.from_address)
        try:
            await aiosmtplib.send(
                message,
                sender=self._sender or settings.from_address,
                recipients=list(mail.to),
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                start_tls=settings.smtp_starttls,  # False: never upgrade; True: STARTTLS required
                username=settings.smtp_username or None,
                password=settings.smtp_password if settings.smtp_username else None,
                timeout=settings.timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            logger.warning(
                "Mail to %d recipient(s) via %s:%d failed: %s",
                len(mail.to),
                settings.smtp_host,
                settings.smtp_port,
                self._describe(exc),
            )
            # `from None`: the aiosmtplib exception's frames hold the password; keep them out of any traceback.
            raise ServiceUnavailable("The mail server cannot take the mail right now.") from None
        logger.info("Mail %s sent to %d recipient(s)", message["Message-ID"], len(mail.to))

    def _describe(self, exc: BaseException) -> str:
        """What went wrong, in the library's and the server's words, with the password blanked out."""
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            detail = f"{type(exc).__name__} {exc.code} {exc.message}"
        elif isinstance(exc, aiosmtplib.SMTPException):
            detail = f"{type(exc).__name__}: {exc.message}"
        else:
            detail = f"{type(exc).__name__}: {exc}"
        password = self._settings.smtp_password
        return detail.replace(password, "***") if password else detail


class FileMailer:
    """Writes each mail as an RFC 5322 file `<UTC time>-<uuid>.eml` (mode 0600) into a folder: the demo's outbox."""

    def __init__(self, folder: Path | str, *, from_address: str) -> None:
        self._folder = Path(folder)
        self._from_address = from_address

    @property
    def folder(self) -> Path:
        return self._folder

    async def send(self, mail: OutgoingMail) -> None:
        """Write `mail` to a new file; raise ServiceUnavailable when the folder is not writable."""
        now = datetime.now(UTC)
        message = build_message(mail, from_address=self._from_address, now=now)
        name = f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4()}.eml"
        try:
            path = await asyncio.to_thread(self._write, name, message.as_bytes(policy=email.policy.SMTP))
        except OSError as exc:
            logger.warning("Mail could not be written to %s: %s", self._folder, exc.strerror or type(exc).__name__)
            raise ServiceUnavailable("The mail folder is not writable.") from None
        logger.info("Mail %s written to %s", message["Message-ID"], path)

    def _write(self, name: str, data: bytes) -> Path:
        self._folder.mkdir(mode=_FOLDER_MODE, parents=True, exist_ok=True)
        target = self._folder / name
        # Written under a hidden name and renamed, so a reader of the folder never sees half a mail.
        partial = self._folder / f".{name}.part"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            partial.replace(target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return target


def build_mailer(settings: MailSettings) -> Mailer:
    """The mailer the settings ask for: "smtp" delivers, "file" writes into `settings.folder`."""
    if settings.backend == "smtp":
        return SmtpMailer(settings)
    return FileMailer(settings.folder, from_address=settings.from_address)


class MailFolderArea:
    """The demo's mail folder as a data area: its .eml files older than `mail_days` are deleted by the retention
    job. The files hold mails to many people, so the export lists the person's mails from the queue instead."""

    name = "mail_files"
    retention_keys: Final = ("mail_days",)

    def __init__(self, folder: Path | str) -> None:
        self._folder = Path(folder)

    async def export(self, uow: PrivacyUnitOfWork, subject: Subject) -> Mapping[str, Sequence[Record]]:
        return {}

    async def expire(
        self, uow: PrivacyUnitOfWork, cutoffs: Mapping[str, datetime], *, dry_run: bool
    ) -> Mapping[str, int]:
        limit = cutoffs["mail_days"].timestamp()
        return {"mail_files": await asyncio.to_thread(self._expire, limit, dry_run)}

    def _expire(self, limit: float, dry_run: bool) -> int:
        due = [path for path in self._folder.glob("*.eml") if path.stat().st_mtime < limit]
        if not dry_run:
            for path in due:
                path.unlink(missing_ok=True)
        return len(due)
