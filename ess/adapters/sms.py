"""A text-message gateway reached over HTTP: URL, authentication and request body come from the settings."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Final, Literal

from ess.domain.errors import ServiceUnavailable

logger = logging.getLogger("ess.sms")

USER_AGENT: Final = "ESS-sms"
LOOPBACK_HTTP: Final = ("http://127.0.0.1", "http://localhost", "http://[::1]")


@dataclass(frozen=True, slots=True)
class HttpSmsConfig:
    """How to speak to the gateway. `body_template` holds `{number}` and `{text}`; each is escaped for
    `content_type` (JSON string content, form encoding, or as is for anything else)."""

    url: str
    body_template: str
    content_type: str = "application/json"
    method: Literal["POST", "PUT"] = "POST"
    auth: Literal["none", "basic", "bearer", "header"] = "none"
    username: str = ""
    password: str = field(default="", repr=False)
    token: str = field(default="", repr=False)
    # For auth = "header": the header that carries `token` (an API key header, e.g. X-API-Key).
    header_name: str = ""
    timeout_seconds: float = 5.0


class HttpSmsGateway:
    """Implements the SmsGateway port with one HTTP request per message. Any answer but 2xx, a timeout or a
    network error is ServiceUnavailable. Neither the text (it carries a code) nor the number is ever logged."""

    def __init__(self, config: HttpSmsConfig, *, allow_plain_http_on_loopback: bool = False) -> None:
        plain_ok = allow_plain_http_on_loopback and config.url.startswith(LOOPBACK_HTTP)
        if not config.url.startswith("https://") and not plain_ok:
            raise ValueError("The SMS gateway URL must use https (plain http only on loopback, in test mode)")
        if "{text}" not in config.body_template:
            raise ValueError("The SMS gateway body template must contain {text}")
        self._config = config

    def request_for(self, number: str, text: str) -> urllib.request.Request:
        """The request one message becomes (also what the tests compare against the stand-in server's view)."""
        config = self._config
        body = render_body(config.body_template, config.content_type, number=number, text=text)
        headers = {"Content-Type": config.content_type, "User-Agent": USER_AGENT}
        if config.auth == "basic":
            pair = f"{config.username}:{config.password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        elif config.auth == "bearer":
            headers["Authorization"] = "Bearer " + config.token
        elif config.auth == "header":
            headers[config.header_name] = config.token
        return urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            config.url, data=body.encode("utf-8"), headers=headers, method=config.method
        )

    async def send(self, number: str, text: str) -> None:
        request = self.request_for(number, text)
        try:
            status = await asyncio.wait_for(
                asyncio.to_thread(self._deliver, request), timeout=self._config.timeout_seconds + 1
            )
        except (OSError, TimeoutError, urllib.error.URLError) as exc:
            logger.warning("The SMS gateway did not answer (%s)", type(exc).__name__)
            raise ServiceUnavailable("The text message could not be sent.") from exc
        if not 200 <= status < 300:
            logger.warning("The SMS gateway refused a message (HTTP %s)", status)
            raise ServiceUnavailable("The text message could not be sent.")

    def _deliver(self, request: urllib.request.Request) -> int:
        try:
            with urllib.request.urlopen(request, timeout=self._config.timeout_seconds) as response:  # noqa: S310
                response.read()
                return int(response.status)
        except urllib.error.HTTPError as exc:
            exc.close()
            return int(exc.code)


def render_body(template: str, content_type: str, *, number: str, text: str) -> str:
    """Fill `{number}` and `{text}` in, escaped for the body's type; other braces stay as they are (JSON)."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json" or kind.endswith("+json"):

        def escape(value: str) -> str:
            return json.dumps(value, ensure_ascii=False)[1:-1]
    elif kind == "application/x-www-form-urlencoded":

        def escape(value: str) -> str:
            return urllib.parse.quote_plus(value)
    else:

        def escape(value: str) -> str:
            return value

    return template.replace("{number}", escape(number)).replace("{text}", escape(text))
