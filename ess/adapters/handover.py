"""Handing help requests over to an existing helpdesk tool: by mail with the reference in the subject (Zammad, OTOBO
and most ticket systems thread mail by it), or as a JSON webhook signed with HMAC-SHA256 over timestamp and body."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

from ess.domain.help_requests.model import HelpRequest
from ess.domain.shared import Clock, Notice, Notifier

SIGNATURE_HEADER = "X-ESS-Signature"
TIMESTAMP_HEADER = "X-ESS-Timestamp"


@dataclass(frozen=True, slots=True)
class HandoverTarget:
    kind: str  # "mail" or "webhook"
    address: str = ""
    url: str = ""
    secret: str = ""
    timeout_seconds: float = 5.0


def payload(request: HelpRequest) -> dict[str, object]:
    """What a helpdesk tool receives: the reference, topic, subject, context and the person's first message."""
    first = next((m.body for m in request.messages), "")
    return {
        "reference": request.reference,
        "topic": request.topic,
        "team": request.team.value,
        "subject": request.subject,
        "message": first,
        "context": dict(request.context),
        "from": {
            "login": request.caller.login,
            "name": request.caller.name,
            "callback": request.caller.callback,
            "logged_out": request.caller.anonymous,
        },
        "created_at": request.created_at.isoformat(),
    }


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 of "<timestamp>.<body>" with the shared secret, hex: what a receiver recomputes and compares."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class ConfiguredHandover:
    """Implements the Handover port from the configured targets (`[help_requests.handover.<name>]`)."""

    def __init__(self, targets: Mapping[str, HandoverTarget], *, notifier: Notifier, clock: Clock) -> None:
        self._targets = dict(targets)
        self._notifier = notifier
        self._clock = clock

    async def forward(self, target: str, request: HelpRequest) -> None:
        config = self._targets.get(target)
        if config is None:
            raise LookupError(f"no handover named {target!r}")
        data = payload(request)
        if config.kind == "mail":
            params = {
                "reference": request.reference,
                "subject": request.subject,
                "body": json.dumps(data, ensure_ascii=False, indent=2),
            }
            await self._notifier.notify(Notice("help_request_handover", (config.address,), params))
            return
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        timestamp = str(int(self._clock.now().timestamp()))
        await asyncio.to_thread(self._post, config, body, timestamp)

    @staticmethod
    def _post(config: HandoverTarget, body: bytes, timestamp: str) -> None:
        if not config.url.startswith(("https://", "http://")):
            raise ValueError("a webhook URL is http(s)")
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            config.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: signature(config.secret, timestamp, body),
            },
        )
        with urllib.request.urlopen(request, timeout=config.timeout_seconds) as response:  # noqa: S310
            if not 200 <= response.status < 300:
                raise urllib.error.HTTPError(config.url, response.status, "refused", response.headers, None)
