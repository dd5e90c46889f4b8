"""Pages of recovery: forgotten password, reset and unlock links, the security page (enrolment), the helpdesk."""

from __future__ import annotations

from typing import Any, Final

import msgspec
import segno
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Template

from ess.domain.analytics.model import Flow
from ess.domain.analytics.ports import AnalyticsDeps
from ess.domain.auth.model import Principal, Purpose, is_plausible_login
from ess.domain.errors import DomainError
from ess.domain.passwords.checks import PasswordRejected
from ess.domain.recovery.enrolment import (
    change_recovery_email,
    confirm_recovery_email,
    confirm_recovery_mobile,
    overview,
    set_recovery_mobile,
)
from ess.domain.recovery.helpdesk import (
    AccountMatch,
    HelpdeskView,
    find_accounts,
    helpdesk_lookup,
    helpdesk_send_reset_link,
    helpdesk_unlock,
    login_trouble,
)
from ess.domain.recovery.links import RequestLink, request_link
from ess.domain.recovery.ports import RecoveryDeps
from ess.domain.recovery.reset import ResetPassword, reset_password
from ess.domain.recovery.totp import TotpSetup, confirm_totp, pending_totp, remove_totp, start_totp
from ess.domain.recovery.unlock import UnlockAccount, unlock_account
from ess.domain.recovery.verification import inspect_link, send_link_sms
from ess.routes import journeys
from ess.routes.errors import form_errors
from ess.routes.guards import current_principal, requires_login
from ess.routes.problems import status_for
from ess.routes.rendering import N_, client_of, gettext_for, page_context

# Messages for the recovery errors, by code, and the field they belong to.
RECOVERY_MESSAGES: Final = {
    "recovery_link_invalid": ("form", N_("This link is not valid (any more). Please ask for a new one.")),
    "second_factor_failed": ("code", N_("The code is not correct.")),
    "wrong_current_password": ("password", N_("The password is not correct.")),
    "throttled": ("form", N_("Too many attempts. Please wait a few minutes and try again.")),
    "no_recovery_address": ("form", N_("The account has no verified recovery e-mail address.")),
    "not_found": ("form", N_("No account with this login name was found.")),
    "permission_denied": ("form", N_("Only the IT helpdesk may do this.")),
    "invalid_input": ("form", N_("The request could not be completed.")),
}
FIELD_MESSAGES: Final = {
    "private_email": N_("Please enter a valid e-mail address."),
    "mobile": N_("Please enter a valid mobile number, e.g. +49 151 23456789."),
}

# What a field says when no more precise message exists.
CHECK_VALUE: Final = N_("Please check this value.")


def errors_for(
    request: Request[Any, Any, Any], exc: DomainError, recovery: RecoveryDeps
) -> tuple[int, dict[str, list[str]]]:
    gettext = gettext_for(request)
    policy = recovery.password_policy
    if isinstance(exc, PasswordRejected):
        return form_errors(exc, gettext, min=policy.min_length, max=policy.max_length)
    if exc.code == "field_rejected":
        return status_for(exc), {f: [gettext(FIELD_MESSAGES.get(f, CHECK_VALUE))] for f in exc.fields}
    if exc.code in RECOVERY_MESSAGES:
        field, message = RECOVERY_MESSAGES[exc.code]
        return status_for(exc), {field: [gettext(message)]}
    return form_errors(exc, gettext)


def qr_data_uri(uri: str) -> str:
    """The otpauth:// URI as an SVG QR code inline: no external service ever sees the secret."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, dark="#000000", light="#ffffff"))


class ForgotForm(msgspec.Struct):
    login: str = ""
    purpose: str = "reset"


class ResetForm(msgspec.Struct):
    new_password: str = ""
    new_password_repeat: str = ""
    totp_code: str = ""
    sms_code: str = ""


class CodeForm(msgspec.Struct):
    totp_code: str = ""
    sms_code: str = ""
    code: str = ""


class PasswordOnlyForm(msgspec.Struct):
    password: str = ""


class EmailForm(msgspec.Struct):
    password: str = ""
    private_email: str = ""


class MobileForm(msgspec.Struct):
    password: str = ""
    mobile: str = ""


class HelpdeskForm(msgspec.Struct):
    login: str = ""


def masked(login: str) -> str:
    """A login as the reset page shows it: enough to recognise one's own account, not to read it off a screen."""
    return ".".join(part[:2] + "•" * max(len(part) - 2, 1) for part in login.split("."))


class RecoveryPagesController(Controller):
    """Anonymous pages: ask for a link, use a link."""

    path = "/"
    include_in_schema = False

    @get("/password/forgot", operation_id="forgotPasswordPage", name="password_forgot")
    async def forgot_form(self, request: Request[Any, Any, Any], analytics: NamedDependency[AnalyticsDeps]) -> Template:
        """Ask for a reset or unlock link."""
        purpose = "unlock" if request.query_params.get("purpose") == "unlock" else "reset"
        await journeys.start(request, Flow.UNLOCK if purpose == "unlock" else Flow.PASSWORD_RESET, analytics)
        return Template(
            template_name="recovery_forgot.html", context=page_context(request, errors={}, login="", purpose=purpose)
        )

    @post("/password/forgot", operation_id="forgotPasswordSubmit", name="password_forgot_submit", status_code=200)
    async def forgot(
        self,
        request: Request[Any, Any, Any],
        recovery: NamedDependency[RecoveryDeps],
        analytics: NamedDependency[AnalyticsDeps],
        data: URLEncodedBody[ForgotForm],
    ) -> Template:
        """Send the link in the background; the same page follows for every login."""
        purpose = Purpose.UNLOCK if data.purpose == "unlock" else Purpose.RESET
        flow = Flow.UNLOCK if purpose is Purpose.UNLOCK else Flow.PASSWORD_RESET
        if not data.login.strip():  # nothing to look up: say so, rather than "check your mailbox"
            errors = {"login": [gettext_for(request)("Enter your login name or your work e-mail address.")]}
            context = page_context(request, errors=errors, login="", purpose=purpose.value)
            return Template(template_name="recovery_forgot.html", context=context, status_code=422)
        try:
            await request_link(
                RequestLink(identifier=data.login, purpose=purpose, client=client_of(request)), deps=recovery
            )
        except DomainError as exc:
            await journeys.fail(request, flow, analytics, exc)
            status, errors = errors_for(request, exc, recovery)
            context = page_context(request, errors=errors, login=data.login[:256], purpose=purpose.value)
            return Template(template_name="recovery_forgot.html", context=context, status_code=status)
        # The same step for every login (no enumeration): whether a mail went out is not recorded either.
        await journeys.reach(request, flow, analytics, "link_requested")
        return Template(template_name="recovery_sent.html", context=page_context(request, purpose=purpose.value))

    async def _link_page(
        self, request: Request[Any, Any, Any], recovery: RecoveryDeps, token: str, purpose: Purpose, **extra: Any
    ) -> Template:
        template = "recovery_reset.html" if purpose is Purpose.RESET else "recovery_unlock.html"
        try:
            info = await inspect_link(token, purpose, client=client_of(request), deps=recovery)
        except DomainError as exc:
            status, errors = errors_for(request, exc, recovery)
            return Template(
                template_name="recovery_invalid.html", context=page_context(request, errors=errors), status_code=status
            )
        extra.setdefault("errors", {})
        extra.setdefault("status_code", 200)
        status_code = extra.pop("status_code")
        context = page_context(
            request,
            info=info,
            token=token,
            masked_login=masked(info.login),
            min_length=recovery.password_policy.min_length,
            **extra,
        )
        return Template(template_name=template, context=context, status_code=status_code)

    @get("/password/reset/{token:str}", operation_id="resetPasswordPage", name="password_reset")
    async def reset_form(
        self,
        request: Request[Any, Any, Any],
        recovery: NamedDependency[RecoveryDeps],
        analytics: NamedDependency[AnalyticsDeps],
        token: FromPath[str],
    ) -> Template:
        """The form behind a reset link."""
        await journeys.reach(request, Flow.PASSWORD_RESET, analytics, "link_opened")
        return await self._link_page(request, recovery, token, Purpose.RESET)

    @post(
        "/password/reset/{token:str}", operation_id="resetPasswordSubmit", name="password_reset_submit", status_code=200
    )
    async def reset(
        self,
        request: Request[Any, Any, Any],
        recovery: NamedDependency[RecoveryDeps],
        analytics: NamedDependency[AnalyticsDeps],
        token: FromPath[str],
        data: URLEncodedBody[ResetForm],
    ) -> Template:
        """Set the new password; no automatic login follows."""
        try:
            await reset_password(
                ResetPassword(
                    token=token,
                    new=data.new_password,
                    repeat=data.new_password_repeat,
                    client=client_of(request),
                    totp_code=data.totp_code,
                    sms_code=data.sms_code,
                ),
                deps=recovery,
            )
        except DomainError as exc:
            await journeys.fail(request, Flow.PASSWORD_RESET, analytics, exc)
            status, errors = errors_for(request, exc, recovery)
            return await self._link_page(request, recovery, token, Purpose.RESET, errors=errors, status_code=status)
        await journeys.complete(request, Flow.PASSWORD_RESET, analytics)
        return Template(template_name="recovery_done.html", context=page_context(request, done="reset"))

    @post(
        "/password/reset/{token:str}/sms", operation_id="resetPasswordSms", name="password_reset_sms", status_code=200
    )
    async def reset_sms(
        self, request: Request[Any, Any, Any], recovery: NamedDependency[RecoveryDeps], token: FromPath[str]
    ) -> Template:
        """Text the second-factor code."""
        try:
            await send_link_sms(token, Purpose.RESET, client=client_of(request), deps=recovery)
        except DomainError as exc:
            status, errors = errors_for(request, exc, recovery)
            return await self._link_page(request, recovery, token, Purpose.RESET, errors=errors, status_code=status)
        return await self._link_page(request, recovery, token, Purpose.RESET)

    @get("/password/unlock/{token:str}", operation_id="unlockAccountPage", name="account_unlock")
    async def unlock_form(
        self,
        request: Request[Any, Any, Any],
        recovery: NamedDependency[RecoveryDeps],
        analytics: NamedDependency[AnalyticsDeps],
        token: FromPath[str],
    ) -> Template:
        """The confirmation behind an unlock link."""
        await journeys.reach(request, Flow.UNLOCK, analytics, "link_opened")
        return await self._link_page(request, recovery, token, Purpose.UNLOCK)

    @post(
        "/password/unlock/{token:str}",
        operation_id="unlockAccountSubmit",
        name="account_unlock_submit",
        status_code=200,
    )
    async def unlock(
        self,
        request: Request[Any, Any, Any],
        recovery: NamedDependency[RecoveryDeps],
        analytics: NamedDependency[AnalyticsDeps],
        token: FromPath[str],
        data: URLEncodedBody[CodeForm],
    ) -> Template:
        """Unlock the account."""
        try:
            await unlock_account(
                UnlockAccount(token=token, client=client_of(request), totp_code=data.totp_code, sms_code=data.sms_code),
                deps=recovery,
            )
        except DomainError as exc:
            await journeys.fail(request, Flow.UNLOCK, analytics, exc)
            status, errors = errors_for(request, exc, recovery)
            return await self._link_page(request, recovery, token, Purpose.UNLOCK, errors=errors, status_code=status)
        await journeys.complete(request, Flow.UNLOCK, analytics)
        return Template(template_name="recovery_done.html", context=page_context(request, done="unlock"))

    @get("/security/confirm-email/{token:str}", operation_id="confirmRecoveryEmailPage", name="confirm_email")
    async def confirm_email_form(self, request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
        """A button, not a GET with an effect: mail scanners open links too."""
        return Template(
            template_name="recovery_confirm_email.html", context=page_context(request, token=token, errors={})
        )

    @post(
        "/security/confirm-email/{token:str}",
        operation_id="confirmRecoveryEmail",
        name="confirm_email_submit",
        status_code=200,
    )
    async def confirm_email(
        self,
        request: Request[Any, Any, Any],
        recovery: NamedDependency[RecoveryDeps],
        analytics: NamedDependency[AnalyticsDeps],
        token: FromPath[str],
    ) -> Template:
        """Confirm the new recovery address."""
        try:
            await confirm_recovery_email(token, client=client_of(request), deps=recovery)
        except DomainError as exc:
            await journeys.fail(request, Flow.RECOVERY_ENROLMENT, analytics, exc)
            status, errors = errors_for(request, exc, recovery)
            return Template(
                template_name="recovery_invalid.html", context=page_context(request, errors=errors), status_code=status
            )
        await journeys.complete(request, Flow.RECOVERY_ENROLMENT, analytics)
        return Template(template_name="recovery_done.html", context=page_context(request, done="email"))


class SecurityPagesController(Controller):
    """Sicherheit / Wiederherstellung: the owner's recovery e-mail, mobile and authenticator app."""

    path = "/security"
    include_in_schema = False
    guards = [requires_login]

    async def _page(
        self, request: Request[Any, Any, Any], recovery: RecoveryDeps, *, status_code: int = 200, **extra: Any
    ) -> Template:
        principal = current_principal(request)
        setup: TotpSetup | None = extra.pop("setup", None) or await pending_totp(principal, deps=recovery)
        extra.setdefault("errors", {})
        extra.setdefault("section", "")
        extra.setdefault("message", "")
        context = page_context(
            request,
            recovery=await overview(principal, deps=recovery),
            setup=setup,
            qr=qr_data_uri(setup.uri) if setup else "",
            **extra,
        )
        return Template(template_name="security.html", context=context, status_code=status_code)

    async def _run(
        self,
        request: Request[Any, Any, Any],
        recovery: RecoveryDeps,
        section: str,
        action: Any,
        message: str,
        *,
        analytics: AnalyticsDeps,
        step: str,
    ) -> Template:
        """Run one step of setting up recovery; `step` is its name in the journey (`completed` for a confirmation
        that makes a channel usable)."""
        try:
            setup = await action()
        except DomainError as exc:
            await journeys.fail(request, Flow.RECOVERY_ENROLMENT, analytics, exc)
            status, errors = errors_for(request, exc, recovery)
            return await self._page(request, recovery, status_code=status, errors=errors, section=section)
        if step == "completed":
            await journeys.complete(request, Flow.RECOVERY_ENROLMENT, analytics)
        else:
            await journeys.reach(request, Flow.RECOVERY_ENROLMENT, analytics, step)
        return await self._page(
            request, recovery, section=section, message=message, setup=setup if isinstance(setup, TotpSetup) else None
        )

    @get("", operation_id="securityPage", name="security")
    async def page(
        self,
        request: Request[Any, Any, Any],
        recovery: NamedDependency[RecoveryDeps],
        analytics: NamedDependency[AnalyticsDeps],
    ) -> Template:
        """Recovery channels."""
        await journeys.start(request, Flow.RECOVERY_ENROLMENT, analytics)
        return await self._page(request, recovery)

    @post("/email", operation_id="changeRecoveryEmail", name="security_email", status_code=200)
    async def email(
        self,
        request: Request[Any, Any, Any],
        recovery: NamedDependency[RecoveryDeps],
        analytics: NamedDependency[AnalyticsDeps],
        data: URLEncodedBody[EmailForm],
    ) -> Template:
        """Register or change the recovery e-mail (confirmed by a link to it)."""
        principal = current_principal(request)
        return await self._run(
            request,
            recovery,
            "email",
            lambda: change_recovery_email(
                principal, data.password, data.private_email, client=client_of(request), deps=recovery
            ),
            N_("We have sent a confirmation link to the new address. It counts once you have opened it."),
            analytics=analytics,
            step="email_link_sent",
        )

    @post("/mobile", operation_id="changeRecoveryMobile", name="security_mobile", status_code=200)
    async def mobile(
        self,
        request: Request[Any, Any, Any],
        recovery: NamedDependency[RecoveryDeps],
        analytics: NamedDependency[AnalyticsDeps],
        data: URLEncodedBody[MobileForm],
    ) -> Template:
        """Register, change or remove the recovery mobile number."""
        principal = current_principal(request)
        return await self._run(
            request,
            recovery,
            "mobile",
            lambda: set_recovery_mobile(
                principal, data.password, data.mobile, client=client_of(request), deps=recovery
            ),
            N_("The mobile number has been saved."),
            analytics=analytics,
            step="mobile_saved",
        )

    @post("/mobile/confirm", operation_id="confirmRecoveryMobile", name="security_mobile_confirm", status_code=200)
    async def mobile_confirm(
        self,
        request: Request[Any, Any, Any],
        recovery: NamedDependency[RecoveryDeps],
        analytics: NamedDependency[AnalyticsDeps],
        data: URLEncodedBody[CodeForm],
    ) -> Template:
        """Confirm the mobile number with the texted code."""
        principal = current_principal(request)
        return await self._run(
            request,
            recovery,
            "mobile",
            lambda: confirm_recovery_mobile(principal, data.code, client=client_of(request), deps=recovery),
            N_("The mobile number is confirmed."),
            analytics=analytics,
            step="completed",
        )

    @post("/totp", operation_id="startTotp", name="security_totp", status_code=200)
    async def totp_start(
        self,
        request: Request[Any, Any, Any],
        recovery: NamedDependency[RecoveryDeps],
        analytics: NamedDependency[AnalyticsDeps],
        data: URLEncodedBody[PasswordOnlyForm],
    ) -> Template:
        """Create a new authenticator secret and show it as a QR code."""
        principal = current_principal(request)
        return await self._run(
            request,
            recovery,
            "totp",
            lambda: start_totp(principal, data.password, client=client_of(request), deps=recovery),
            "",
            analytics=analytics,
            step="totp_started",
        )

    @post("/totp/confirm", operation_id="confirmTotp", name="security_totp_confirm", status_code=200)
    async def totp_confirm(
        self,
        request: Request[Any, Any, Any],
        recovery: NamedDependency[RecoveryDeps],
        analytics: NamedDependency[AnalyticsDeps],
        data: URLEncodedBody[CodeForm],
    ) -> Template:
        """Activate the authenticator app with its first code."""
        principal = current_principal(request)
        return await self._run(
            request,
            recovery,
            "totp",
            lambda: confirm_totp(principal, data.code, client=client_of(request), deps=recovery),
            N_("The authenticator app is set up."),
            analytics=analytics,
            step="completed",
        )

    @post("/totp/remove", operation_id="removeTotp", name="security_totp_remove", status_code=200)
    async def totp_remove(
        self,
        request: Request[Any, Any, Any],
        recovery: NamedDependency[RecoveryDeps],
        analytics: NamedDependency[AnalyticsDeps],
        data: URLEncodedBody[PasswordOnlyForm],
    ) -> Template:
        """Remove the authenticator app."""
        principal = current_principal(request)
        return await self._run(
            request,
            recovery,
            "totp",
            lambda: remove_totp(principal, data.password, client=client_of(request), deps=recovery),
            N_("The authenticator app was removed."),
            analytics=analytics,
            step="totp_removed",
        )


async def _look_up(
    principal: Principal, text: str, *, client: str, deps: RecoveryDeps
) -> tuple[HelpdeskView | None, list[AccountMatch]]:
    """A login, a name, an e-mail address or a personnel number: the account if exactly one fits (or the text is
    a login of the directory), else the people who fit, to pick from."""
    matches = await find_accounts(principal, text, client=client, deps=deps)
    exact = [m for m in matches if text.casefold() in (m.login, m.work_email.casefold(), m.personnel_number.casefold())]
    pick = exact[0].login if len(exact) == 1 else matches[0].login if len(matches) == 1 else ""
    if not pick and not matches and is_plausible_login(text.strip()):
        pick = text.strip()  # an account of the directory without an HR record (a service or admin account)
    if not pick:
        return None, matches
    return await helpdesk_lookup(principal, pick, client=client, deps=deps), []


class HelpdeskPagesController(Controller):
    """The IT helpdesk: account state, unlock, send a reset link. The role is checked in the service."""

    path = "/helpdesk"
    include_in_schema = False
    guards = [requires_login]

    async def _page(
        self,
        request: Request[Any, Any, Any],
        recovery: RecoveryDeps,
        login: str,
        *,
        status_code: int = 200,
        **extra: Any,
    ) -> Template:
        view = None
        matches: list[AccountMatch] = []
        extra.setdefault("errors", {})
        extra.setdefault("message", "")
        principal = current_principal(request)
        if login and not extra["errors"]:
            try:
                view, matches = await _look_up(principal, login, client=client_of(request), deps=recovery)
            except DomainError as exc:
                status_code, extra["errors"] = errors_for(request, exc, recovery)
        try:
            trouble = await login_trouble(principal, deps=recovery)
        except DomainError:
            trouble = []  # not the helpdesk: the lookup above says so
        context = page_context(request, login=login[:256], view=view, matches=matches, trouble=trouble, **extra)
        return Template(template_name="helpdesk.html", context=context, status_code=status_code)

    @get("", operation_id="helpdeskPage", name="helpdesk")
    async def page(self, request: Request[Any, Any, Any], recovery: NamedDependency[RecoveryDeps]) -> Template:
        """Look up an account."""
        return await self._page(request, recovery, request.query_params.get("login", "").strip())

    @post("/unlock", operation_id="helpdeskUnlockPage", name="helpdesk_unlock", status_code=200)
    async def unlock(
        self,
        request: Request[Any, Any, Any],
        recovery: NamedDependency[RecoveryDeps],
        data: URLEncodedBody[HelpdeskForm],
    ) -> Template:
        """Unlock the account."""
        try:
            await helpdesk_unlock(current_principal(request), data.login, client=client_of(request), deps=recovery)
        except DomainError as exc:
            status, errors = errors_for(request, exc, recovery)
            return await self._page(request, recovery, data.login, status_code=status, errors=errors)
        return await self._page(request, recovery, data.login, message=N_("The account has been unlocked."))

    @post("/reset-link", operation_id="helpdeskResetLinkPage", name="helpdesk_reset_link", status_code=200)
    async def reset_link(
        self,
        request: Request[Any, Any, Any],
        recovery: NamedDependency[RecoveryDeps],
        data: URLEncodedBody[HelpdeskForm],
    ) -> Template:
        """Send the owner a reset link."""
        try:
            await helpdesk_send_reset_link(
                current_principal(request), data.login, client=client_of(request), deps=recovery
            )
        except DomainError as exc:
            status, errors = errors_for(request, exc, recovery)
            return await self._page(request, recovery, data.login, status_code=status, errors=errors)
        return await self._page(
            request,
            recovery,
            data.login,
            message=N_("A reset link has been sent to the owner's verified recovery e-mail address."),
        )
