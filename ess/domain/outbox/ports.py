"""The ports of the directory write-back: the outbox store, and what the outbox use cases are wired with."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ess.domain.directory.ports import Directory
from ess.domain.outbox.model import DirectoryChange, OutboxStatus, RetryPolicy
from ess.domain.shared import Clock, Notifier, UnitOfWork
from ess.domain.types import EmployeeId


class OutboxRepository(Protocol):
    """Directory changes waiting to be applied (the outbox), written in the same transaction as the HR change."""

    async def add(self, change: DirectoryChange) -> DirectoryChange:
        """Store a new entry; returns it with its id."""
        ...

    async def get(self, change_id: int) -> DirectoryChange | None: ...

    async def due(self, now: datetime, limit: int) -> list[DirectoryChange]:
        """Pending entries with next_attempt_at <= now that no live claim holds, oldest first; per login only the
        oldest pending entry (a later change must not overtake an earlier one)."""
        ...

    async def claim(self, change_id: int, *, now: datetime, until: datetime) -> bool:
        """Take a pending entry for delivery until `until`, unless another worker holds a live claim on it.
        Atomic: of two workers claiming at once, exactly one gets True."""
        ...

    async def for_employee(self, employee_id: EmployeeId, *, open_only: bool) -> list[DirectoryChange]:
        """An employee's entries, oldest first; open_only: those not applied yet."""
        ...

    async def listing(self, statuses: Sequence[OutboxStatus] | None, limit: int) -> list[DirectoryChange]:
        """Entries with one of the statuses (None: all), newest first."""
        ...

    async def update(self, change: DirectoryChange) -> None:
        """Store the entry's new state and release any claim on it."""
        ...


class OutboxUnitOfWork(UnitOfWork, Protocol):
    @property
    def outbox(self) -> OutboxRepository: ...


@dataclass(frozen=True, slots=True)
class OutboxDeps:
    """What the write-back use cases run with, wired once by the composition root. Several workers (app processes,
    the CLI) may deliver at once: each entry is claimed before it is applied, so it is applied once."""

    new_uow: Callable[[], OutboxUnitOfWork]
    directory: Directory
    clock: Clock
    policy: RetryPolicy
    # Set after a commit that queued an entry: the worker of this process wakes and delivers at once.
    wake: asyncio.Event
    notifier: Notifier | None = None
    # Who hears of a conflict (HR).
    hr_recipients: tuple[str, ...] = ()
