"""Reading the audit trail by role, exporting what was read, and checking the hash chain."""

from __future__ import annotations

from dataclasses import dataclass

from ess.domain.audit import GENESIS, AuditEvent, AuditRecord, ChainBreak, Outcome, chain_hash
from ess.domain.auth.model import Principal
from ess.domain.privacy.model import AuditQuery, audit_scope
from ess.domain.privacy.ports import PrivacyDeps

CHAIN_PAGE = 2000


async def view_audit(principal: Principal, query: AuditQuery, *, deps: PrivacyDeps) -> list[AuditRecord]:
    """The events the caller's roles may read (auditor: all; helpdesk/admin: sign-in, recovery, helpdesk and
    second-factor events; HR: HR, profile and leave events) that match the query, newest first."""
    prefixes = audit_scope(principal.roles)
    async with deps.new_uow().read_only() as uow:
        return await uow.audit_trail.search(query, prefixes)


async def export_audit(
    principal: Principal, query: AuditQuery, *, fmt: str, client: str = "", deps: PrivacyDeps
) -> list[AuditRecord]:
    """Like view_audit, for a download; the download itself is audited (what was filtered, how many events)."""
    records = await view_audit(principal, query, deps=deps)
    async with deps.new_uow() as uow:
        await uow.audit.add(
            AuditEvent(
                deps.clock.now(),
                principal.login,
                "privacy.audit_exported",
                Outcome.SUCCESS,
                client_address=client,
                details={
                    "format": fmt,
                    "events": len(records),
                    "action": query.action,
                    "actor": query.actor,
                    "subject": query.subject,
                },
            )
        )
        await uow.commit()
    return records


@dataclass(frozen=True, slots=True)
class ChainReport:
    checked: int
    first_break: ChainBreak | None
    head: str  # the newest event's hash: note it elsewhere to notice the newest events being cut off later


async def verify_chain(*, deps: PrivacyDeps, page: int = CHAIN_PAGE) -> ChainReport:
    """Walk the whole chain oldest first. The first event's `prev_hash` is its start (the genesis hash, or the hash
    of the last event the retention job removed); every later event must link to the one before it and every
    event's hash must follow from its content."""
    checked, after_id, previous = 0, 0, ""
    async with deps.new_uow().read_only() as uow:
        while records := await uow.audit_trail.chain(after_id=after_id, limit=page):
            for record in records:
                found = _check(record, previous if checked else None)
                if found is not None:
                    return ChainReport(checked, found, previous)
                previous, checked = record.hash, checked + 1
            after_id = records[-1].id
    return ChainReport(checked, None, previous or GENESIS)


def _check(record: AuditRecord, previous: str | None) -> ChainBreak | None:
    if previous is not None and record.prev_hash != previous:
        return ChainBreak(record.id, "its link to the event before it does not match (an event removed or inserted)")
    if chain_hash(record.prev_hash, record.event) != record.hash:
        return ChainBreak(record.id, "its content does not match its hash (the event was altered)")
    return None
