"""How a field change is recorded, in the caller's transaction: the HR record, its history entry, its audit event,
and one outbox entry for all the directory fields a transaction changes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.hr.model import Employee
from ess.domain.outbox.queue import record_directory_change
from ess.domain.profile.model import (
    ChangeVia,
    FieldValue,
    HistoryEntry,
    Profile,
    ProfileField,
    directory_values,
    mask,
)
from ess.domain.profile.ports import ProfileDeps, ProfileUnitOfWork


async def load_profile(uow: ProfileUnitOfWork, employee: Employee) -> Profile:
    assert employee.id is not None
    bank = await uow.profiles.bank_account(employee.id)
    contacts = await uow.profiles.emergency_contacts(employee.id)
    return Profile(employee=employee, bank_account=bank, emergency_contacts=tuple(contacts))


@dataclass(slots=True)
class DirectoryBatch:
    """The directory fields one transaction changes: one outbox entry, so they land together and in order."""

    old: dict[str, str] = field(default_factory=dict)
    new: dict[str, str] = field(default_factory=dict)

    def add(self, old: Mapping[str, str], new: Mapping[str, str]) -> None:
        for name, value in old.items():
            self.old.setdefault(name, value)  # the value before the first change in this transaction
        self.new.update(new)

    async def record(self, uow: ProfileUnitOfWork, employee: Employee, *, now: datetime, actor: str) -> None:
        assert employee.id is not None
        if self.new:
            await record_directory_change(
                uow, employee_id=employee.id, login=employee.login, old=self.old, new=self.new, now=now, actor=actor
            )


async def apply_change(
    uow: ProfileUnitOfWork,
    profile: Profile,
    profile_field: ProfileField,
    value: FieldValue,
    *,
    actor: str,
    via: ChangeVia,
    now: datetime,
    batch: DirectoryBatch,
    request_id: int | None = None,
) -> Profile:
    """Store a field's new value with its history entry and audit event; its directory fields join `batch`, which
    the caller records in the outbox in the same transaction."""
    employee = profile.employee
    assert employee.id is not None
    old = profile.value(profile_field)
    await uow.profiles.apply(employee.id, profile_field, value)
    await uow.profiles.add_history(
        HistoryEntry(employee.id, profile_field, old, value, now, actor, via, request_id=request_id)
    )
    await audit(
        uow,
        "profile.change",
        employee,
        now=now,
        actor=actor,
        details={
            "field": profile_field.value,
            "via": via.value,
            **{f"old.{k}": v for k, v in mask(old).items()},
            **{f"new.{k}": v for k, v in mask(value).items()},
        },
    )
    refreshed = await uow.employees.get(employee.id)
    assert refreshed is not None
    batch.add(directory_values(profile_field, old, employee), directory_values(profile_field, value, refreshed))
    return await load_profile(uow, refreshed)


async def audit(
    uow: ProfileUnitOfWork,
    action: str,
    employee: Employee,
    *,
    now: datetime,
    actor: str,
    details: dict[str, str | int | bool | None],
    outcome: Outcome = Outcome.SUCCESS,
    client: str = "",
) -> None:
    await uow.audit.add(
        AuditEvent(
            occurred_at=now,
            actor=actor,
            action=action,
            outcome=outcome,
            target=f"employee:{employee.personnel_number}",
            client_address=client,
            details=details,
        )
    )


async def hr_recipients(deps: ProfileDeps) -> tuple[str, ...]:
    if deps.hr_recipients:
        return deps.hr_recipients
    async with deps.new_uow() as uow:
        return tuple(await uow.profiles.hr_emails())


def field_list(fields: list[ProfileField]) -> str:
    return ",".join(f.value for f in fields)
