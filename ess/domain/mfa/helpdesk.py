"""Use case of the IT helpdesk: reset someone's login second factor (lost phone, lost security key) through an
audited procedure - a recorded reason, never one's own account, and the owner is told at once."""

from __future__ import annotations

from typing import Final

from ess.domain.audit import Outcome
from ess.domain.auth.login import normalize_login
from ess.domain.auth.model import Principal, is_plausible_login
from ess.domain.errors import InvalidInput, NotFound, PermissionDenied
from ess.domain.mfa.ports import MfaDeps
from ess.domain.mfa.records import audit, event, tell_owner
from ess.domain.recovery.helpdesk import HELPDESK_ROLES

MIN_REASON_LENGTH: Final = 10
MAX_REASON_LENGTH: Final = 500


async def reset_second_factor(operator: Principal, login: str, reason: str, *, client: str, deps: MfaDeps) -> int:
    """Remove every second factor and recovery code of `login` (remembered devices stop counting with them); returns
    how many factors went. The owner then logs in with the password alone, or - when the role needs a factor - sets
    a new one up right after it. The reason (e.g. the ticket and how the caller was identified) is audited."""
    action = "mfa.helpdesk_reset"
    if not any(operator.has(role) for role in HELPDESK_ROLES):
        await audit(deps, operator.login, action, Outcome.DENIED, login[:256], client, reason="role")
        raise PermissionDenied("Only the IT helpdesk may do this.")
    target = normalize_login(login)
    if not is_plausible_login(target):
        raise NotFound("No such account.")
    if target == operator.login:
        await audit(deps, operator.login, action, Outcome.DENIED, target, client, reason="own_account")
        raise PermissionDenied("Nobody resets their own second factor: ask a colleague.")
    why = " ".join(reason.split())
    if not MIN_REASON_LENGTH <= len(why) <= MAX_REASON_LENGTH:
        raise InvalidInput(
            "Say why in %(min)s to %(max)s characters (ticket, how the caller was identified).",
            fields={"reason": "length"},
            params={"min": MIN_REASON_LENGTH, "max": MAX_REASON_LENGTH},
        )
    status = await deps.recovery.directory.account_status(target)  # NotFound for an unknown account
    async with deps.new_uow() as uow:
        removed = await uow.factors.remove_all(status.login)
        await uow.audit.add(
            event(deps, operator.login, action, Outcome.SUCCESS, status.login, client, removed=removed, reason=why)
        )
        await uow.commit()
    await tell_owner(deps, status.login, "reset", operator=operator.display_name or operator.login)
    return removed
