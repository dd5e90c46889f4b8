"""Retention and deletion: each area deletes what is older than its period; the run is audited by count, and every
daily job's last run is recorded for the operator console."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.privacy.model import JobRun
from ess.domain.privacy.ports import PrivacyDeps

RETENTION_ACTOR = "ess retention"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetentionReport:
    dry_run: bool
    counts: dict[str, int]  # retention key -> records deleted (or due, with dry_run)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


async def run_retention(*, dry_run: bool = False, deps: PrivacyDeps) -> RetentionReport:
    """Delete what is due in one transaction (with dry_run: count it and change nothing). The deletions are audited
    by count: one event per run, chained after the ones that remain."""
    cutoffs = deps.retention.cutoffs(deps.clock.now())
    counts: dict[str, int] = {}
    async with deps.new_uow() as uow:
        for area in deps.areas:
            wanted = {key: cutoffs[key] for key in area.retention_keys if key in cutoffs}
            if wanted:
                counts.update(await area.expire(uow, wanted, dry_run=dry_run))
        if dry_run:
            return RetentionReport(True, counts)
        await uow.audit.add(
            AuditEvent(deps.clock.now(), RETENTION_ACTOR, "privacy.retention", Outcome.SUCCESS, details=dict(counts))
        )
        await uow.commit()
    return RetentionReport(False, counts)


async def record_job(
    job: str, work: Callable[[], Awaitable[T]], summary: Callable[[T], str], *, deps: PrivacyDeps
) -> T:
    """Run a daily job and keep its start, end, outcome and a one-line summary (no personal data) for the console."""
    async with deps.new_uow() as uow:
        await uow.job_log.started(job, deps.clock.now())
        await uow.commit()
    try:
        result = await work()
    except Exception as exc:
        async with deps.new_uow() as uow:
            await uow.job_log.finished(job, deps.clock.now(), "failed", type(exc).__name__)
            await uow.commit()
        raise
    async with deps.new_uow() as uow:
        await uow.job_log.finished(job, deps.clock.now(), "success", summary(result)[:500])
        await uow.commit()
    return result


async def last_runs(*, deps: PrivacyDeps) -> list[JobRun]:
    async with deps.new_uow().read_only() as uow:
        return await uow.job_log.last_runs()
