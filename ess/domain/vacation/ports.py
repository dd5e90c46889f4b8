"""The ports of leave: the ledger store, the holiday calendar, the HR report, and what the use cases run with."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from ess.domain.hr.model import Employee, WorkLocation
from ess.domain.hr.ports import EmployeeRepository
from ess.domain.shared import Clock, Notifier, UnitOfWork
from ess.domain.types import EmployeeId
from ess.domain.vacation.law_de import ExpiryWarning
from ess.domain.vacation.model import (
    Bucket,
    Colleague,
    DayOff,
    Deputy,
    LeaveRequest,
    LedgerEntry,
    ReminderStage,
    ReportPerson,
    ReportRow,
    ReportTotals,
    RequestStatus,
    VacationPolicy,
)


class VacationRepository(Protocol):
    async def lock_employee(self, employee_id: EmployeeId) -> None:
        """Serialise leave changes of one employee until the transaction ends."""
        ...

    async def buckets(self, employee_id: EmployeeId) -> list[Bucket]: ...

    async def add_bucket(self, bucket: Bucket) -> Bucket: ...

    async def entries(self, employee_id: EmployeeId) -> list[LedgerEntry]: ...

    async def add_entries(self, entries: Sequence[LedgerEntry]) -> None:
        """Append to the ledger; entries are never changed or deleted."""
        ...

    async def closed_years(self, employee_id: EmployeeId) -> set[int]:
        """The leave years close-year has closed for the employee."""
        ...

    async def ledger(self, employee_id: EmployeeId) -> tuple[list[Bucket], list[LedgerEntry], set[int]]:
        """`buckets`, `entries` and `closed_years` of the employee, read together (in one statement)."""
        ...

    async def mark_closed(self, employee_id: EmployeeId, leave_year: int, *, at: datetime, by: str) -> None:
        """Record that the year is closed for the employee (a second call changes nothing)."""
        ...

    async def requests(self, employee_id: EmployeeId) -> list[LeaveRequest]: ...

    async def request(self, request_id: int) -> LeaveRequest | None: ...

    async def colleagues(self, employee_id: EmployeeId, today: date) -> list[Colleague]:
        """The employee's team colleagues employed on `today`: the manager's other reports and their own reports,
        by name."""
        ...

    async def requests_and_colleagues(
        self, employee_id: EmployeeId, today: date
    ) -> tuple[list[LeaveRequest], list[Colleague]]:
        """`requests` and `colleagues` together, in one statement."""
        ...

    async def add_request(self, request: LeaveRequest) -> LeaveRequest:
        """Store a request and its days. Raises Conflict when one of the days is already booked."""
        ...

    async def update_request(self, request: LeaveRequest, *, expected: RequestStatus) -> None:
        """Store a new status and decision if the stored status is still `expected` (else Conflict); the days stop
        counting as booked once the request is inactive."""
        ...

    async def warnings(self, employee_id: EmployeeId, leave_year: int) -> list[ExpiryWarning]:
        """The expiry warnings recorded as sent for a leave year (evidence of the duty to warn)."""
        ...

    async def add_warning(
        self, employee_id: EmployeeId, leave_year: int, warning: ExpiryWarning, *, channel: str, recipient: str
    ) -> None: ...

    async def add_feed_token(self, employee_id: EmployeeId, token_hash: str, at: datetime) -> None:
        """A new private calendar feed; any earlier feed of the employee is revoked."""
        ...

    async def revoke_feed_tokens(self, employee_id: EmployeeId, at: datetime) -> None: ...

    async def feed_owner(self, token_hash: str) -> EmployeeId | None: ...

    async def pending_requests(self, *, manager_personnel_number: str | None) -> list[tuple[LeaveRequest, Employee]]:
        """Requests waiting for a decision (pending or cancellation requested) of a manager's direct reports
        (None: of everybody), oldest first."""
        ...

    async def reminders_sent(self, request_ids: Sequence[int]) -> set[tuple[int, ReminderStage]]:
        """(request id, stage) of what the reminder job has already sent for these requests."""
        ...

    async def add_reminder(self, request_id: int, stage: ReminderStage, at: datetime) -> None: ...

    async def deputies(
        self, *, current_on: date, manager_id: EmployeeId | None = None, deputy_id: EmployeeId | None = None
    ) -> list[Deputy]:
        """Deputy entries not over by `current_on` (last day on or after it), of one manager and/or naming one
        deputy (None: any), by first day."""
        ...

    async def deputy(self, entry_id: int) -> Deputy | None: ...

    async def add_deputy(self, deputy: Deputy) -> Deputy: ...

    async def end_deputy(self, entry_id: int, *, last_day: date | None) -> None:
        """Move the entry's last day to `last_day`, or delete it (None)."""
        ...


class VacationUnitOfWork(UnitOfWork, Protocol):
    @property
    def employees(self) -> EmployeeRepository: ...

    @property
    def vacation(self) -> VacationRepository: ...


class HolidayCalendar(Protocol):
    """The days off at a place of work: public holidays plus company days off and configured half days."""

    def days_off(self, location: WorkLocation, year: int) -> Mapping[date, DayOff]:
        """Every day off in `year` at `location`, weekends included. Raises InvalidInput for an unknown location."""
        ...


class LeaveReport(Protocol):
    """Leave figures of all employees at once, for HR (read-only)."""

    async def rows(
        self, as_of: date, personnel_numbers: Sequence[str] | None = None, *, lapse_by: date | None = None
    ) -> list[ReportRow]:
        """Every employee employed in the leave year of `as_of` (or only those of `personnel_numbers` among
        them), with the balance on `as_of`, in no particular order; the same figures as `compute_balance` gives for
        each of them over the booked ledger. A row whose year has no grant booked yet says so (`booked` False).
        With `lapse_by`, `lapsing` holds what lapses after `as_of` and by that day."""
        ...

    async def summed_rows(
        self, as_of: date, personnel_numbers: Sequence[str] | None = None, *, lapse_by: date | None = None
    ) -> list[ReportRow]:
        """The rows of `rows`, with the same figures, from per-employee sums the store keeps rather than from the
        ledger: cheap enough to read for everyone listed to sort by a figure."""
        ...

    async def people(self, as_of: date, *, lapse_by: date | None = None) -> list[ReportPerson]:
        """Who `rows(as_of)` lists, without figures (but `lapsing` with `lapse_by`): cheap enough to sort and
        filter all of them for one page."""
        ...

    async def listed(
        self,
        as_of: date,
        *,
        unit: str = "",
        region: str = "",
        lapse_by: date | None = None,
        sort: str = "org_unit",
        descending: bool = False,
        offset: int = 0,
        limit: int | None = None,
        lapsing_until: date | None = None,
    ) -> tuple[list[str], int]:
        """The personnel numbers of `people(as_of)` whose org unit is `unit` and location `region` (a location
        or a country; empty: any), with `lapse_by` only those with days that lapse by then; sorted as the report
        sorts by `sort` (a column of who is listed) and cut to `offset`/`limit`; and how many match in all.

        `sort` may also be a figure (`report.FIGURE_SORTS`): then by the figure as `rows` gives it ("lapsing" up to
        `lapsing_until`), ties in the report's order. The entitlement of a year not booked yet is not stored
        (see `any_unbooked`): a sort by entitlement or remaining is right only when everyone listed is booked."""
        ...

    async def any_unbooked(
        self, as_of: date, *, unit: str = "", region: str = "", lapse_by: date | None = None
    ) -> bool:
        """Whether anyone `listed` with these filters has no grant booked for the year of `as_of` yet."""
        ...

    async def choices(self, as_of: date) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The org unit names (case-insensitively sorted) and locations of `people(as_of)`, for the filters."""
        ...

    async def totals(self, as_of: date, personnel_numbers: Sequence[str] | None = None) -> ReportTotals:
        """The sums of the booked figures of `rows(as_of, personnel_numbers)`, added up by the database, and the
        personnel numbers of those rows whose year is not booked yet (their entitlement is not in the sums)."""
        ...


@dataclass(frozen=True, slots=True)
class VacationDeps:
    """What the leave use cases run with, wired once by the composition root."""

    new_uow: Callable[[], VacationUnitOfWork]
    clock: Clock
    calendar: HolidayCalendar
    notifier: Notifier
    report: LeaveReport
    policy: VacationPolicy = field(default_factory=VacationPolicy)
    # Who in HR hears of leave that a change of the HR data made impossible or overdrawn.
    hr_recipients: tuple[str, ...] = ()
