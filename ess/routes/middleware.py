"""ASGI middleware: security headers on every response; caller identity and language on every request."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any, Final

from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from ess.domain.auth.model import Principal
from ess.domain.auth.ports import AuthDeps
from ess.domain.auth.sessions import resume_session
from ess.domain.auth.tokens import principal_for_token
from ess.domain.errors import ServiceUnavailable
from ess.i18n import LANGUAGE_COOKIE, negotiate
from ess.settings import Settings

SESSION_COOKIE: Final = "ess_session"
# Signed "this browser has logged in as <login> before" (see ess.domain.auth.throttle).
KNOWN_DEVICE_COOKIE: Final = "ess_device"
# Between the right password and the second factor: a signed, short-lived ticket (see ess.domain.mfa.tickets).
MFA_STEP_COOKIE: Final = "ess_login_step"
# "Remember this device" for the second factor, and a passkey ceremony's signed challenge.
MFA_REMEMBERED_COOKIE: Final = "ess_mfa_device"
MFA_CHALLENGE_COOKIE: Final = "ess_passkey_challenge"
# Single sign-on: the pending OpenID Connect sign-in (state, nonce, PKCE verifier; signed), and how the session began.
SSO_PENDING_COOKIE: Final = "ess_sso_pending"
SSO_COOKIE: Final = "ess_sso"
# Over https every cookie of ours carries the `__Host-` prefix: the browser then takes it only with Secure, without
# Domain and for the path "/", so no sibling host of the intranet can set or overwrite it.
HOST_PREFIX: Final = "__Host-"
API_PREFIX: Final = "/api/"
# Answers for load balancers and monitoring: JSON like the API, no session, no CSRF.
HEALTH_PREFIX: Final = "/health/"
NO_REFERRER_PATHS: Final = ("/password/reset/", "/password/unlock/", "/security/confirm-email/")

# No inline script or style anywhere: the CSP forbids them, and the templates are written for that.
CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)


def security_headers_hook(*, hsts: bool) -> Callable[[Message, Scope], Awaitable[None]]:
    """A `before_send` hook: it sees every response, also the 404s that never reach a route's middleware."""

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        headers["X-Content-Type-Options"] = "nosniff"
        # Pages behind one-time links carry the token in their address: it must not leak in a Referer.
        headers["Referrer-Policy"] = "no-referrer" if scope["path"].startswith(NO_REFERRER_PATHS) else "same-origin"
        headers["X-Frame-Options"] = "DENY"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if not scope["path"].startswith("/static/"):
            # Pages and API answers carry personal data: never keep them in shared or browser caches.
            headers["Cache-Control"] = "no-store"
        if hsts:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"

    return add_headers


def client_address(scope: Scope, trusted_proxies: list[str]) -> str:
    """The peer address; X-Forwarded-For is believed only when the peer is a configured proxy."""
    client = scope.get("client")
    peer = client[0] if client else ""
    if peer and trusted_proxies and in_networks(peer, trusted_proxies):
        for name, value in scope["headers"]:
            if name == b"x-forwarded-for":
                hops = [h.strip() for h in value.decode("latin-1").split(",") if h.strip()]
                for hop in reversed(hops):
                    if not in_networks(hop, trusted_proxies):
                        return hop[:64]
    return peer


def in_networks(address: str, networks: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in networks)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def cookie_name(base: str, *, secure: bool) -> str:
    """The name a cookie of ours has: `__Host-<base>` when the app is served over https."""
    return HOST_PREFIX + base if secure else base


def request_cookies(scope: Scope) -> dict[str, str]:
    """The request's cookies by name; the first of several with the same name counts."""
    raw = _header(scope, b"cookie") or ""
    cookies: dict[str, str] = {}
    for part in raw.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep:
            cookies.setdefault(key, value)
    return cookies


class IdentityMiddleware:
    """Sets scope["user"] (a Principal or None), scope["auth"] and the language in scope state.

    The API accepts only bearer tokens and the pages only the session cookie: a browser's cookie can never
    authorize an API call, so the API needs no CSRF protection.
    """

    def __init__(self, app: ASGIApp, *, auth: AuthDeps, settings: Settings) -> None:
        self.app = app
        self.auth = auth
        self.settings = settings
        self.session_cookie = cookie_name(SESSION_COOKIE, secure=settings.server.served_over_tls)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        settings = self.settings
        cookies = request_cookies(scope)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["client"] = client_address(scope, settings.server.trusted_proxies)
        state["locale"] = negotiate(
            cookies.get(LANGUAGE_COOKIE),
            _header(scope, b"accept-language"),
            settings.i18n.locales,
            settings.i18n.default_locale,
        )
        principal: Principal | None = None
        auth: dict[str, str] = {}
        try:
            if scope["path"].startswith(API_PREFIX):
                authorization = _header(scope, b"authorization") or ""
                scheme, _, token = authorization.partition(" ")
                if scheme.lower() == "bearer" and token.strip():
                    principal = await principal_for_token(token.strip(), deps=self.auth)
                    if principal is not None:
                        auth = {"kind": "token", "token": token.strip()}
            elif session_id := cookies.get(self.session_cookie):
                principal = await resume_session(session_id, deps=self.auth)
                if principal is not None:
                    auth = {"kind": "session", "session_id": session_id}
        except ServiceUnavailable:
            principal = None  # the guards then answer 401 / redirect to the login page, which explains the outage
        scope["user"] = principal
        scope["auth"] = auth
        await self.app(scope, receive, send)


def session_cookie(value: str, *, secure: bool, max_age: int | None) -> Cookie:
    return Cookie(
        key=cookie_name(SESSION_COOKIE, secure=secure),
        value=value,
        path="/",
        httponly=True,
        secure=secure,
        samesite="lax",
        max_age=max_age,
    )
