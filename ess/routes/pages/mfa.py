"""Pages of the login second factor: the step after the password (code or passkey), enrolment right after the password
when the role needs a factor, the owner's settings page, and the helpdesk's reset form."""

from __future__ import annotations

from contextlib import suppress
from typing import Annotated, Any, Final

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import JSONBody, URLEncodedBody
from litestar.response import Redirect, Template

from ess.domain.auth.login import resolve_principal
from ess.domain.auth.ports import AuthDeps
from ess.domain.errors import AuthenticationFailed, DomainError
from ess.domain.mfa.enrolment import (
    confirm_totp,
    factors_view,
    finish_passkey,
    remove_factor,
    renew_recovery_codes,
    start_passkey,
    start_totp,
)
from ess.domain.mfa.helpdesk import reset_second_factor
from ess.domain.mfa.login import passkey_challenge, pending_login, remember_device, verify_code, verify_passkey
from ess.domain.mfa.model import shown_code
from ess.domain.mfa.ports import MfaDeps
from ess.domain.recovery.helpdesk import helpdesk_lookup
from ess.routes.errors import form_errors
from ess.routes.guards import current_principal, requires_login
from ess.routes.middleware import MFA_CHALLENGE_COOKIE, MFA_REMEMBERED_COOKIE, MFA_STEP_COOKIE, cookie_name
from ess.routes.pages.auth import finish_login, safe_next
from ess.routes.pages.recovery import qr_data_uri
from ess.routes.problems import status_for
from ess.routes.rendering import N_, client_of, gettext_for, page_context, url_to
from ess.settings import Settings

# Messages for the second factor's errors, by code, and the field they belong to.
MFA_MESSAGES: Final = {
    "second_factor_failed": (
        "code",
        N_("The code is not correct. Use a current code from the app or an unused recovery code."),
    ),
    "throttled": ("form", N_("Too many wrong codes. Please wait a few minutes and try again.")),
    "wrong_current_password": ("password", N_("The password is not correct.")),
    "second_factor_needed": (
        "form",
        N_("Your role needs a second factor: set up another one before you remove this one."),
    ),
    "no_second_factor": ("form", N_("Set up an authenticator app or a passkey first.")),
    "not_found": ("form", N_("No account with this login name was found.")),
    "permission_denied": ("form", N_("Only the IT helpdesk may do this, and never for their own account.")),
    "invalid_input": ("reason", N_("Say why in 10 to 500 characters (the ticket, how the caller was identified).")),
}
PASSKEY_FAILED: Final = N_("The passkey could not be used. Please try again or enter a code.")


def mfa_errors(request: Request[Any, Any, Any], exc: DomainError) -> tuple[int, dict[str, list[str]]]:
    gettext = gettext_for(request)
    if exc.code in MFA_MESSAGES:
        field, message = MFA_MESSAGES[exc.code]
        return status_for(exc), {field: [gettext(message)]}
    return form_errors(exc, gettext)


class CodeForm(msgspec.Struct):
    code: str = ""
    remember: str = ""
    next: str = ""


class EnrolForm(msgspec.Struct):
    code: str = ""
    label: str = ""
    next: str = ""


class PasskeyIn(msgspec.Struct):
    credential: Annotated[str, msgspec.Meta(max_length=65536)] = ""
    label: Annotated[str, msgspec.Meta(max_length=256)] = ""
    remember: bool = False
    next: Annotated[str, msgspec.Meta(max_length=2048)] = ""


class PasswordForm(msgspec.Struct):
    password: str = ""


class RemoveForm(msgspec.Struct):
    factor: str = ""
    password: str = ""


class HelpdeskResetForm(msgspec.Struct):
    login: str = ""
    reason: str = ""


def _step(request: Request[Any, Any, Any], settings: Settings) -> str:
    return request.cookies.get(cookie_name(MFA_STEP_COOKIE, secure=settings.server.served_over_tls), "")


def _back_to_login(request: Request[Any, Any, Any]) -> Response[Any]:
    return Redirect(url_to(request, "login") + "?expired=1", status_code=303)


def _challenge_cookie(value: str, settings: Settings, mfa: MfaDeps) -> Cookie:
    return Cookie(
        key=cookie_name(MFA_CHALLENGE_COOKIE, secure=settings.server.served_over_tls),
        value=value,
        path="/",
        max_age=int(mfa.policy.step_lifetime.total_seconds()),
        httponly=True,
        secure=settings.server.served_over_tls,
        samesite="strict",
    )


async def _logged_in(
    request: Request[Any, Any, Any],
    response: Response[Any],
    login: str,
    *,
    remember: bool,
    auth: AuthDeps,
    mfa: MfaDeps,
    settings: Settings,
) -> Response[Any]:
    """Both factors passed: the session opens with the roles the account has now."""
    principal = await resolve_principal(login, deps=auth)
    if principal is None:
        raise AuthenticationFailed("The login or the password is not correct.")
    secure = settings.server.served_over_tls
    if remember and (value := remember_device(login, deps=mfa)):
        response.set_cookie(
            Cookie(
                key=cookie_name(MFA_REMEMBERED_COOKIE, secure=secure),
                value=value,
                path="/",
                max_age=int(mfa.policy.remember_lifetime.total_seconds()),
                httponly=True,
                secure=secure,
                samesite="strict",
            )
        )
    response.delete_cookie(cookie_name(MFA_CHALLENGE_COOKIE, secure=secure), path="/")
    return await finish_login(request, response, principal, auth=auth, settings=settings)


class SecondFactorLoginPagesController(Controller):
    """The step after the right password. No session exists yet: the signed step cookie says whose password it was."""

    path = "/login"
    include_in_schema = False

    def _page(self, request: Request[Any, Any, Any], mfa: MfaDeps, *, status_code: int = 200, **extra: Any) -> Template:
        extra.setdefault("errors", {})
        extra.setdefault("next", safe_next(request.query_params.get("next", "/")))
        context = page_context(request, remember_days=mfa.policy.remember_lifetime.days, **extra)
        return Template(template_name="login_second_factor.html", context=context, status_code=status_code)

    @get("/second-factor", operation_id="secondFactorPage", name="login_second_factor")
    async def form(
        self, request: Request[Any, Any, Any], mfa: NamedDependency[MfaDeps], settings: NamedDependency[Settings]
    ) -> Response[Any]:
        """Ask for the second factor."""
        try:
            login = pending_login(_step(request, settings), deps=mfa)
        except DomainError:
            return _back_to_login(request)
        view = await factors_view_for(login, mfa)
        return self._page(request, mfa, kinds=view)

    @post("/second-factor", operation_id="secondFactorSubmit", name="login_second_factor_submit", status_code=303)
    async def submit(
        self,
        request: Request[Any, Any, Any],
        auth: NamedDependency[AuthDeps],
        mfa: NamedDependency[MfaDeps],
        settings: NamedDependency[Settings],
        data: URLEncodedBody[CodeForm],
    ) -> Response[Any]:
        """Check a code from the app or a recovery code and open the session."""
        ticket = _step(request, settings)
        try:
            login = await verify_code(ticket, data.code, client=client_of(request), deps=mfa)
        except DomainError as exc:
            if exc.code == "login_step_expired":
                return _back_to_login(request)
            status, errors = mfa_errors(request, exc)
            kinds = await factors_view_for(pending_login(ticket, deps=mfa), mfa)
            return self._page(request, mfa, status_code=status, errors=errors, next=safe_next(data.next), kinds=kinds)
        response: Response[Any] = Redirect(safe_next(data.next), status_code=303)
        return await _logged_in(
            request, response, login, remember=bool(data.remember), auth=auth, mfa=mfa, settings=settings
        )

    @post("/passkey/options", operation_id="passkeyLoginOptions", name="login_passkey_options", status_code=200)
    async def passkey_options(
        self, request: Request[Any, Any, Any], mfa: NamedDependency[MfaDeps], settings: NamedDependency[Settings]
    ) -> Response[Any]:
        """WebAuthn request options for the pending login (JSON for the page's script)."""
        try:
            options, challenge = await passkey_challenge(_step(request, settings), deps=mfa)
        except DomainError:
            return Response({"error": gettext_for(request)(PASSKEY_FAILED)}, status_code=400)
        response: Response[Any] = Response(
            content=options.encode("utf-8"), media_type="application/json", status_code=200
        )
        response.set_cookie(_challenge_cookie(challenge, settings, mfa))
        return response

    @post("/passkey", operation_id="passkeyLogin", name="login_passkey", status_code=200)
    async def passkey(
        self,
        request: Request[Any, Any, Any],
        auth: NamedDependency[AuthDeps],
        mfa: NamedDependency[MfaDeps],
        settings: NamedDependency[Settings],
        data: JSONBody[PasskeyIn],
    ) -> Response[Any]:
        """Check the passkey's answer and open the session."""
        challenge = request.cookies.get(cookie_name(MFA_CHALLENGE_COOKIE, secure=settings.server.served_over_tls), "")
        try:
            login = await verify_passkey(
                _step(request, settings), challenge, data.credential, client=client_of(request), deps=mfa
            )
        except DomainError as exc:
            message = mfa_errors(request, exc)[1] if exc.code == "throttled" else None
            text = next(iter(message.values()))[0] if message else gettext_for(request)(PASSKEY_FAILED)
            return Response({"error": text}, status_code=status_for(exc))
        response: Response[Any] = Response({"redirect": safe_next(data.next)}, status_code=200)
        return await _logged_in(request, response, login, remember=data.remember, auth=auth, mfa=mfa, settings=settings)

    @get("/enrol", operation_id="secondFactorEnrolPage", name="login_enrol")
    async def enrol_form(
        self, request: Request[Any, Any, Any], mfa: NamedDependency[MfaDeps], settings: NamedDependency[Settings]
    ) -> Response[Any]:
        """Set up an authenticator app right after the password (the role needs a second factor)."""
        try:
            login = pending_login(_step(request, settings), deps=mfa)
        except DomainError:
            return _back_to_login(request)
        return await self._enrol_page(request, mfa, login)

    async def _enrol_page(
        self, request: Request[Any, Any, Any], mfa: MfaDeps, login: str, *, status_code: int = 200, **extra: Any
    ) -> Template:
        setup = await start_totp(login, deps=mfa)
        extra.setdefault("errors", {})
        extra.setdefault("next", safe_next(request.query_params.get("next", "/")))
        context = page_context(request, setup=setup, qr=qr_data_uri(setup.uri), **extra)
        return Template(template_name="login_enrol.html", context=context, status_code=status_code)

    @post("/enrol", operation_id="secondFactorEnrolSubmit", name="login_enrol_submit", status_code=200)
    async def enrol(
        self,
        request: Request[Any, Any, Any],
        auth: NamedDependency[AuthDeps],
        mfa: NamedDependency[MfaDeps],
        settings: NamedDependency[Settings],
        data: URLEncodedBody[EnrolForm],
    ) -> Response[Any]:
        """Confirm the app with its first code, show the recovery codes once and open the session."""
        try:
            login = pending_login(_step(request, settings), deps=mfa)
        except DomainError:
            return _back_to_login(request)
        try:
            codes = await confirm_totp(login, data.code, data.label, client=client_of(request), deps=mfa)
        except DomainError as exc:
            status, errors = mfa_errors(request, exc)
            return await self._enrol_page(
                request, mfa, login, status_code=status, errors=errors, next=safe_next(data.next)
            )
        context = page_context(request, codes=[shown_code(c) for c in codes], next=safe_next(data.next))
        response: Response[Any] = Template(template_name="mfa_recovery_codes.html", context=context)
        return await _logged_in(request, response, login, remember=False, auth=auth, mfa=mfa, settings=settings)


async def factors_view_for(login: str, mfa: MfaDeps) -> list[str]:
    """The kinds of factor a pending login can use, for the page (passkey button only with a passkey)."""
    async with mfa.new_uow() as uow:
        return sorted({f.kind.value for f in await uow.factors.factors(login) if f.confirmed})


class SecondFactorSettingsPagesController(Controller):
    """The owner's second factors: add an app or a passkey, new recovery codes, remove a factor."""

    path = "/security/second-factor"
    include_in_schema = False
    guards = [requires_login]

    async def _page(
        self, request: Request[Any, Any, Any], mfa: MfaDeps, *, status_code: int = 200, **extra: Any
    ) -> Template:
        principal = current_principal(request)
        setup = extra.pop("setup", None)
        extra.setdefault("errors", {})
        extra.setdefault("section", "")
        extra.setdefault("message", "")
        extra.setdefault("codes", [])
        context = page_context(
            request,
            view=await factors_view(principal, deps=mfa),
            setup=setup,
            qr=qr_data_uri(setup.uri) if setup else "",
            **extra,
        )
        return Template(template_name="mfa_settings.html", context=context, status_code=status_code)

    @get("", operation_id="secondFactorSettingsPage", name="mfa_settings")
    async def page(self, request: Request[Any, Any, Any], mfa: NamedDependency[MfaDeps]) -> Template:
        """The owner's second factors."""
        return await self._page(request, mfa)

    @post("/totp", operation_id="secondFactorTotpStart", name="mfa_totp", status_code=200)
    async def totp_start(self, request: Request[Any, Any, Any], mfa: NamedDependency[MfaDeps]) -> Template:
        """Show a new authenticator app's key."""
        setup = await start_totp(current_principal(request).login, deps=mfa)
        return await self._page(request, mfa, setup=setup, section="totp")

    @post("/totp/confirm", operation_id="secondFactorTotpConfirm", name="mfa_totp_confirm", status_code=200)
    async def totp_confirm(
        self, request: Request[Any, Any, Any], mfa: NamedDependency[MfaDeps], data: URLEncodedBody[EnrolForm]
    ) -> Template:
        """Confirm the app with its first code."""
        login = current_principal(request).login
        try:
            codes = await confirm_totp(login, data.code, data.label, client=client_of(request), deps=mfa)
        except DomainError as exc:
            status, errors = mfa_errors(request, exc)
            setup = await start_totp(login, deps=mfa)
            return await self._page(request, mfa, status_code=status, errors=errors, section="totp", setup=setup)
        return await self._page(
            request, mfa, message=N_("The authenticator app is set up."), codes=[shown_code(c) for c in codes]
        )

    @post("/passkey/options", operation_id="passkeyRegisterOptions", name="mfa_passkey_options", status_code=200)
    async def passkey_options(
        self, request: Request[Any, Any, Any], mfa: NamedDependency[MfaDeps], settings: NamedDependency[Settings]
    ) -> Response[Any]:
        """WebAuthn creation options (JSON for the page's script)."""
        principal = current_principal(request)
        options, challenge = await start_passkey(principal.login, principal.display_name, deps=mfa)
        response: Response[Any] = Response(content=options.encode("utf-8"), media_type="application/json")
        response.set_cookie(_challenge_cookie(challenge, settings, mfa))
        return response

    @post("/passkey", operation_id="passkeyRegister", name="mfa_passkey", status_code=200)
    async def passkey(
        self,
        request: Request[Any, Any, Any],
        mfa: NamedDependency[MfaDeps],
        settings: NamedDependency[Settings],
        data: JSONBody[PasskeyIn],
    ) -> Response[Any]:
        """Store the new passkey."""
        challenge = request.cookies.get(cookie_name(MFA_CHALLENGE_COOKIE, secure=settings.server.served_over_tls), "")
        try:
            codes = await finish_passkey(
                current_principal(request).login,
                challenge,
                data.credential,
                data.label,
                client=client_of(request),
                deps=mfa,
            )
        except DomainError as exc:
            return Response({"error": gettext_for(request)(PASSKEY_FAILED)}, status_code=status_for(exc))
        # The page shows new recovery codes once: the script follows to a page that holds them.
        return Response({"redirect": url_to(request, "mfa_settings"), "codes": [shown_code(c) for c in codes]})

    @post("/recovery-codes", operation_id="secondFactorNewCodes", name="mfa_codes", status_code=200)
    async def new_codes(
        self, request: Request[Any, Any, Any], mfa: NamedDependency[MfaDeps], data: URLEncodedBody[PasswordForm]
    ) -> Template:
        """Replace the recovery codes."""
        try:
            codes = await renew_recovery_codes(
                current_principal(request), data.password, client=client_of(request), deps=mfa
            )
        except DomainError as exc:
            status, errors = mfa_errors(request, exc)
            return await self._page(request, mfa, status_code=status, errors=errors, section="codes")
        return await self._page(
            request, mfa, message=N_("New recovery codes are ready."), codes=[shown_code(c) for c in codes]
        )

    @post("/remove", operation_id="secondFactorRemove", name="mfa_remove", status_code=200)
    async def remove(
        self, request: Request[Any, Any, Any], mfa: NamedDependency[MfaDeps], data: URLEncodedBody[RemoveForm]
    ) -> Template:
        """Remove one second factor."""
        try:
            factor_id = int(data.factor) if data.factor.isdigit() and len(data.factor) < 10 else 0
            await remove_factor(
                current_principal(request), factor_id, data.password, client=client_of(request), deps=mfa
            )
        except DomainError as exc:
            status, errors = mfa_errors(request, exc)
            return await self._page(request, mfa, status_code=status, errors=errors, section=f"remove-{data.factor}")
        return await self._page(request, mfa, message=N_("The second factor was removed."))


class HelpdeskSecondFactorPagesController(Controller):
    """The helpdesk's form to reset someone's second factor (role, reason and owner notice in the service)."""

    path = "/helpdesk/second-factor"
    include_in_schema = False
    guards = [requires_login]

    @post("/reset", operation_id="helpdeskResetSecondFactorPage", name="helpdesk_mfa_reset", status_code=200)
    async def reset(
        self, request: Request[Any, Any, Any], mfa: NamedDependency[MfaDeps], data: URLEncodedBody[HelpdeskResetForm]
    ) -> Template:
        """Reset an account's second factor."""
        status, message, reason = 200, "", ""
        errors: dict[str, list[str]] = {}
        operator = current_principal(request)
        try:
            await reset_second_factor(operator, data.login, data.reason, client=client_of(request), deps=mfa)
            message = N_("The second factor has been reset. The owner has been told by e-mail.")
        except DomainError as exc:
            status, errors = mfa_errors(request, exc)
            reason = data.reason[:500]  # kept in its field beside the message
        view = None
        with suppress(DomainError):  # an unknown account: the refusal above says why
            view = await helpdesk_lookup(operator, data.login, client=client_of(request), deps=mfa.recovery)
        context = page_context(
            request, login=data.login[:256], view=view, errors=errors, message=message, reason=reason
        )
        return Template(template_name="helpdesk.html", context=context, status_code=status)
