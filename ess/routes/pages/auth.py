"""Login, logout and the language switch."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import URLEncodedBody
from litestar.response import Redirect, Template

from ess.domain.auth.login import LogIn, PasswordChangeRequired, log_in, remember_device
from ess.domain.auth.model import Principal, SsoReason, SsoRefused
from ess.domain.auth.ports import AuthDeps
from ess.domain.auth.sessions import log_out, open_session
from ess.domain.auth.sso import sign_in_with_ticket
from ess.domain.errors import DomainError, Throttled
from ess.domain.mfa.login import Need, after_password
from ess.domain.mfa.ports import MfaDeps
from ess.domain.passwords.ports import PasswordDeps
from ess.i18n import LANGUAGE_COOKIE
from ess.routes.errors import form_errors
from ess.routes.middleware import (
    KNOWN_DEVICE_COOKIE,
    MFA_REMEMBERED_COOKIE,
    MFA_STEP_COOKIE,
    SESSION_COOKIE,
    SSO_COOKIE,
    cookie_name,
    session_cookie,
)
from ess.routes.pages.expired_password import expired_password_form
from ess.routes.rendering import client_of, gettext_for, page_context, principal_of, url_to
from ess.routes.sso_text import KERBEROS_REFUSALS
from ess.settings import Settings


def step_cookie(value: str, *, secure: bool, max_age: int) -> Cookie:
    """The signed "password was right" ticket between the password and the second factor (see ess.domain.mfa)."""
    return Cookie(
        key=cookie_name(MFA_STEP_COOKIE, secure=secure),
        value=value,
        path="/",
        max_age=max_age,
        httponly=True,
        secure=secure,
        samesite="strict",
    )


async def finish_login(
    request: Request[Any, Any, Any],
    response: Response[Any],
    principal: Principal,
    *,
    auth: AuthDeps,
    settings: Settings,
) -> Response[Any]:
    """Open the session (after the password and, where needed, the second factor) and remember the device for the
    login throttle; the second-factor step's ticket is dropped."""
    secure = settings.server.served_over_tls
    previous = request.scope.get("auth", {}).get("session_id")
    if previous:
        await auth.sessions.delete(previous)  # one browser, one session: the old one ends here
    session_id = await open_session(principal, deps=auth)
    response.set_cookie(session_cookie(session_id, secure=secure, max_age=None))
    response.delete_cookie(cookie_name(MFA_STEP_COOKIE, secure=secure), path="/")
    if device := remember_device(principal, deps=auth):
        lifetime = int(auth.policy.known_device_lifetime.total_seconds())
        response.set_cookie(
            Cookie(
                key=cookie_name(KNOWN_DEVICE_COOKIE, secure=secure),
                value=device,
                path="/",
                max_age=lifetime,
                httponly=True,
                secure=secure,
                samesite="strict",
            )
        )
    return response


async def continue_login(
    request: Request[Any, Any, Any],
    principal: Principal,
    next_: str,
    *,
    auth: AuthDeps,
    mfa: MfaDeps,
    settings: Settings,
    go: Callable[[str], Response[Any]] | None = None,
) -> Response[Any]:
    """After the first step (the password, or a single sign-on): the second factor where the account has one or its
    role needs one, else the session."""
    secure = settings.server.served_over_tls
    go = go or (lambda target: Redirect(target, status_code=303))
    step = await after_password(
        principal,
        remembered=request.cookies.get(cookie_name(MFA_REMEMBERED_COOKIE, secure=secure), ""),
        client=client_of(request),
        deps=mfa,
    )
    if step.need is Need.NOTHING:
        return await finish_login(request, go(safe_next(next_)), principal, auth=auth, settings=settings)
    # The first step was right; the session opens only after the second factor (or its enrolment).
    page = "login_second_factor" if step.need is Need.VERIFY else "login_enrol"
    query = "?" + urlencode({"next": safe_next(next_)})
    response = go(url_to(request, page) + query)
    response.set_cookie(step_cookie(step.ticket, secure=secure, max_age=int(mfa.policy.step_lifetime.total_seconds())))
    return response


async def negotiate(
    request: Request[Any, Any, Any], *, auth: AuthDeps, mfa: MfaDeps, settings: Settings
) -> Response[Any] | None:
    """Windows integrated login. A browser that offers a Negotiate ticket is signed in with it (or told in plain
    words why not); others are asked for one with a 401 whose page is the login form, which every browser without
    a ticket simply shows. None: show the form as usual (after a logout, or no ticket to ask for)."""
    header = request.headers.get("authorization", "")
    next_ = safe_next(request.query_params.get("next", "/"))
    if header[:10].lower() != "negotiate ":
        if "logged_out" in request.query_params or "password" in request.query_params:
            return None  # no silent sign-in again right after a logout, nor when the form was asked for
        context = page_context(request, next=next_, username="", **sso_context(request, auth, settings))
        return Template(
            template_name="login.html", context=context, status_code=401, headers={"WWW-Authenticate": "Negotiate"}
        )
    try:
        token = base64.b64decode(header[10:].strip(), validate=True)
        principal = await sign_in_with_ticket(token, client=client_of(request), deps=auth)
    except (binascii.Error, SsoRefused) as exc:
        reason = exc.reason if isinstance(exc, SsoRefused) else SsoReason.FORGED
        message = gettext_for(request)(KERBEROS_REFUSALS[reason])
        context = page_context(request, next=next_, username="", error=message, **sso_context(request, auth, settings))
        return Template(template_name="login.html", context=context, status_code=401)
    response = await continue_login(request, principal, next_, auth=auth, mfa=mfa, settings=settings)
    secure = settings.server.served_over_tls
    response.set_cookie(
        Cookie(
            key=cookie_name(SSO_COOKIE, secure=secure),
            value="kerberos",
            path="/",
            httponly=True,
            secure=secure,
            samesite="lax",
        )
    )
    return response


class LoginForm(msgspec.Struct):
    username: str = ""
    password: str = ""
    next: str = ""


class LanguageForm(msgspec.Struct):
    lang: str = ""
    next: str = ""


def sso_context(request: Request[Any, Any, Any], auth: AuthDeps, settings: Settings, **extra: Any) -> dict[str, Any]:
    """What the login page shows of single sign-on: the provider's button, and its logout after ours."""
    if auth.oidc is None:
        return dict(extra)
    return {
        "sso_label": settings.sso.oidc.button_label,
        "provider_logout": "provider" in request.query_params,
        **extra,
    }


def safe_next(target: str) -> str:
    """Only local paths: an open redirect after login is a phishing tool."""
    if target.startswith("/") and not target.startswith(("//", "/\\")) and "\n" not in target and "\r" not in target:
        return target
    return "/"


class AuthPagesController(Controller):
    path = "/"
    include_in_schema = False

    @get("/login", operation_id="loginPage", name="login")
    async def login_page(
        self,
        request: Request[Any, Any, Any],
        auth: NamedDependency[AuthDeps],
        mfa: NamedDependency[MfaDeps],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        """The login form; with a service keytab, Windows integrated login (Kerberos through SPNEGO) first."""
        if principal_of(request) is not None:
            return Redirect(safe_next(request.query_params.get("next", "/")), status_code=303)
        if auth.kerberos is not None:
            answer = await negotiate(request, auth=auth, mfa=mfa, settings=settings)
            if answer is not None:
                return answer
        return Template(
            template_name="login.html",
            context=page_context(
                request,
                next=safe_next(request.query_params.get("next", "/")),
                username="",
                logged_out="logged_out" in request.query_params,
                password_changed="password_changed" in request.query_params,
                step_expired="expired" in request.query_params,
                **sso_context(request, auth, settings),
            ),
        )

    @post("/login", operation_id="login", name="login_submit", status_code=303)
    async def login(  # noqa: PLR0917 - Litestar injects each dependency by its parameter name
        self,
        request: Request[Any, Any, Any],
        auth: NamedDependency[AuthDeps],
        passwords: NamedDependency[PasswordDeps],
        mfa: NamedDependency[MfaDeps],
        settings: NamedDependency[Settings],
        data: URLEncodedBody[LoginForm],
    ) -> Response[Any]:
        """Check the credentials and open a session."""
        secure = settings.server.served_over_tls
        device_cookie = cookie_name(KNOWN_DEVICE_COOKIE, secure=secure)
        try:
            principal = await log_in(
                LogIn(
                    login=data.username,
                    password=data.password,
                    client=client_of(request),
                    channel="web",
                    device=request.cookies.get(device_cookie, ""),
                ),
                deps=auth,
            )
        except PasswordChangeRequired:
            # The password was right but has expired or must change: offer the change right here (no session yet).
            return expired_password_form(
                request, passwords.policy, username=data.username[:256], next_=safe_next(data.next)
            )
        except DomainError as exc:
            status, errors = form_errors(exc, gettext_for(request))
            context = page_context(
                request,
                next=safe_next(data.next),
                username=data.username[:256],
                error=errors["form"][0],
                **sso_context(request, auth, settings),
            )
            retry = {"Retry-After": str(exc.retry_after_seconds)} if isinstance(exc, Throttled) else None
            return Template(template_name="login.html", context=context, status_code=status, headers=retry)

        return await continue_login(request, principal, data.next, auth=auth, mfa=mfa, settings=settings)

    @post("/logout", operation_id="logout", name="logout", status_code=303)
    async def logout(
        self, request: Request[Any, Any, Any], auth: NamedDependency[AuthDeps], settings: NamedDependency[Settings]
    ) -> Response[Any]:
        """End the session."""
        principal = principal_of(request)
        session_id = request.scope.get("auth", {}).get("session_id")
        if principal is not None and session_id:
            await log_out(session_id, principal, deps=auth, client=client_of(request))
        secure = settings.server.served_over_tls
        # Signed in through the provider: the login page offers its logout too (the provider's session lives on).
        via_provider = auth.oidc is not None and request.cookies.get(cookie_name(SSO_COOKIE, secure=secure)) == "oidc"
        query = "?logged_out=1" + ("&provider=1" if via_provider else "")
        response: Response[Any] = Redirect(url_to(request, "login") + query, status_code=303)
        response.delete_cookie(cookie_name(SESSION_COOKIE, secure=secure), path="/")
        response.delete_cookie(cookie_name(SSO_COOKIE, secure=secure), path="/")
        return response

    @post("/language", operation_id="setLanguage", name="language", status_code=303)
    async def set_language(
        self, request: Request[Any, Any, Any], settings: NamedDependency[Settings], data: URLEncodedBody[LanguageForm]
    ) -> Response[Any]:
        """Remember the chosen language."""
        response: Response[Any] = Redirect(safe_next(data.next), status_code=303)
        if data.lang in settings.i18n.locales:
            response.set_cookie(
                Cookie(
                    key=LANGUAGE_COOKIE,
                    value=data.lang,
                    path="/",
                    max_age=365 * 24 * 3600,
                    samesite="lax",
                    httponly=True,
                    secure=settings.server.served_over_tls,
                )
            )
        return response
