"""The password API: change one's own password, and the policy any client may show before asking for one."""

from __future__ import annotations

from collections.abc import Sized
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from ess.domain.directory.model import NORMALISATION
from ess.domain.passwords.change import ChangePassword, change_password
from ess.domain.passwords.ports import PasswordDeps
from ess.routes.guards import current_principal, requires_login
from ess.routes.rendering import client_of

MAX_PASSWORD = 4096  # longer than any policy allows, so the policy (not the parser) names the problem


class PasswordChangeIn(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Annotated[str, msgspec.Meta(max_length=MAX_PASSWORD)]
    new_password: Annotated[str, msgspec.Meta(max_length=MAX_PASSWORD)]
    # Optional for API clients; when given it must equal new_password.
    new_password_repeat: Annotated[str, msgspec.Meta(max_length=MAX_PASSWORD)] | None = None


class PasswordPolicyOut(msgspec.Struct):
    min_length: int
    max_length: int
    normalisation: str
    composition_rules: bool
    rules: list[str]
    blocklist: bool
    blocklist_entries: int | None
    breach_check: bool


class MyPasswordApiController(Controller):
    path = "/api/v1/me/password"
    tags = ["password"]
    guards = [requires_login]

    @post(
        "",
        operation_id="changeMyPassword",
        status_code=HTTP_204_NO_CONTENT,
        problems=[
            "wrong_current_password",
            "password_rejected",
            "directory_password_rejected",
            "service_unavailable",
        ],
    )
    async def change(
        self,
        request: Request[Any, Any, Any],
        passwords: NamedDependency[PasswordDeps],
        data: JSONBody[PasswordChangeIn],
    ) -> None:
        """Change the caller's password; every session and token of the account, this one included, ends."""
        await change_password(
            ChangePassword(
                principal=current_principal(request),
                current=data.current_password,
                new=data.new_password,
                repeat=data.new_password if data.new_password_repeat is None else data.new_password_repeat,
                client=client_of(request),
            ),
            deps=passwords,
        )


class PasswordPolicyApiController(Controller):
    path = "/api/v1/password/policy"
    tags = ["password"]

    @get("", operation_id="getPasswordPolicy")
    async def policy(self, passwords: NamedDependency[PasswordDeps]) -> PasswordPolicyOut:
        """The rules a new password must meet (no login needed; no secrets)."""
        policy = passwords.policy
        rules = ["min_length", "max_length", "contains_context", "repetitive", "same_as_current"]
        if policy.blocklist is not None:
            rules.append("blocklisted")
        if passwords.breached is not None:
            rules.append("breached")
        return PasswordPolicyOut(
            min_length=policy.min_length,
            max_length=policy.max_length,
            normalisation=NORMALISATION,
            composition_rules=False,
            rules=rules,
            blocklist=policy.blocklist is not None,
            blocklist_entries=len(policy.blocklist) if isinstance(policy.blocklist, Sized) else None,
            breach_check=passwords.breached is not None,
        )
