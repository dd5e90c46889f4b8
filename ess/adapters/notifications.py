"""Notifications as e-mails: a plain-text Jinja template per kind, in the company's language, queued sealed and sent
by a Mailer (the Postman port of durable mail)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final, Protocol

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ess.adapters.mail import Mailer, OutgoingMail
from ess.domain.mail.model import ComposedMail, QueuedMail
from ess.domain.shared import Link, Notice
from ess.i18n import translations

TEMPLATES: Final = Path(__file__).resolve().parent.parent / "templates" / "mail"


class Sealer(Protocol):
    def seal(self, plain: str) -> str: ...

    def open(self, sealed: str) -> str: ...


class PlainText:
    """No sealing (tests, tools): the body is stored as written."""

    def seal(self, plain: str) -> str:
        return plain

    def open(self, sealed: str) -> str:
        return sealed


class MailNotifier:
    """Implements the Postman port: renders a notice (a template's first line is "Subject: ...", the rest is the
    body), seals the body for the queue (it may carry a one-time link) and sends queued mails with the Mailer."""

    def __init__(
        self,
        mailer: Mailer,
        *,
        sealer: Sealer | None = None,
        locale: str,
        company: str,
        base_url: str,
        links: Callable[[Link], str] | None = None,
    ) -> None:
        """`links` turns a notice's link into a path (the edge builds it by route name); the configured `base_url`
        goes in front: links are built from the configured address, never from a request's Host header."""
        self._mailer = mailer
        self._sealer = sealer or PlainText()
        self._company = company
        self._base_url = base_url.rstrip("/")
        self._links = links
        self._env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=False,  # noqa: S701 - plain-text mails, never rendered as HTML
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )

        def _(message: str, **params: object) -> str:
            # The catalog is compiled from its .po file on the first mail (then cached), not at start.
            text = translations(locale).gettext(message)
            return text % params if params else text

        self._env.globals["_"] = _

    def render(self, notice: Notice) -> OutgoingMail:
        params = dict(notice.params)
        params["url"] = self._base_url + self._path(notice.link)
        text = self._env.get_template(f"{notice.kind}.txt").render(company=self._company, **params)
        first, _, body = text.partition("\n")
        if not first.startswith("Subject: "):
            raise ValueError(f"mail template {notice.kind}.txt must start with 'Subject: '")
        return OutgoingMail(to=notice.to, subject=first.removeprefix("Subject: ").strip(), text=body.lstrip("\n"))

    def _path(self, link: Link | None) -> str:
        if link is None:
            return "/"
        if self._links is None:
            raise RuntimeError(f"no link builder to turn {link.page!r} into a URL")
        return self._links(link)

    def compose(self, notice: Notice) -> ComposedMail:
        mail = self.render(notice)
        return ComposedMail(kind=notice.kind, to=mail.to, subject=mail.subject, body=self._sealer.seal(mail.text))

    async def deliver(self, mail: QueuedMail) -> None:
        """Send a queued mail; ServiceUnavailable when the mail server (or the key) does not allow it now."""
        text = self._sealer.open(mail.body)
        await self._mailer.send(OutgoingMail(to=mail.to, subject=mail.subject, text=text))
