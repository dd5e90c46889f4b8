"""HR use cases: import employees from an HR file, look up employees."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.errors import InvalidInput
from ess.domain.hr.importing import RowError, SourceRecord, check_managers, parse_records
from ess.domain.hr.model import Employee
from ess.domain.ports import Clock, Regions, UnitOfWork

Progress = Callable[[int], None]


class ImportRejected(InvalidInput):
    """The file has errors; nothing was written. `errors` names every bad row."""

    code = "import_rejected"

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__(f"{len(errors)} error(s) in the file; nothing was imported.")
        self.errors = list(errors)


@dataclass(frozen=True, slots=True)
class ImportEmployees:
    records: Sequence[SourceRecord]
    source_name: str
    actor: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


async def import_employees(
    cmd: ImportEmployees,
    *,
    uow: UnitOfWork,
    clock: Clock,
    regions: Regions,
    progress: Progress | None = None,
) -> ImportResult:
    """Upsert employees by personnel number in one transaction: all rows valid, or nothing changes."""
    employees, errors = parse_records(cmd.records, is_known_region=regions.is_known)
    positions = _positions(employees, cmd.records)
    async with uow:
        if not errors:
            errors = await _check_against_records(employees, positions, uow)
        if errors:
            await uow.audit.add(
                AuditEvent(
                    occurred_at=clock.now(),
                    actor=cmd.actor,
                    action="hr.import",
                    outcome=Outcome.FAILURE,
                    target=cmd.source_name,
                    details={"errors": len(errors), "first_error": str(errors[0])[:200]},
                )
            )
            await uow.commit()
            raise ImportRejected(sorted(errors, key=lambda e: e.position))

        existing = await uow.employees.by_personnel_numbers([e.personnel_number for e in employees])
        created = updated = unchanged = 0
        for done, employee in enumerate(employees, start=1):
            before = existing.get(employee.personnel_number)
            if before is None:
                created += 1
            elif replace(before, id=None) == employee:
                unchanged += 1
            else:
                updated += 1
            if progress is not None:
                progress(done)
        await uow.employees.save_all(employees)
        result = ImportResult(created=created, updated=updated, unchanged=unchanged)
        await uow.audit.add(
            AuditEvent(
                occurred_at=clock.now(),
                actor=cmd.actor,
                action="hr.import",
                outcome=Outcome.SUCCESS,
                target=cmd.source_name,
                details={"created": created, "updated": updated, "unchanged": unchanged},
            )
        )
        await uow.commit()
    return result


def _positions(employees: Sequence[Employee], records: Sequence[SourceRecord]) -> dict[str, int]:
    by_number: dict[str, int] = {}
    for record in records:
        number = (record.values.get("personnel_number") or "").strip()
        by_number.setdefault(number, record.position)
    return {e.personnel_number: by_number[e.personnel_number] for e in employees}


async def _check_against_records(
    employees: Sequence[Employee], positions: dict[str, int], uow: UnitOfWork
) -> list[RowError]:
    errors = check_managers(list(employees), positions, await uow.employees.all_personnel_numbers())
    in_file = {e.login: e.personnel_number for e in employees}
    owners = await uow.employees.logins_in_use(list(in_file))
    for login, owner in owners.items():
        number = in_file[login]
        # A login held by someone not in this file cannot be taken over; swaps inside the file are fine.
        if owner != number and owner not in positions:
            errors.append(
                RowError(positions[number], "login", f"'{login}' already belongs to personnel number {owner}")
            )
    return errors
