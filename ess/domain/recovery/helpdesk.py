"""Use cases of the IT helpdesk: it sees an account's state and unlocks it, starts a reset for the owner, and never sees
or sets a password."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from ess.domain.audit import Outcome
from ess.domain.auth.login import normalize_login
from ess.domain.auth.model import Principal, Purpose, is_plausible_login
from ess.domain.directory.model import AccountStatus
from ess.domain.errors import NotFound, PermissionDenied
from ess.domain.hr.model import Role
from ess.domain.recovery.links import issue_link
from ess.domain.recovery.model import NoRecoveryAddress, RecoveryPage
from ess.domain.recovery.ports import RecoveryDeps
from ess.domain.recovery.records import addresses, audit, load_contact, name_of, notify
from ess.domain.shared import Link

HELPDESK_ROLES: Final = frozenset({Role.HELPDESK, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class HelpdeskView:
    status: AccountStatus
    display_name: str
    has_verified_email: bool
    has_totp: bool


async def _operator(deps: RecoveryDeps, principal: Principal, action: str, login: str, client: str) -> str:
    if not any(principal.has(role) for role in HELPDESK_ROLES):
        await audit(deps, principal.login, action, Outcome.DENIED, login, client, reason="role")
        raise PermissionDenied("Only the IT helpdesk may do this.")
    target = normalize_login(login)
    if not is_plausible_login(target):
        raise NotFound("No such account.")
    return target


async def helpdesk_lookup(principal: Principal, login: str, *, client: str, deps: RecoveryDeps) -> HelpdeskView:
    target = await _operator(deps, principal, "helpdesk.lookup", login, client)
    try:
        status = await deps.directory.account_status(target)
    except NotFound:
        await audit(deps, principal.login, "helpdesk.lookup", Outcome.FAILURE, target, client, reason="not_found")
        raise
    async with deps.new_uow() as uow:
        contact = await uow.recovery.contact(status.login)
        profile = await uow.recovery.profile(status.login)
    await audit(deps, principal.login, "helpdesk.lookup", Outcome.SUCCESS, status.login, client)
    return HelpdeskView(
        status=status,
        display_name=name_of(contact, status.login),
        has_verified_email=bool(contact and contact.verified_private_email),
        has_totp=profile.has_totp,
    )


async def helpdesk_unlock(principal: Principal, login: str, *, client: str, deps: RecoveryDeps) -> None:
    target = await _operator(deps, principal, "helpdesk.unlock", login, client)
    try:
        await deps.directory.unlock(target)
    except NotFound:
        await audit(deps, principal.login, "helpdesk.unlock", Outcome.FAILURE, target, client, reason="not_found")
        raise
    await audit(deps, principal.login, "helpdesk.unlock", Outcome.SUCCESS, target, client)
    contact = await load_contact(deps, target)
    await notify(
        deps, "recovery_unlocked", addresses(contact), name=name_of(contact, target), link=Link(RecoveryPage.LOGIN)
    )


async def helpdesk_send_reset_link(principal: Principal, login: str, *, client: str, deps: RecoveryDeps) -> None:
    """The owner gets a reset link at the verified private e-mail; the operator learns no secret."""
    target = await _operator(deps, principal, "helpdesk.reset_link", login, client)
    account = await deps.directory.find_account(target)
    if account is None:
        await audit(deps, principal.login, "helpdesk.reset_link", Outcome.FAILURE, target, client, reason="not_found")
        raise NotFound("No such account.")
    contact = await load_contact(deps, account.login)
    address = contact.verified_private_email if contact else ""
    if not address:
        await audit(
            deps,
            principal.login,
            "helpdesk.reset_link",
            Outcome.FAILURE,
            account.login,
            client,
            reason="no_verified_private_email",
        )
        raise NoRecoveryAddress("The account has no verified recovery e-mail address.")
    await issue_link(
        deps,
        account.login,
        Purpose.RESET,
        address,
        actor=principal.login,
        client=client,
        name=name_of(contact, account.login),
    )
    await audit(deps, principal.login, "helpdesk.reset_link", Outcome.SUCCESS, account.login, client)


@dataclass(frozen=True, slots=True)
class LoginTrouble:
    """An account with failed logins lately: how many, the last one, and whether the directory has it locked now."""

    login: str
    failures: int
    last_failure: datetime
    locked: bool


# How far back the helpdesk's list of failed logins reads the audit log (events, newest first), and how many
# accounts it asks the directory about.
TROUBLE_EVENTS: Final = 500
TROUBLE_ACCOUNTS: Final = 20


async def login_trouble(principal: Principal, *, deps: RecoveryDeps) -> list[LoginTrouble]:
    """The accounts with recent failed logins, locked ones first, each with the directory's current lock state.
    Read from the audit log: logins that failed because of the password or a lock (never the password itself)."""
    if not any(principal.has(role) for role in HELPDESK_ROLES):
        raise PermissionDenied("Only the IT helpdesk may do this.")
    async with deps.new_uow() as uow:
        events = await uow.audit.recent(TROUBLE_EVENTS)
    failed: dict[str, list[datetime]] = {}
    for event in events:
        if event.action == "auth.login" and event.outcome is not Outcome.SUCCESS and is_plausible_login(event.target):
            failed.setdefault(event.target, []).append(event.occurred_at)
    result: list[LoginTrouble] = []
    for login, moments in sorted(failed.items(), key=lambda item: max(item[1]), reverse=True)[:TROUBLE_ACCOUNTS]:
        try:
            status = await deps.directory.account_status(login)
        except NotFound:
            continue  # a mistyped login: nobody to help
        result.append(LoginTrouble(status.login, len(moments), max(moments), status.locked))
    return sorted(result, key=lambda t: (not t.locked, -t.last_failure.timestamp()))


@dataclass(frozen=True, slots=True)
class AccountMatch:
    login: str
    name: str
    personnel_number: str
    work_email: str
    org_unit: str


MAX_MATCHES: Final = 20


async def find_accounts(principal: Principal, text: str, *, client: str, deps: RecoveryDeps) -> list[AccountMatch]:
    """People whose name, login, work e-mail or personnel number contains every word of `text` (case-insensitive),
    for the helpdesk to pick the account a caller means. Audited like a lookup (the words, not the results)."""
    if not any(principal.has(role) for role in HELPDESK_ROLES):
        await audit(deps, principal.login, "helpdesk.search", Outcome.DENIED, "", client, reason="role")
        raise PermissionDenied("Only the IT helpdesk may do this.")
    words = text.casefold().split()[:5]
    if not words:
        return []
    async with deps.new_uow() as uow:
        numbers = sorted(await uow.employees.all_personnel_numbers())
        everyone = await uow.employees.by_personnel_numbers(numbers)
    matches = []
    for e in everyone.values():
        haystack = " ".join(
            (e.display_name, e.first_name, e.last_name, e.login, e.work_email, e.personnel_number)
        ).casefold()
        if e.login and all(word in haystack for word in words):
            unit = e.org_unit.name if e.org_unit else ""
            matches.append(AccountMatch(e.login, e.display_name, e.personnel_number, e.work_email, unit))
    await audit(deps, principal.login, "helpdesk.search", Outcome.SUCCESS, "", client, found=len(matches))
    return sorted(matches, key=lambda m: m.name)[:MAX_MATCHES]
