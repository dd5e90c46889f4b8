"""Notifications as e-mails: a plain-text Jinja template per kind, in the company's language, sent by a Mailer."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Final

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ess.adapters.mail import Mailer, OutgoingMail
from ess.domain.errors import ServiceUnavailable
from ess.domain.shared import Link, Notice
from ess.i18n import translations

logger = logging.getLogger("ess.mail")
TEMPLATES: Final = Path(__file__).resolve().parent.parent / "templates" / "mail"


class MailNotifier:
    """Implements the Notifier port. A template's first line is "Subject: ...", the rest is the body."""

    def __init__(
        self,
        mailer: Mailer,
        *,
        locale: str,
        company: str,
        base_url: str,
        links: Callable[[Link], str] | None = None,
    ) -> None:
        """`links` turns a notice's link into a path (the edge builds it by route name); the configured `base_url`
        goes in front: links are built from the configured address, never from a request's Host header."""
        self._mailer = mailer
        self._company = company
        self._base_url = base_url.rstrip("/")
        self._links = links
        catalog = translations(locale)
        self._env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=False,  # noqa: S701 - plain-text mails, never rendered as HTML
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )

        def _(message: str, **params: object) -> str:
            text = catalog.gettext(message)
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

    async def notify(self, notice: Notice) -> None:
        # Notifications follow a change that is already saved: a mail server outage must not undo it.
        try:
            await self._mailer.send(self.render(notice))
        except ServiceUnavailable:
            logger.warning("Could not send the %s notification; the change itself is saved", notice.kind)

    async def notify_first(self, notice: Notice) -> None:
        # Sent before a change is made: if it cannot go out, the caller makes no change (ServiceUnavailable).
        await self._mailer.send(self.render(notice))
