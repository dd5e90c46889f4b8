"""Keeps one-time link tokens out of access and error logs: the token sits in the link's path."""

from __future__ import annotations

import logging
import re
from typing import Final

TOKEN_PATH: Final = re.compile(r"(/password/(?:reset|unlock)/|/security/confirm-email/)[^/\s?\"']+")
# Loggers that write request paths: the server's access log and our own error handler.
PATH_LOGGERS: Final = ("uvicorn.access", "uvicorn.error", "ess.errors", "litestar")


def redact(text: str) -> str:
    return TOKEN_PATH.sub(r"\1[redacted]", text)


class TokenRedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install_log_redaction() -> None:
    """Idempotent: one filter per logger, however many apps a process creates."""
    for name in PATH_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, TokenRedactingFilter) for f in logger.filters):
            logger.addFilter(TokenRedactingFilter())
