"""Single sign-on pages: off to the OpenID provider, back from it, and the provider's logout."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any, Final

from litestar import Controller, Request, Response, get
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from ess.domain.auth.model import SsoRefused
from ess.domain.auth.ports import AuthDeps
from ess.domain.auth.sso import FinishOidc, finish_oidc, start_oidc
from ess.domain.errors import ServiceUnavailable
from ess.domain.mfa.ports import MfaDeps
from ess.routes.middleware import SSO_COOKIE, SSO_PENDING_COOKIE, cookie_name
from ess.routes.pages.auth import continue_login, safe_next, sso_context
from ess.routes.rendering import client_of, gettext_for, page_context, url_to
from ess.routes.sso_text import REFUSALS, UNAVAILABLE
from ess.settings import Settings

# How long the way to the provider and back may take.
PENDING_SECONDS: Final = 600
MAX_PARAMETER: Final = 4096


def _key(settings: Settings) -> bytes:
    return hashlib.sha256(b"ess oidc pending v1\0" + settings.secret_key.reveal().encode("utf-8")).digest()


def _sign(payload: dict[str, Any], settings: Settings) -> str:
    body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")
    mac = hmac.new(_key(settings), body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def _unsign(value: str, settings: Settings) -> dict[str, Any]:
    body, _, mac = value.partition(".")
    if not body or not hmac.compare_digest(mac, hmac.new(_key(settings), body.encode(), hashlib.sha256).hexdigest()):
        return {}
    try:
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return {}
    if not isinstance(payload, dict) or time.time() - float(payload.get("at", 0)) > PENDING_SECONDS:
        return {}
    return payload


def _callback_url(request: Request[Any, Any, Any], settings: Settings) -> str:
    # From the configured base URL, never the Host header: it is registered at the provider as is.
    return settings.server.base_url.rstrip("/") + url_to(request, "login_oidc_callback")


def _continue_page(request: Request[Any, Any, Any]) -> Any:
    """A same-site step after the provider's redirect: browsers send SameSite=Strict cookies (the second factor's
    ticket) only on navigations that start on our own pages."""

    def go(target: str) -> Response[Any]:
        return Template(template_name="sso_continue.html", context=page_context(request, target=target))

    return go


class SsoPagesController(Controller):
    path = "/"
    include_in_schema = False

    @get("/login/oidc", operation_id="loginOidc", name="login_oidc")
    async def start(
        self, request: Request[Any, Any, Any], auth: NamedDependency[AuthDeps], settings: NamedDependency[Settings]
    ) -> Response[Any]:
        """Off to the OpenID provider."""
        if auth.oidc is None:
            return Redirect(url_to(request, "login"), status_code=303)
        next_ = safe_next(request.query_params.get("next", "/")[:MAX_PARAMETER])
        try:
            started = await start_oidc(_callback_url(request, settings), deps=auth)
        except ServiceUnavailable:
            return self._login_page(request, auth, settings, gettext_for(request)(UNAVAILABLE), status=503)
        secure = settings.server.served_over_tls
        pending = {"s": started.state, "n": started.nonce, "v": started.verifier, "next": next_, "at": time.time()}
        response: Response[Any] = Redirect(started.url, status_code=303)
        response.set_cookie(
            Cookie(
                key=cookie_name(SSO_PENDING_COOKIE, secure=secure),
                value=_sign(pending, settings),
                path="/",
                max_age=PENDING_SECONDS,
                httponly=True,
                secure=secure,
                # Lax: it must come back with the provider's top-level redirect to the callback.
                samesite="lax",
            )
        )
        return response

    @get("/login/oidc/callback", operation_id="loginOidcCallback", name="login_oidc_callback")
    async def callback(
        self,
        request: Request[Any, Any, Any],
        auth: NamedDependency[AuthDeps],
        mfa: NamedDependency[MfaDeps],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        """Back from the OpenID provider: check its answer and sign in."""
        secure = settings.server.served_over_tls
        params = request.query_params
        pending = _unsign(request.cookies.get(cookie_name(SSO_PENDING_COOKIE, secure=secure), ""), settings)
        cmd = FinishOidc(
            code=params.get("code", "")[:MAX_PARAMETER],
            state=params.get("state", "")[:MAX_PARAMETER],
            expected_state=str(pending.get("s", "")),
            nonce=str(pending.get("n", "")),
            verifier=str(pending.get("v", "")),
            redirect_uri=_callback_url(request, settings),
            client=client_of(request),
            error=params.get("error", "")[:MAX_PARAMETER],
        )
        gettext = gettext_for(request)
        try:
            principal = await finish_oidc(cmd, deps=auth)
        except SsoRefused as exc:
            response = self._login_page(request, auth, settings, gettext(REFUSALS[exc.reason]), status=401)
        except ServiceUnavailable:
            response = self._login_page(request, auth, settings, gettext(UNAVAILABLE), status=503)
        else:
            next_ = safe_next(str(pending.get("next", "/")))
            response = await continue_login(
                request, principal, next_, auth=auth, mfa=mfa, settings=settings, go=_continue_page(request)
            )
            response.set_cookie(
                Cookie(
                    key=cookie_name(SSO_COOKIE, secure=secure),
                    value="oidc",
                    path="/",
                    httponly=True,
                    secure=secure,
                    samesite="lax",
                )
            )
        response.delete_cookie(cookie_name(SSO_PENDING_COOKIE, secure=secure), path="/")
        return response

    @get("/logout/oidc", operation_id="logoutOidc", name="logout_oidc")
    async def provider_logout(
        self, request: Request[Any, Any, Any], auth: NamedDependency[AuthDeps], settings: NamedDependency[Settings]
    ) -> Response[Any]:
        """Off to the provider's logout (ESS's own session has already ended)."""
        back = settings.server.base_url.rstrip("/") + url_to(request, "login") + "?logged_out=1"
        target = None
        if auth.oidc is not None:
            try:
                target = await auth.oidc.logout_url(post_logout_redirect_uri=back)
            except ServiceUnavailable:
                target = None
        return Redirect(target or url_to(request, "login") + "?logged_out=1", status_code=303)

    @staticmethod
    def _login_page(
        request: Request[Any, Any, Any], auth: AuthDeps, settings: Settings, message: str, *, status: int
    ) -> Response[Any]:
        context = page_context(request, next="/", username="", error=message, **sso_context(request, auth, settings))
        return Template(template_name="login.html", context=context, status_code=status)
