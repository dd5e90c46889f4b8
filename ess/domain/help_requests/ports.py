"""What help requests need from outside: their storage, the handover to an existing helpdesk, and their deps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ess.domain.auth.ports import AttemptCounter
from ess.domain.help_requests.model import HelpRequest, HelpRequestPolicy, Status, Team, Topic
from ess.domain.hr.ports import EmployeeRepository
from ess.domain.shared import Clock, Notifier, UnitOfWork
from ess.domain.types import EmployeeId


@dataclass(frozen=True, slots=True)
class QueueFilter:
    teams: frozenset[Team]
    statuses: frozenset[Status] = frozenset()
    topic: str = ""
    older_than: datetime | None = None  # created before this instant


class HelpRequestRepository(Protocol):
    async def add(self, request: HelpRequest) -> HelpRequest:
        """Store a new request with its messages; returns it with its id."""
        ...

    async def get(self, request_id: int) -> HelpRequest | None: ...

    async def save(self, request: HelpRequest) -> None:
        """Update the request's fields and store its messages not stored yet (a message is never changed)."""
        ...

    async def of_employee(self, employee_id: EmployeeId) -> list[HelpRequest]:
        """The person's requests, newest first, with their messages."""
        ...

    async def queue(self, wanted: QueueFilter) -> list[HelpRequest]:
        """Requests of the given teams, oldest first, without messages."""
        ...

    async def waiting_since(self, before: datetime) -> list[HelpRequest]:
        """Requests waiting on a team (received, in progress) with no activity or reminder since `before`."""
        ...

    async def delete_closed_before(self, before: datetime) -> int:
        """Delete requests closed before `before` with their messages; returns how many."""
        ...


class HelpRequestsUnitOfWork(UnitOfWork, Protocol):
    @property
    def help_requests(self) -> HelpRequestRepository: ...

    @property
    def employees(self) -> EmployeeRepository: ...


class Handover(Protocol):
    """Forwards a request to an existing helpdesk tool (by mail with the reference in the subject, or a signed
    webhook). Called after the request is stored; a failure is logged and audited, never undoes the request."""

    async def forward(self, target: str, request: HelpRequest) -> None: ...


@dataclass(frozen=True)
class HelpRequestsDeps:
    """What the help request use cases run with, wired once by the composition root."""

    new_uow: Callable[[], HelpRequestsUnitOfWork]
    clock: Clock
    notifier: Notifier
    attempts: AttemptCounter
    handover: Handover
    topics: Sequence[Topic]
    policy: HelpRequestPolicy
    # Where each team hears of new requests and reminders (the team's mailbox).
    team_addresses: dict[Team, tuple[str, ...]]

    def topic(self, key: str) -> Topic | None:
        return next((t for t in self.topics if t.key == key), None)
