"""The ports of personal data: its store beside the HR record, and what the profile use cases are wired with."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ess.domain.auth.ports import AttemptCounter
from ess.domain.directory.ports import Directory
from ess.domain.hr.ports import EmployeeRepository
from ess.domain.outbox.ports import OutboxRepository
from ess.domain.profile.model import (
    ChangeRequest,
    EmergencyContact,
    FieldValue,
    HistoryEntry,
    ProfileField,
    ProfilePolicies,
    RequestStatus,
    StoredBankAccount,
)
from ess.domain.shared import Clock, Notifier, UnitOfWork
from ess.domain.types import EmployeeId


class ProfileRepository(Protocol):
    """Personal data beside the HR record, change requests and the change history."""

    async def lock(self, employee_id: EmployeeId) -> None:
        """Hold the employee's row until the transaction ends (concurrent changes queue)."""
        ...

    async def bank_account(self, employee_id: EmployeeId) -> StoredBankAccount | None: ...

    async def emergency_contacts(self, employee_id: EmployeeId) -> list[EmergencyContact]: ...

    async def apply(self, employee_id: EmployeeId, profile_field: ProfileField, value: FieldValue) -> None:
        """Store a field's new value in the HR record."""
        ...

    async def add_request(self, request: ChangeRequest) -> ChangeRequest: ...

    async def request(self, request_id: int) -> ChangeRequest | None: ...

    async def requests_for(self, employee_id: EmployeeId) -> list[ChangeRequest]:
        """Newest first."""
        ...

    async def open_requests(self, *, status: RequestStatus) -> list[ChangeRequest]:
        """Oldest first."""
        ...

    async def update_request(self, request: ChangeRequest, *, expected: RequestStatus) -> None:
        """Store a decision; raises Conflict when the stored status is no longer `expected`."""
        ...

    async def add_history(self, entry: HistoryEntry) -> None: ...

    async def history(self, employee_id: EmployeeId, limit: int = 200) -> list[HistoryEntry]:
        """Newest first."""
        ...

    async def latest_changes(
        self, employee_ids: Sequence[EmployeeId]
    ) -> dict[tuple[EmployeeId, ProfileField], HistoryEntry]:
        """The newest history entry per employee and field."""
        ...

    async def hr_emails(self) -> list[str]:
        """Work e-mail addresses of everyone with the HR role."""
        ...


class ProfileUnitOfWork(UnitOfWork, Protocol):
    @property
    def employees(self) -> EmployeeRepository: ...

    @property
    def profiles(self) -> ProfileRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...


@dataclass(frozen=True, slots=True)
class ProfileDeps:
    """What the profile use cases run with, wired once by the composition root."""

    new_uow: Callable[[], ProfileUnitOfWork]
    clock: Clock
    directory: Directory
    notifier: Notifier
    policies: ProfilePolicies
    # Wakes the directory write-back after a commit that queued an outbox entry.
    directory_changed: Callable[[], None] = lambda: None
    # Where notify-HR notices and new requests go; empty: everyone with the HR role.
    hr_recipients: tuple[str, ...] = ()
    # Limits password confirmations (bank account) per account, before the directory is asked: a hijacked session
    # can neither guess the password nor lock the account through the directory's own lockout.
    attempts: AttemptCounter | None = None
