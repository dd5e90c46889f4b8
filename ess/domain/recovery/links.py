"""Use cases: asking for a reset or unlock link (the same answer and timing for known and unknown accounts: the lookup
and the mail run as a background job), and issuing a one-time link."""

from __future__ import annotations

from dataclasses import dataclass

from ess.domain.audit import Outcome
from ess.domain.auth.login import MAX_LOGIN_LENGTH, normalize_login
from ess.domain.auth.model import Purpose, is_plausible_login
from ess.domain.errors import InvalidInput, Throttled
from ess.domain.mail.queue import queue_notice, send_queued
from ess.domain.recovery.limits import digest, is_over
from ess.domain.recovery.model import LINK_PAGES, RecoveryToken, hash_token, mask_email, new_token
from ess.domain.recovery.ports import RecoveryDeps
from ess.domain.recovery.records import ANONYMOUS, audit, event, load_contact, name_of
from ess.domain.shared import Link, Notice


@dataclass(frozen=True, slots=True)
class RequestLink:
    identifier: str
    purpose: Purpose
    client: str


async def request_link(cmd: RequestLink, *, deps: RecoveryDeps) -> None:
    """Count, then leave the lookup and the mail to a background job. The caller always answers the same."""
    if cmd.purpose not in (Purpose.RESET, Purpose.UNLOCK):
        raise InvalidInput("Links can be requested for a reset or an unlock only.")
    identifier = normalize_login(cmd.identifier)
    policy = deps.policy
    window = int(policy.request_window.total_seconds())
    # Loud limits (per client, for everyone): the same for every identifier, so they reveal nothing.
    by_client = await is_over(deps, "recovery-req-client:" + cmd.client, policy.requests_per_client, window)
    overall = await is_over(deps, "recovery-req-global", policy.requests_global, window)
    # The silent limit per typed identifier: over it the answer stays the same but nothing is sent.
    mail_window = int(policy.mail_window.total_seconds())
    by_identifier = await is_over(
        deps, "recovery-req-ident:" + digest(identifier), policy.mails_per_account, mail_window
    )
    if by_client or overall:
        await audit(deps, ANONYMOUS, "recovery.throttled", Outcome.DENIED, "", cmd.client, purpose=cmd.purpose.value)
        raise Throttled("Too many requests. Please wait and try again later.", retry_after_seconds=window)

    async def job() -> None:
        await _deliver_link(deps, identifier, cmd.purpose, cmd.client, silenced=by_identifier)

    deps.jobs.submit(job, name=f"recovery-{cmd.purpose.value}-link")


async def _deliver_link(deps: RecoveryDeps, identifier: str, purpose: Purpose, client: str, *, silenced: bool) -> None:
    account = None
    if is_plausible_login(identifier) and len(identifier) <= MAX_LOGIN_LENGTH:
        account = await deps.directory.find_account(identifier)
    if account is None:
        # What was typed is not recorded: people type passwords into the login field by mistake.
        await audit(
            deps,
            ANONYMOUS,
            "recovery.requested",
            Outcome.FAILURE,
            "",
            client,
            purpose=purpose.value,
            reason="unknown_account",
        )
        return
    login = account.login
    await audit(deps, ANONYMOUS, "recovery.requested", Outcome.SUCCESS, login, client, purpose=purpose.value)
    policy = deps.policy
    # Per account as well as per typed identifier: login and work e-mail must not add up to twice the mails.
    if silenced or await is_over(
        deps, "recovery-mail:" + digest(login), policy.mails_per_account, int(policy.mail_window.total_seconds())
    ):
        await audit(
            deps,
            ANONYMOUS,
            "recovery.throttled",
            Outcome.DENIED,
            login,
            client,
            purpose=purpose.value,
            reason="mails_per_account",
        )
        return
    contact = await load_contact(deps, login)
    address = contact.verified_private_email if contact else ""
    if not address:
        await audit(
            deps,
            ANONYMOUS,
            "recovery.link_sent",
            Outcome.FAILURE,
            login,
            client,
            purpose=purpose.value,
            reason="no_verified_private_email",
        )
        return
    await issue_link(deps, login, purpose, address, actor=ANONYMOUS, client=client, name=name_of(contact, login))


async def issue_link(
    deps: RecoveryDeps,
    login: str,
    purpose: Purpose,
    address: str,
    *,
    actor: str,
    client: str,
    name: str,
    detail: str = "",
) -> None:
    """A new one-time link (the account's earlier links of this purpose stop working), mailed to `address`: the link
    and its mail are committed together, so there is never a link without its mail, nor a mail without its link."""
    token = new_token()
    now = deps.clock.now()
    minutes = int(deps.policy.token_lifetime.total_seconds() // 60)
    notice = Notice(
        kind=f"recovery_link_{purpose.value}",
        to=(address,),
        params={"name": name, "minutes": str(minutes)},
        link=Link(LINK_PAGES[purpose], {"token": token}),
    )
    async with deps.new_uow() as uow:
        await uow.recovery.add_token(
            RecoveryToken(
                token_hash=hash_token(token),
                login=login,
                purpose=purpose,
                created_at=now,
                expires_at=now + deps.policy.token_lifetime,
                detail=detail,
            )
        )
        await uow.audit.add(
            event(
                actor,
                "recovery.link_sent",
                Outcome.SUCCESS,
                login,
                client,
                at=now,
                details={"purpose": purpose.value, "to": mask_email(address)},
            )
        )
        mail = await queue_notice(uow, notice, postman=deps.mail.postman, now=now, actor=actor)
        await uow.commit()
    await send_queued(mail, deps=deps.mail)
