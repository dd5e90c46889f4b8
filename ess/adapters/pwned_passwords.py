"""Have I Been Pwned's Pwned Passwords range API (k-anonymity): only five hex characters of the SHA-1 leave ESS."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import urllib.error
import urllib.request
from typing import Final

from ess.domain.errors import ServiceUnavailable

logger = logging.getLogger("ess.pwned")

PREFIX_LENGTH: Final = 5
USER_AGENT: Final = "ESS-password-policy"


class PwnedPasswordsRange:
    """Implements BreachedPasswords. The request asks for padded answers (`Add-Padding: true`), so the response size
    tells an observer nothing about the prefix; padding entries have a count of 0 and are ignored."""

    def __init__(self, base_url: str, *, timeout_seconds: float) -> None:
        if not base_url.startswith(("https://", "http://127.0.0.1", "http://localhost", "http://[::1]")):
            raise ValueError("The Pwned Passwords URL must use https (plain http only on loopback, for tests)")
        self._base_url = base_url.rstrip("/") + "/"
        self._timeout = timeout_seconds

    async def times_seen(self, password: str) -> int:
        digest = hashlib.sha1(password.encode("utf-8"), usedforsecurity=False).hexdigest().upper()
        prefix, suffix = digest[:PREFIX_LENGTH], digest[PREFIX_LENGTH:]
        try:
            body = await asyncio.wait_for(asyncio.to_thread(self._fetch, prefix), timeout=self._timeout + 1)
        except (OSError, TimeoutError, urllib.error.URLError, ValueError) as exc:
            # Type only: URLs and bodies stay out of the log.
            logger.warning("Pwned Passwords did not answer (%s)", type(exc).__name__)
            raise ServiceUnavailable("The breached-password service is not reachable.") from exc
        return _count_for(body, suffix)

    def _fetch(self, prefix: str) -> str:
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self._base_url + prefix, headers={"Add-Padding": "true", "User-Agent": USER_AGENT}
        )
        with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
            if response.status != 200:
                raise ValueError(f"HTTP {response.status}")
            return str(response.read().decode("ascii", errors="replace"))


def _count_for(body: str, suffix: str) -> int:
    """The count on the line `SUFFIX:COUNT` of a range answer, 0 when absent (or padding)."""
    for line in body.splitlines():
        candidate, _, count = line.strip().partition(":")
        if candidate.upper() == suffix:
            try:
                return int(count)
            except ValueError:
                return 0
    return 0
