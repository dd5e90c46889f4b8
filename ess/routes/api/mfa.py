"""API of the login second factor for the IT helpdesk: reset someone's second factor (audited, the owner is told)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from ess.domain.mfa.helpdesk import reset_second_factor
from ess.domain.mfa.ports import MfaDeps
from ess.routes.guards import current_principal, requires_login
from ess.routes.rendering import client_of


class SecondFactorResetIn(msgspec.Struct, forbid_unknown_fields=True):
    # Why, for the audit log: the ticket and how the caller was identified (10 to 500 characters).
    reason: Annotated[str, msgspec.Meta(max_length=500)]


class SecondFactorResetOut(msgspec.Struct):
    login: str
    removed_factors: int


class HelpdeskSecondFactorApiController(Controller):
    path = "/api/v1/helpdesk"
    tags = ["helpdesk"]
    guards = [requires_login]

    @post(
        "/accounts/{login:str}/second-factor/reset",
        operation_id="helpdeskResetSecondFactor",
        status_code=HTTP_200_OK,
        problems=["permission_denied", "not_found", "invalid_input", "service_unavailable"],
    )
    async def reset(
        self,
        request: Request[Any, Any, Any],
        mfa: NamedDependency[MfaDeps],
        login: FromPath[str],
        data: JSONBody[SecondFactorResetIn],
    ) -> SecondFactorResetOut:
        """Reset an account's second factor (helpdesk role, not one's own; audited with the reason; owner told)."""
        removed = await reset_second_factor(
            current_principal(request), login, data.reason, client=client_of(request), deps=mfa
        )
        return SecondFactorResetOut(login=login.strip().lower()[:256], removed_factors=removed)
