"""What every area uses: the clock, the audit log, the unit of work, notices to people and the links they carry.

Everything an area needs beyond this lives in `ess/domain/<area>/ports.py`, beside the area's model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from ess.domain.audit import AuditEvent


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""

    def today(self) -> date:
        """Today's date where the company is (Europe/Berlin by default)."""


class AuditLog(Protocol):
    async def add(self, event: AuditEvent) -> None: ...

    async def recent(self, limit: int = 50, *, actor: str | None = None) -> list[AuditEvent]: ...


class WriteNeeded(Exception):
    """A unit of work opened with `read_only()` was asked to write. A use case that reads optimistically catches
    it and runs again in an ordinary (writing) unit of work."""


class UnitOfWork(Protocol):
    """One transaction. Leaving the block without commit() rolls everything back.

    Each area extends this protocol with the repositories it uses (`VacationUnitOfWork`, ...), declared as
    read-only properties so that one adapter can serve every area.
    """

    @property
    def audit(self) -> AuditLog: ...

    def read_only(self) -> Self:
        """Call before entering (it holds for that one `async with`): this transaction only reads. On SQLite it
        then does not take the database's write lock at its start, so it runs beside writers instead of queueing
        behind them; any write in it raises WriteNeeded. Writers keep the default, which serialises them where the
        database needs it."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    async def ping(self) -> None:
        """Raise ServiceUnavailable when the database cannot answer."""


@dataclass(frozen=True, slots=True)
class Link:
    """What a notice points to, in domain words: a page of an area (`page`, a member of the area's own `StrEnum`
    of pages) and the ids it needs. The domain never holds a URL: the edge builds it by route name."""

    page: StrEnum
    ids: Mapping[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Notice:
    """Something a person should hear about: the kind names the template, params fill it (no secrets), the link
    (if any) says where to go next."""

    kind: str
    to: tuple[str, ...]
    params: Mapping[str, str]
    link: Link | None = None


class Notifier(Protocol):
    async def notify(self, notice: Notice) -> None:
        """Tell people about a change that is already saved; best effort, never undoes the change."""

    async def notify_first(self, notice: Notice) -> None:
        """A notice that must go out before a change is made: raises ServiceUnavailable when it cannot be sent."""
