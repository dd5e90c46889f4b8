"""API authentication: exchange a login for a bearer token, revoke it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from ess.domain.auth.login import LogIn, log_in
from ess.domain.auth.ports import AuthDeps
from ess.domain.auth.sso import principal_for_access_token
from ess.domain.auth.tokens import issue_api_token, revoke_api_token
from ess.domain.mfa.login import require_for_token
from ess.domain.mfa.ports import MfaDeps
from ess.routes.guards import current_principal, requires_login
from ess.routes.rendering import client_of


class TokenIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(max_length=256)]
    password: Annotated[str, msgspec.Meta(max_length=1024)]
    # A code from the authenticator app (or a recovery code): needed when the account has a second factor or its
    # role needs one.
    totp: Annotated[str, msgspec.Meta(max_length=64)] = ""


class OidcTokenIn(msgspec.Struct, forbid_unknown_fields=True):
    # An access token the configured OpenID provider issued (with the openid scope): ESS asks the provider's userinfo
    # endpoint whose it is.
    access_token: Annotated[str, msgspec.Meta(min_length=1, max_length=8192)]
    totp: Annotated[str, msgspec.Meta(max_length=64)] = ""


class TokenOut(msgspec.Struct):
    access_token: str
    token_type: str
    expires_at: datetime


class AuthApiController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post(
        "/token",
        operation_id="createApiToken",
        status_code=HTTP_200_OK,
        problems=[
            "authentication_failed",
            "sso_required",
            "password_change_required",
            "second_factor_required",
            "second_factor_failed",
            "second_factor_enrolment_required",
            "throttled",
            "service_unavailable",
        ],
    )
    async def create_token(
        self,
        request: Request[Any, Any, Any],
        auth: NamedDependency[AuthDeps],
        mfa: NamedDependency[MfaDeps],
        data: JSONBody[TokenIn],
    ) -> TokenOut:
        """Exchange a login, password and (where the account has one) a second-factor code for a bearer token."""
        principal = await log_in(
            LogIn(login=data.username, password=data.password, client=client_of(request), channel="api"), deps=auth
        )
        await require_for_token(principal, data.totp, client=client_of(request), deps=mfa)
        token, expires_at = await issue_api_token(principal, deps=auth, client=client_of(request))
        return TokenOut(
            access_token=token,
            token_type="Bearer",  # noqa: S106 - the OAuth token type name
            expires_at=expires_at,
        )

    @post(
        "/token/oidc",
        operation_id="exchangeOidcToken",
        status_code=HTTP_200_OK,
        problems=[
            "sso_refused",
            "second_factor_required",
            "second_factor_failed",
            "second_factor_enrolment_required",
            "service_unavailable",
        ],
    )
    async def exchange_oidc_token(
        self,
        request: Request[Any, Any, Any],
        auth: NamedDependency[AuthDeps],
        mfa: NamedDependency[MfaDeps],
        data: JSONBody[OidcTokenIn],
    ) -> TokenOut:
        """Exchange an access token of the configured OpenID provider for a bearer token (no password needed)."""
        principal = await principal_for_access_token(data.access_token, client=client_of(request), deps=auth)
        await require_for_token(principal, data.totp, client=client_of(request), deps=mfa)
        token, expires_at = await issue_api_token(principal, deps=auth, client=client_of(request))
        return TokenOut(
            access_token=token,
            token_type="Bearer",  # noqa: S106 - the OAuth token type name
            expires_at=expires_at,
        )

    @delete("/token", operation_id="revokeApiToken", status_code=HTTP_204_NO_CONTENT, guards=[requires_login])
    async def revoke_token(self, request: Request[Any, Any, Any], auth: NamedDependency[AuthDeps]) -> None:
        """Revoke the bearer token used for this call."""
        await revoke_api_token(
            str(request.scope["auth"]["token"]),
            current_principal(request),
            deps=auth,
            client=client_of(request),
        )
