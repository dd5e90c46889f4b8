"""CSRF protection bound to the browser's session: a form's token is an HMAC over the session the browser holds.

Litestar's double-submit check compares a token with a cookie, and any sibling host of the intranet can plant a
cookie (SameSite does not separate sibling hosts): an attacker's own cookie and token then pass with the victim's
session. Here the token is derived from the session cookie (or, before login, from a pre-login session cookie), so a
token made for any other session is refused; planting a cookie does not help, because the victim's own session cookie
decides which token is valid, and with `__Host-` names (https) a sibling host cannot set these cookies at all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any, Final

from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from ess.routes.middleware import API_PREFIX, HEALTH_PREFIX, cookie_name, request_cookies

CSRF_FIELD: Final = "_csrf_token"
CSRF_HEADER: Final = "x-csrftoken"
PRE_SESSION_COOKIE: Final = "ess_presession"
CSRF_REFUSED: Final = "csrf_refused"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
# Answers that are not pages of the browser's session: the API (bearer tokens only), health checks, static files.
UNGUARDED_PREFIXES: Final = (API_PREFIX, HEALTH_PREFIX, "/static/", "/schema")


def csrf_key(secret_key: str) -> bytes:
    """A key for CSRF tokens only, derived from the app's secret (so a token says nothing about other uses)."""
    return hmac.new(secret_key.encode("utf-8"), b"ess csrf tokens v1", hashlib.sha256).digest()


def csrf_token_for(key: bytes, binding: str) -> str:
    """The one valid token for a session (`session:<cookie>`) or a pre-login session (`pre:<cookie>`)."""
    digest = hmac.new(key, binding.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


class SessionCsrfMiddleware:
    """Puts the session's token in the scope for templates (`csrf_input`) and refuses an unsafe request to a page
    whose token is missing or belongs to another session (403). A browser without any session gets a pre-login
    session cookie with its first page, so the login and recovery forms are bound too."""

    def __init__(self, app: ASGIApp, *, secret_key: str, secure: bool) -> None:
        self.app = app
        self.key = csrf_key(secret_key)
        self.secure = secure
        self.session_cookie = cookie_name("ess_session", secure=secure)
        self.pre_cookie = cookie_name(PRE_SESSION_COOKIE, secure=secure)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"].startswith(UNGUARDED_PREFIXES):
            await self.app(scope, receive, send)
            return
        cookies = request_cookies(scope)
        binding, new_pre_session = self._binding(cookies)
        expected = csrf_token_for(self.key, binding)
        if scope["method"] not in SAFE_METHODS:
            submitted = await self._submitted_token(scope, receive)
            if new_pre_session or submitted is None or not hmac.compare_digest(submitted, expected):
                scope.setdefault("state", {})[CSRF_REFUSED] = True  # the error page says why
                raise PermissionDeniedException("CSRF token verification failed")
        ScopeState.from_scope(scope).csrf_token = expected
        if new_pre_session:
            send = self._setting_cookie(send, new_pre_session)
        await self.app(scope, receive, send)

    def _binding(self, cookies: dict[str, str]) -> tuple[str, str]:
        """What the token is bound to, and a new pre-login session id when the browser has no session at all."""
        if session := cookies.get(self.session_cookie):
            return "session:" + session, ""
        if pre := cookies.get(self.pre_cookie):
            return "pre:" + pre, ""
        new = secrets.token_urlsafe(32)
        return "pre:" + new, new

    @staticmethod
    async def _submitted_token(scope: Scope, receive: Receive) -> str | None:
        request: Any = scope["litestar_app"].request_class(scope=scope, receive=receive)
        if token := request.headers.get(CSRF_HEADER):
            return str(token)
        content_type, _ = request.content_type
        if content_type in {RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART}:
            value = (await request.form()).get(CSRF_FIELD)
            return value if isinstance(value, str) else None
        return None

    def _setting_cookie(self, send: Send, value: str) -> Send:
        cookie = Cookie(
            key=self.pre_cookie, value=value, path="/", secure=self.secure, httponly=True, samesite="lax"
        ).to_header(header="")

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message).add("set-cookie", cookie)
            await send(message)

        return send_with_cookie
