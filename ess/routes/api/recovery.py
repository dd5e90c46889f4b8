"""API of password recovery (anonymous: forgot, reset, unlock) and of the helpdesk (bearer token, helpdesk role)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from ess.domain.auth.model import Purpose
from ess.domain.recovery.helpdesk import helpdesk_lookup, helpdesk_send_reset_link, helpdesk_unlock
from ess.domain.recovery.links import RequestLink, request_link
from ess.domain.recovery.ports import RecoveryDeps
from ess.domain.recovery.reset import ResetPassword, reset_password
from ess.domain.recovery.unlock import UnlockAccount, unlock_account
from ess.routes.guards import current_principal, requires_login
from ess.routes.rendering import client_of

# One answer for every login, known or not (OWASP Forgot Password Cheat Sheet).
FORGOT_ANSWER = (
    "If the account exists and has a verified recovery e-mail address, a link has been sent there. "
    "It is valid for a short time and works once."
)


# The helpdesk role is checked on the account in the use case (permission_denied), not by a guard.
HELPDESK_PROBLEMS = ["permission_denied", "service_unavailable"]


class ForgotIn(msgspec.Struct, forbid_unknown_fields=True):
    login: Annotated[str, msgspec.Meta(max_length=256)]
    purpose: Literal["reset", "unlock"] = "reset"


class ForgotOut(msgspec.Struct):
    detail: str


class ResetIn(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(max_length=128)]
    new_password: Annotated[str, msgspec.Meta(max_length=1024)]
    new_password_repeat: Annotated[str, msgspec.Meta(max_length=1024)]
    totp_code: Annotated[str, msgspec.Meta(max_length=16)] = ""
    sms_code: Annotated[str, msgspec.Meta(max_length=16)] = ""


class UnlockIn(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(max_length=128)]
    totp_code: Annotated[str, msgspec.Meta(max_length=16)] = ""
    sms_code: Annotated[str, msgspec.Meta(max_length=16)] = ""


class HelpdeskAccountOut(msgspec.Struct):
    login: str
    display_name: str
    locked: bool
    disabled: bool
    password_expired: bool
    must_change: bool
    locked_until: datetime | None
    password_expires_at: datetime | None
    password_changed_at: datetime | None
    has_verified_recovery_email: bool
    has_totp: bool


class RecoveryApiController(Controller):
    path = "/api/v1/password"
    tags = ["password recovery"]

    @post(
        "/forgot",
        operation_id="forgotPassword",
        status_code=HTTP_202_ACCEPTED,
        problems=["invalid_input", "throttled", "service_unavailable"],
    )
    async def forgot(
        self, request: Request[Any, Any, Any], recovery: NamedDependency[RecoveryDeps], data: JSONBody[ForgotIn]
    ) -> ForgotOut:
        """Ask for a reset (or unlock) link; the answer is the same whether the account exists or not."""
        await request_link(
            RequestLink(identifier=data.login, purpose=Purpose(data.purpose), client=client_of(request)),
            deps=recovery,
        )
        return ForgotOut(detail=FORGOT_ANSWER)

    @post(
        "/reset",
        operation_id="resetPassword",
        status_code=HTTP_204_NO_CONTENT,
        problems=[
            "recovery_link_invalid",
            "second_factor_failed",
            "password_rejected",
            "directory_password_rejected",
            "throttled",
            "service_unavailable",
        ],
    )
    async def reset(
        self, request: Request[Any, Any, Any], recovery: NamedDependency[RecoveryDeps], data: JSONBody[ResetIn]
    ) -> None:
        """Set a new password with a reset link's token (and a TOTP or SMS code where enrolled)."""
        await reset_password(
            ResetPassword(
                token=data.token,
                new=data.new_password,
                repeat=data.new_password_repeat,
                client=client_of(request),
                totp_code=data.totp_code,
                sms_code=data.sms_code,
            ),
            deps=recovery,
        )

    @post(
        "/unlock",
        operation_id="unlockAccount",
        status_code=HTTP_204_NO_CONTENT,
        problems=["recovery_link_invalid", "second_factor_failed", "throttled", "service_unavailable"],
    )
    async def unlock(
        self, request: Request[Any, Any, Any], recovery: NamedDependency[RecoveryDeps], data: JSONBody[UnlockIn]
    ) -> None:
        """Unlock an account with an unlock link's token (ask for one with purpose "unlock" on /forgot)."""
        await unlock_account(
            UnlockAccount(
                token=data.token, client=client_of(request), totp_code=data.totp_code, sms_code=data.sms_code
            ),
            deps=recovery,
        )


class HelpdeskApiController(Controller):
    path = "/api/v1/helpdesk"
    tags = ["helpdesk"]
    guards = [requires_login]

    @get("/accounts/{login:str}", operation_id="helpdeskAccount", problems=HELPDESK_PROBLEMS)
    async def account(
        self, request: Request[Any, Any, Any], recovery: NamedDependency[RecoveryDeps], login: FromPath[str]
    ) -> HelpdeskAccountOut:
        """Lock, expiry and recovery state of an account (helpdesk role)."""
        view = await helpdesk_lookup(current_principal(request), login, client=client_of(request), deps=recovery)
        status = view.status
        return HelpdeskAccountOut(
            login=status.login,
            display_name=view.display_name,
            locked=status.locked,
            disabled=status.disabled,
            password_expired=status.password_expired,
            must_change=status.must_change,
            locked_until=status.locked_until,
            password_expires_at=status.password_expires_at,
            password_changed_at=status.password_changed_at,
            has_verified_recovery_email=view.has_verified_email,
            has_totp=view.has_totp,
        )

    @post(
        "/accounts/{login:str}/unlock",
        operation_id="helpdeskUnlock",
        status_code=HTTP_204_NO_CONTENT,
        problems=HELPDESK_PROBLEMS,
    )
    async def unlock(
        self, request: Request[Any, Any, Any], recovery: NamedDependency[RecoveryDeps], login: FromPath[str]
    ) -> None:
        """Unlock an account (helpdesk role)."""
        await helpdesk_unlock(current_principal(request), login, client=client_of(request), deps=recovery)

    @post(
        "/accounts/{login:str}/reset-link",
        operation_id="helpdeskResetLink",
        status_code=HTTP_202_ACCEPTED,
        problems=[*HELPDESK_PROBLEMS, "no_recovery_address"],
    )
    async def reset_link(
        self, request: Request[Any, Any, Any], recovery: NamedDependency[RecoveryDeps], login: FromPath[str]
    ) -> ForgotOut:
        """Send the owner a reset link at the verified recovery address (helpdesk role); no password is shown."""
        await helpdesk_send_reset_link(current_principal(request), login, client=client_of(request), deps=recovery)
        return ForgotOut(detail="A reset link has been sent to the owner's verified recovery e-mail address.")
