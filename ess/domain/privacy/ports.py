"""What the privacy area needs: the audit trail's reader, the areas that hold personal data, the job log."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ess.domain.audit import AuditRecord
from ess.domain.hr.ports import EmployeeRepository
from ess.domain.privacy.model import AuditQuery, JobRun, Record, RetentionPolicy, Subject
from ess.domain.shared import Clock, UnitOfWork


class AuditTrail(Protocol):
    async def search(self, query: AuditQuery, prefixes: tuple[str, ...] | None) -> list[AuditRecord]:
        """Events matching the query whose action starts with one of `prefixes` (None: any), newest first."""
        ...

    async def chain(self, *, after_id: int, limit: int) -> list[AuditRecord]:
        """The next `limit` events after `after_id`, oldest first (for the chain check)."""
        ...


class JobLog(Protocol):
    async def started(self, job: str, at: datetime) -> None: ...

    async def finished(self, job: str, at: datetime, outcome: str, summary: str) -> None: ...

    async def last_runs(self) -> list[JobRun]: ...


class PrivacyUnitOfWork(UnitOfWork, Protocol):
    @property
    def employees(self) -> EmployeeRepository: ...

    @property
    def audit_trail(self) -> AuditTrail: ...

    @property
    def job_log(self) -> JobLog: ...


class DataArea(Protocol):
    """An area that holds personal data: it exports everything about one person and deletes what is older than
    its retention. Areas are registered in the composition root (`bootstrap.data_areas`); a new area plugs in there."""

    @property
    def name(self) -> str: ...

    @property
    def retention_keys(self) -> Sequence[str]:
        """The `[retention]` keys this area applies (each counted on its own in the report)."""
        ...

    async def export(self, uow: PrivacyUnitOfWork, subject: Subject) -> Mapping[str, Sequence[Record]]:
        """Every record about the subject, by kind; secrets masked, tokens as metadata only."""
        ...

    async def expire(
        self, uow: PrivacyUnitOfWork, cutoffs: Mapping[str, datetime], *, dry_run: bool
    ) -> Mapping[str, int]:
        """Delete (or with dry_run only count) what is older than the cutoff of each of its keys present in
        `cutoffs`, inside the caller's transaction; the count per key."""
        ...


@dataclass(frozen=True, slots=True)
class PrivacyDeps:
    new_uow: Callable[[], PrivacyUnitOfWork]
    clock: Clock
    retention: RetentionPolicy
    areas: Sequence[DataArea] = field(default_factory=tuple)
