"""Changing an expired or must-change password from the login page, before any session exists."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import URLEncodedBody
from litestar.response import Redirect, Template

from ess.domain.errors import DomainError
from ess.domain.passwords.change import ChangeExpiredPassword, change_expired_password
from ess.domain.passwords.model import PasswordPolicy
from ess.domain.passwords.ports import PasswordDeps
from ess.routes.errors import form_errors
from ess.routes.rendering import client_of, gettext_for, page_context, url_to


class ExpiredPasswordForm(msgspec.Struct):
    username: str = ""
    current_password: str = ""
    new_password: str = ""
    new_password_repeat: str = ""


def expired_password_form(
    request: Request[Any, Any, Any],
    policy: PasswordPolicy,
    *,
    username: str,
    next_: str = "/",
    errors: dict[str, list[str]] | None = None,
    status_code: int = 200,
) -> Template:
    """The "set a new password" step; the current password is asked again (it is never carried between pages)."""
    context = page_context(
        request,
        username=username,
        next=next_,
        errors=errors or {},
        min_length=policy.min_length,
        max_length=policy.max_length,
    )
    return Template(template_name="password_expired.html", context=context, status_code=status_code)


class ExpiredPasswordPagesController(Controller):
    path = "/login/expired-password"
    include_in_schema = False

    @get("", operation_id="expiredPasswordPage", name="expired_password")
    async def form(self, request: Request[Any, Any, Any]) -> Redirect:
        """The step is reached from the login form only."""
        return Redirect(url_to(request, "login"), status_code=303)

    @post("", operation_id="changeExpiredPasswordPage", name="expired_password_submit", status_code=303)
    async def change(
        self,
        request: Request[Any, Any, Any],
        passwords: NamedDependency[PasswordDeps],
        data: URLEncodedBody[ExpiredPasswordForm],
    ) -> Response[Any]:
        """Set a new password for an expired or must-change account; then the user logs in with it."""
        username = data.username[:256]
        try:
            await change_expired_password(
                ChangeExpiredPassword(
                    login=username,
                    current=data.current_password,
                    new=data.new_password,
                    repeat=data.new_password_repeat,
                    client=client_of(request),
                ),
                deps=passwords,
            )
        except DomainError as exc:
            policy = passwords.policy
            status, errors = form_errors(exc, gettext_for(request), min=policy.min_length, max=policy.max_length)
            if "form" in errors and exc.code == "authentication_failed":
                errors = {"current_password": errors["form"]}
            return expired_password_form(request, policy, username=username, errors=errors, status_code=status)
        # No automatic login (OWASP): the user proves the new password once, on the normal login page.
        return Redirect(url_to(request, "login") + "?password_changed=1", status_code=303)
