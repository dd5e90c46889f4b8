"""Changing one's own password."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import URLEncodedBody
from litestar.response import Template
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY, HTTP_503_SERVICE_UNAVAILABLE

from ess.domain.errors import AuthenticationFailed, ServiceUnavailable
from ess.domain.passwords.model import PasswordProblem
from ess.domain.passwords.service import ChangePassword, PasswordRejected, change_password
from ess.routes.guards import current_principal, requires_login
from ess.routes.rendering import N_, client_of, gettext_for, page_context, services_of

PROBLEM_TEXT = {
    PasswordProblem.TOO_SHORT: N_("The new password must have at least %(min)s characters."),
    PasswordProblem.TOO_LONG: N_("The new password must not have more than %(max)s characters."),
    PasswordProblem.CONTAINS_CONTEXT: N_("The new password must not contain your name, login or e-mail address."),
    PasswordProblem.SAME_AS_CURRENT: N_("The new password must differ from the current one."),
    PasswordProblem.MISMATCH: N_("The two new passwords are not the same."),
}


class PasswordForm(msgspec.Struct):
    current_password: str = ""
    new_password: str = ""
    new_password_repeat: str = ""


class PasswordPagesController(Controller):
    path = "/password"
    include_in_schema = False
    guards = [requires_login]

    @get("", operation_id="passwordPage")
    async def form(self, request: Request[Any, Any, Any]) -> Template:
        """The change-password form."""
        return Template(template_name="password.html", context=self._context(request))

    @post("", operation_id="changePasswordPage", status_code=200)
    async def change(self, request: Request[Any, Any, Any], data: URLEncodedBody[PasswordForm]) -> Template:
        """Change the password."""
        services = services_of(request)
        _ = gettext_for(request)
        policy = services.password_policy
        errors: dict[str, list[str]] = {}
        status = HTTP_422_UNPROCESSABLE_ENTITY
        try:
            await change_password(
                ChangePassword(
                    principal=current_principal(request),
                    current=data.current_password,
                    new=data.new_password,
                    repeat=data.new_password_repeat,
                    client=client_of(request),
                ),
                directory=services.directory,
                uow=services.new_uow(),
                clock=services.clock,
                policy=policy,
            )
        except PasswordRejected as exc:
            for problem in exc.problems:
                field = "new_password_repeat" if problem is PasswordProblem.MISMATCH else "new_password"
                text = _(PROBLEM_TEXT[problem]) % {"min": policy.min_length, "max": policy.max_length}
                errors.setdefault(field, []).append(text)
        except AuthenticationFailed:
            errors["current_password"] = [_("The current password is not correct.")]
        except ServiceUnavailable:
            errors["form"] = [_("The password cannot be changed right now. Please try again in a few minutes.")]
            status = HTTP_503_SERVICE_UNAVAILABLE
        if errors:
            return Template(
                template_name="password.html", context=self._context(request, errors=errors), status_code=status
            )
        return Template(template_name="password.html", context=self._context(request, changed=True))

    @staticmethod
    def _context(request: Request[Any, Any, Any], **extra: Any) -> dict[str, Any]:
        policy = services_of(request).password_policy
        return page_context(request, min_length=policy.min_length, errors=extra.pop("errors", {}), **extra)
