"""Changing an expired or must-change password from the login page, before any session exists."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import URLEncodedBody
from litestar.response import Redirect, Template

from ess.domain.errors import DomainError
from ess.domain.passwords.service import ChangeExpiredPassword, change_expired_password
from ess.routes.deps import Services
from ess.routes.errors import form_errors
from ess.routes.rendering import client_of, gettext_for, page_context, services_of


class ExpiredPasswordForm(msgspec.Struct):
    username: str = ""
    current_password: str = ""
    new_password: str = ""
    new_password_repeat: str = ""


def expired_password_form(
    request: Request[Any, Any, Any],
    *,
    username: str,
    next_: str = "/",
    errors: dict[str, list[str]] | None = None,
    status_code: int = 200,
) -> Template:
    """The "set a new password" step; the current password is asked again (it is never carried between pages)."""
    policy = services_of(request).password_policy
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

    @get("", operation_id="expiredPasswordPage")
    async def form(self) -> Redirect:
        """The step is reached from the login form only."""
        return Redirect("/login", status_code=303)

    @post("", operation_id="changeExpiredPasswordPage", status_code=303)
    async def change(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[Services],
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
                directory=services.directory,
                uow=services.new_uow(),
                attempts=services.attempts,
                sessions=services.sessions,
                clock=services.clock,
                auth_policy=services.auth_policy,
                policy=services.password_policy,
                breached=services.breached_passwords,
            )
        except DomainError as exc:
            policy = services.password_policy
            status, errors = form_errors(exc, gettext_for(request), min=policy.min_length, max=policy.max_length)
            if "form" in errors and exc.code == "authentication_failed":
                errors = {"current_password": errors["form"]}
            return expired_password_form(request, username=username, errors=errors, status_code=status)
        # No automatic login (OWASP): the user proves the new password once, on the normal login page.
        return Redirect("/login?password_changed=1", status_code=303)
