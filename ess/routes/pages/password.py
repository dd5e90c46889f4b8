"""Changing one's own password."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import URLEncodedBody
from litestar.response import Template

from ess.domain.analytics.model import Flow
from ess.domain.analytics.ports import AnalyticsDeps
from ess.domain.auth.ports import AuthDeps
from ess.domain.auth.sessions import open_session
from ess.domain.errors import DomainError
from ess.domain.passwords.change import ChangePassword, change_password
from ess.domain.passwords.model import PasswordPolicy
from ess.domain.passwords.ports import PasswordDeps
from ess.routes import journeys
from ess.routes.errors import form_errors
from ess.routes.guards import current_principal, requires_login
from ess.routes.middleware import session_cookie
from ess.routes.rendering import client_of, gettext_for, page_context
from ess.settings import Settings


class PasswordForm(msgspec.Struct):
    current_password: str = ""
    new_password: str = ""
    new_password_repeat: str = ""


class PasswordPagesController(Controller):
    path = "/password"
    include_in_schema = False
    guards = [requires_login]

    @get("", operation_id="passwordPage", name="password")
    async def form(
        self,
        request: Request[Any, Any, Any],
        passwords: NamedDependency[PasswordDeps],
        analytics: NamedDependency[AnalyticsDeps],
    ) -> Template:
        """The change-password form."""
        await journeys.start(request, Flow.PASSWORD_CHANGE, analytics)
        return Template(template_name="password.html", context=self._context(request, passwords.policy))

    @post("", operation_id="changePasswordPage", name="password_submit", status_code=200)
    async def change(  # noqa: PLR0917 - Litestar injects each dependency by its parameter name
        self,
        request: Request[Any, Any, Any],
        passwords: NamedDependency[PasswordDeps],
        auth: NamedDependency[AuthDeps],
        settings: NamedDependency[Settings],
        analytics: NamedDependency[AnalyticsDeps],
        data: URLEncodedBody[PasswordForm],
    ) -> Template:
        """Change the password."""
        policy = passwords.policy
        try:
            await change_password(
                ChangePassword(
                    principal=current_principal(request),
                    current=data.current_password,
                    new=data.new_password,
                    repeat=data.new_password_repeat,
                    client=client_of(request),
                ),
                deps=passwords,
            )
        except DomainError as exc:
            await journeys.fail(request, Flow.PASSWORD_CHANGE, analytics, exc)
            status, errors = form_errors(exc, gettext_for(request), min=policy.min_length, max=policy.max_length)
            return Template(
                template_name="password.html",
                context=self._context(request, policy, errors=errors),
                status_code=status,
            )
        # All sessions ended with the change; this browser gets a fresh one so the user stays logged in here.
        session_id = await open_session(current_principal(request), deps=auth)
        # The page below still carries the ended session's form token: the next page asks instead.
        await journeys.complete(request, Flow.PASSWORD_CHANGE, analytics, ask_now=False)
        response = Template(template_name="password.html", context=self._context(request, policy, changed=True))
        response.set_cookie(session_cookie(session_id, secure=settings.server.served_over_tls, max_age=None))
        return response

    @staticmethod
    def _context(request: Request[Any, Any, Any], policy: PasswordPolicy, **extra: Any) -> dict[str, Any]:
        extra.setdefault("errors", {})
        return page_context(request, min_length=policy.min_length, **extra)
