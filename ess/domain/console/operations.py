"""The console's use cases: each checks the admin role on the caller first and audits what it changes."""

from __future__ import annotations

from typing import Final

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.auth.model import Principal
from ess.domain.console.ports import ConsoleDeps, DirectoryCheck
from ess.domain.errors import InvalidInput, PermissionDenied
from ess.domain.hr.model import Role
from ess.domain.hr_import.importing import (
    ImportEmployees,
    ImportPreview,
    ImportResult,
    import_employees,
    preview_import,
    record_unreadable_import,
)
from ess.domain.mail.model import MailStatus, QueuedMail
from ess.domain.mail.retry import retry as retry_mail
from ess.domain.outbox.delivery import DeliveryReport, deliver_due
from ess.domain.outbox.model import DirectoryChange, OutboxStatus
from ess.domain.outbox.retry import retry as retry_change
from ess.domain.privacy.model import JobRun
from ess.domain.privacy.retention import last_runs

LISTING_LIMIT: Final = 200
OPEN_CHANGES: Final = (OutboxStatus.PENDING, OutboxStatus.CONFLICT, OutboxStatus.FAILED)
OPEN_MAILS: Final = (MailStatus.PENDING, MailStatus.FAILED)


def require_admin(principal: Principal) -> None:
    if not principal.has(Role.ADMIN):
        raise PermissionDenied("Only administrators may use the operator console.")


async def job_runs(principal: Principal, *, deps: ConsoleDeps) -> list[JobRun]:
    require_admin(principal)
    return await last_runs(deps=deps.privacy)


async def check_directory(principal: Principal, *, client: str = "", deps: ConsoleDeps) -> list[DirectoryCheck]:
    require_admin(principal)
    checks = await deps.check_directory()
    failed = sum(1 for check in checks if check.ok is False)
    await _audit(deps, principal, "console.directory_check", client, failed=failed)
    return checks


async def open_changes(principal: Principal, *, deps: ConsoleDeps) -> list[DirectoryChange]:
    require_admin(principal)
    async with deps.outbox.new_uow().read_only() as uow:
        return await uow.outbox.listing(list(OPEN_CHANGES), LISTING_LIMIT)


async def retry_directory_change(
    principal: Principal, change_id: int, *, force: bool = False, deps: ConsoleDeps
) -> DeliveryReport:
    """Make the entry due again (with force: overwrite the directory's values, for a conflict a person looked at)
    and try it at once; retry() audits it under the operator's name."""
    require_admin(principal)
    await retry_change(change_id, deps=deps.outbox, force=force, actor=principal.login)
    return await deliver_due(deps=deps.outbox)


async def open_mails(principal: Principal, *, deps: ConsoleDeps) -> list[QueuedMail]:
    require_admin(principal)
    async with deps.mail.new_uow().read_only() as uow:
        return await uow.mail.listing(list(OPEN_MAILS), LISTING_LIMIT)


async def retry_queued_mail(principal: Principal, mail_id: int, *, deps: ConsoleDeps) -> int:
    require_admin(principal)
    return await retry_mail(mail_id, deps=deps.mail, actor=principal.login)


def _records(deps: ConsoleDeps, content: bytes, name: str) -> ImportEmployees | str:
    try:
        records = deps.read_hr_upload(content, name)
    except InvalidInput as exc:
        return exc.message
    return ImportEmployees(records=records, source_name=name, actor="")


async def preview_hr_upload(principal: Principal, content: bytes, name: str, *, deps: ConsoleDeps) -> ImportPreview:
    """What importing the uploaded file would do, or every row error; nothing changes. An unreadable file raises
    InvalidInput with the reason."""
    require_admin(principal)
    parsed = _records(deps, content, name)
    if isinstance(parsed, str):
        raise InvalidInput(parsed)
    return await preview_import(parsed, deps=deps.hr_import)


async def import_hr_upload(principal: Principal, content: bytes, name: str, *, deps: ConsoleDeps) -> ImportResult:
    """The HR import of the uploaded file, all or nothing (ImportRejected names every bad row; InvalidInput an
    unreadable file); audited as any import, under the operator's name."""
    require_admin(principal)
    parsed = _records(deps, content, name)
    if isinstance(parsed, str):
        await record_unreadable_import(name, principal.login, parsed, deps=deps.hr_import)
        raise InvalidInput(parsed)
    command = ImportEmployees(records=parsed.records, source_name=name, actor=principal.login)
    return await import_employees(command, deps=deps.hr_import)


async def _audit(deps: ConsoleDeps, principal: Principal, action: str, client: str, **details: int) -> None:
    async with deps.privacy.new_uow() as uow:
        now = deps.privacy.clock.now()
        await uow.audit.add(
            AuditEvent(now, principal.login, action, Outcome.SUCCESS, client_address=client, details=details)
        )
        await uow.commit()


def settings_overview(principal: Principal, *, deps: ConsoleDeps) -> list[tuple[str, str]]:
    require_admin(principal)
    return list(deps.settings_lines)
