"""Use case: import employees from an HR file: every row checked first, all written in one transaction or none."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.errors import InvalidInput
from ess.domain.hr.model import Employee
from ess.domain.hr_import.format import RowError, SourceRecord, check_managers, parse_file
from ess.domain.hr_import.ports import HrImportDeps, HrImportUnitOfWork
from ess.domain.profile.imports import keep_changes_made_in_ess
from ess.domain.shared import Clock
from ess.domain.vacation.hr_changes import LeaveFollowUp, follow_hr_change, leave_relevant_changes, tell_about

Progress = Callable[[int], None]
# Stored employees compared with the file at a time (each chunk is read, compared and let go).
_CHUNK = 2000


class ImportRejected(InvalidInput):
    """The file has errors; nothing was written. `errors` names every bad row."""

    code = "import_rejected"

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__(f"{len(errors)} error(s) in the file; nothing was imported.")
        self.errors = list(errors)


@dataclass(frozen=True, slots=True)
class ImportEmployees:
    # Read once: a list, or an iterator over a file being read.
    records: Iterable[SourceRecord]
    source_name: str
    actor: str
    # Who asked for it, as the operator typed it (the actor is the authenticated operator).
    requested_by: str = ""


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    # Employees whose booked leave the changed data recomputed, and what needs HR's attention among them.
    leave: tuple[LeaveFollowUp, ...] = ()

    @property
    def leave_conflicts(self) -> tuple[LeaveFollowUp, ...]:
        return tuple(f for f in self.leave if f.needs_attention)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


async def import_employees(
    cmd: ImportEmployees, *, deps: HrImportDeps, progress: Progress | None = None
) -> ImportResult:
    """Upsert employees by personnel number in one transaction: all rows valid, or nothing changes.

    The records are read once (an iterator will do); the stored employees are compared a chunk at a time, so
    what is held at once is the parsed file and a chunk of stored employees, not the stored company."""
    clock = deps.clock
    parsed = parse_file(cmd.records, is_known_region=deps.regions.is_known)
    employees, errors = parsed.employees, parsed.errors
    async with deps.new_uow() as uow:
        # Rules across rows run on every row that parsed, so one pass reports every problem in the file.
        errors += await _check_against_records(employees, parsed.positions, parsed.numbers, uow)
        if errors:
            await uow.audit.add(_import_event(cmd, clock, Outcome.FAILURE, errors=len(errors)))
            await uow.commit()
            raise ImportRejected(sorted(errors, key=lambda e: (e.position, e.field)))
        compared = _Compared()
        for start in range(0, len(employees), _CHUNK):
            employees[start : start + _CHUNK] = await _compare(employees[start : start + _CHUNK], uow, clock, compared)
        await uow.employees.save_all(employees, progress=progress)
        leave = await _follow_leave(compared.leave_changes, cmd, uow, clock)
        result = ImportResult(
            created=compared.created,
            updated=len(employees) - compared.created - compared.unchanged,
            unchanged=compared.unchanged,
            leave=leave,
        )
        await uow.audit.add(
            _import_event(
                cmd,
                clock,
                Outcome.SUCCESS,
                created=result.created,
                updated=result.updated,
                unchanged=result.unchanged,
                kept_from_ess=compared.kept,
                leave_recalculated=sum(1 for f in leave if f.corrections),
                leave_conflicts=len(result.leave_conflicts),
            )
        )
        await uow.commit()
    await tell_about(result.leave_conflicts, deps.notifier, deps.hr_recipients)
    return result


@dataclass(slots=True)
class _Compared:
    """What comparing the file with the stored employees found so far, chunk by chunk."""

    created: int = 0
    unchanged: int = 0
    kept: int = 0
    # Per personnel number, the changes that feed the leave entitlement (only of those it changed).
    leave_changes: dict[str, list[str]] = field(default_factory=dict)


async def _compare(chunk: list[Employee], uow: HrImportUnitOfWork, clock: Clock, compared: _Compared) -> list[Employee]:
    """One chunk of the file against the stored employees: the employees to save, and the counts in `compared`."""
    existing = await uow.employees.by_personnel_numbers([e.personnel_number for e in chunk])
    # A changed pattern without a date applies from the first of this month: leave is earned by full months,
    # so a period must not start in the middle of one (BAG 9 AZR 406/17).
    month_start = clock.today().replace(day=1)
    chunk = [
        replace(e, work_pattern_since=month_start)
        if (before := existing.get(e.personnel_number))
        and before.work_pattern != e.work_pattern
        and e.work_pattern_since is None
        else e
        for e in chunk
    ]
    # A value the employee changed in ESS stays while the HR system still sends the one from before it.
    known_ids = [before.id for before in existing.values() if before.id is not None]
    chunk, kept = keep_changes_made_in_ess(chunk, existing, await uow.profiles.latest_changes(known_ids))
    compared.kept += kept
    for e in chunk:
        before = existing.get(e.personnel_number)
        if before is None:
            compared.created += 1
        elif same_record(before, e):
            compared.unchanged += 1
        elif found := leave_relevant_changes(before, e):
            compared.leave_changes[e.personnel_number] = found
    return chunk


async def _follow_leave(
    changes: dict[str, list[str]], cmd: ImportEmployees, uow: HrImportUnitOfWork, clock: Clock
) -> tuple[LeaveFollowUp, ...]:
    """Recompute the booked leave of everyone whose entitlement data the file changed, in the import's
    transaction: the import and its consequences are written together or not at all."""
    follow_ups: list[LeaveFollowUp] = []
    numbers = sorted(changes)
    for start in range(0, len(numbers), _CHUNK):
        stored = await uow.employees.by_personnel_numbers(numbers[start : start + _CHUNK])
        follow_ups += [
            await follow_hr_change(
                stored[number], changes[number], uow, clock, source=f"HR import {cmd.source_name}", actor=cmd.actor
            )
            for number in numbers[start : start + _CHUNK]
        ]
    return tuple(follow_ups)


async def record_unreadable_import(source_name: str, actor: str, reason: str, *, deps: HrImportDeps) -> None:
    """A file that could not even be read is a rejected import too, and audited as one."""
    async with deps.new_uow() as uow:
        await uow.audit.add(
            AuditEvent(
                occurred_at=deps.clock.now(),
                actor=actor,
                action="hr.import",
                outcome=Outcome.FAILURE,
                target=source_name,
                details={"error": reason[:200]},
            )
        )
        await uow.commit()


def _import_event(cmd: ImportEmployees, clock: Clock, outcome: Outcome, **counts: int) -> AuditEvent:
    return AuditEvent(
        occurred_at=clock.now(),
        actor=cmd.actor,
        action="hr.import",
        outcome=outcome,
        target=cmd.source_name,
        details={**counts, **({"requested_by": cmd.requested_by} if cmd.requested_by else {})},
    )


# What an import row is compared by: every field but the stored id and pattern history and the row's date for a
# pattern change.
_RECORD_FIELDS = tuple(
    f.name for f in fields(Employee) if f.compare and f.name not in {"id", "pattern_history", "work_pattern_since"}
)


def same_record(stored: Employee, imported: Employee) -> bool:
    """Whether an import row changes nothing (the stored pattern history is not part of the row).

    Field by field: copying both employees to compare them cost a tenth of an import of changed rows."""
    return (
        imported.id is None
        and not imported.pattern_history
        and all(getattr(stored, name) == getattr(imported, name) for name in _RECORD_FIELDS)
    )


async def _check_against_records(
    employees: Sequence[Employee], positions: dict[str, int], numbers_in_file: set[str], uow: HrImportUnitOfWork
) -> list[RowError]:
    errors = check_managers(list(employees), positions, await uow.employees.manager_links(), numbers_in_file)
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


@dataclass(frozen=True, slots=True)
class ImportPreview:
    """What an import of the file would do, or every row error that would refuse it; nothing is written."""

    rows: int
    created: int
    updated: int
    unchanged: int
    errors: tuple[RowError, ...] = ()


async def preview_import(cmd: ImportEmployees, *, deps: HrImportDeps) -> ImportPreview:
    """The same checks as import_employees, in a read-only transaction: the counts it would report, or its errors."""
    parsed = parse_file(cmd.records, is_known_region=deps.regions.is_known)
    employees, errors = parsed.employees, parsed.errors
    created = unchanged = 0
    async with deps.new_uow().read_only() as uow:
        errors += await _check_against_records(employees, parsed.positions, parsed.numbers, uow)
        if errors:
            ordered = tuple(sorted(errors, key=lambda e: (e.position, e.field)))
            return ImportPreview(parsed.rows, 0, 0, 0, ordered)
        for start in range(0, len(employees), _CHUNK):
            chunk = employees[start : start + _CHUNK]
            existing = await uow.employees.by_personnel_numbers([e.personnel_number for e in chunk])
            created += sum(1 for e in chunk if e.personnel_number not in existing)
            unchanged += sum(1 for e in chunk if (old := existing.get(e.personnel_number)) and same_record(old, e))
    return ImportPreview(parsed.rows, created, len(employees) - created - unchanged, unchanged)
