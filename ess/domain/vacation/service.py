"""Leave use cases: yearly grants, the balance, requesting, deciding and withdrawing leave."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.auth.model import Principal, hash_token, new_secret_token
from ess.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied, PolicyViolation
from ess.domain.hr.model import Employee, Role
from ess.domain.hr.service import load_own_employee
from ess.domain.ports import Clock, HolidayCalendar, Notice, Notifier, UnitOfWork, VacationRepository
from ess.domain.types import EmployeeId
from ess.domain.vacation import rules
from ess.domain.vacation.calendar import LeaveDay, count, days_off_between, leave_days
from ess.domain.vacation.model import (
    ZERO,
    Balance,
    Bucket,
    BucketKind,
    EntryType,
    LeaveRequest,
    LedgerEntry,
    RequestStatus,
    bucket_remaining,
    compute_balance,
)

MAX_NOTE = 500


@dataclass(frozen=True, slots=True)
class VacationPolicy:
    # BUrlG knows no overdraft; some companies allow a few days in advance.
    allow_overdraft_days: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class RequestLeave:
    principal: Principal
    start: date
    end: date
    start_half: bool = False
    end_half: bool = False
    note: str = ""
    substitute: str = ""


FULL_TIME_DAYS = Decimal(5)
# §3 BUrlG: 24 Werktage = 20 days on a 5-day week; the statutory part of a year counted by periods.
DE_STATUTORY_FULL_TIME = Decimal(20)
# The statutory minimum on a 5-day week: CH 4 weeks (OR 329a), AT 30 Werktage (UrlG §2).
STATUTORY_FULL_TIME = {"DE": DE_STATUTORY_FULL_TIME, "CH": Decimal(20), "AT": Decimal(25)}


def _with_minimum(entitlement_for: Callable[[Decimal], Decimal], contract: Decimal) -> rules.Entitlement:
    """Split a CH/AT entitlement into the statutory minimum (what a contract of 0 days gets) and the extra."""
    total, minimum = entitlement_for(contract), entitlement_for(ZERO)
    return rules.Entitlement(statutory=min(minimum, total), contractual_extra=max(total - minimum, ZERO))


def year_entitlement(employee: Employee, year: int) -> rules.Entitlement:
    """The statutory and contractual days of a leave year, by the law of the work location.

    `annual_leave_days` is the contract's figure for a 5-day week; part-time patterns get their share without rounding
    (BAG: DE-02). A pattern change during the year is counted per period (EuGH C-415/12, BAG 9 AZR 406/17).
    """
    year_periods = employee.pattern_periods(date(year, 1, 1), date(year, 12, 31))
    pattern = year_periods[-1][2] if year_periods else employee.work_pattern
    days_per_week = pattern.days_per_week
    contract = rules.convert_part_time(employee.annual_leave_days, days_per_week, FULL_TIME_DAYS)
    country = employee.location.country
    if len({p.days_per_week for _, _, p in year_periods}) > 1:
        # Each period earns at its own pattern, by full months (EuGH C-486/08 for AT, C-415/12 / BAG for DE);
        # within a year of entry or exit the months outside employment earn nothing.
        periods = [(start, end, p.days_per_week) for start, end, p in year_periods]
        full_time_minimum = STATUTORY_FULL_TIME.get(country, DE_STATUTORY_FULL_TIME)
        total = rules.entitlement_by_periods(periods, year=year, contract_days_full_time=employee.annual_leave_days)
        statutory = rules.entitlement_by_periods(periods, year=year, contract_days_full_time=full_time_minimum)
        total = max(total, statutory)
        return rules.Entitlement(statutory=statutory, contractual_extra=total - statutory)
    if country == "CH":
        return _with_minimum(
            lambda days: rules.ch_annual_entitlement(
                year,
                hire_date=employee.hire_date,
                exit_date=employee.exit_date,
                birth_date=employee.birth_date,
                days_per_week=days_per_week,
                contract_days=days,
            ),
            contract,
        )
    if country == "AT":
        return _with_minimum(
            lambda days: rules.at_annual_entitlement(
                year,
                hire_date=employee.hire_date,
                exit_date=employee.exit_date,
                days_per_week=days_per_week,
                contract_days=days,
            ),
            contract,
        )
    return rules.de_annual_entitlement(
        year,
        hire_date=employee.hire_date,
        exit_date=employee.exit_date,
        contract_days=contract,
        days_per_week=days_per_week,
    )


async def _ensure_grants(employee: Employee, year: int, repo: VacationRepository, clock: Clock) -> list[Bucket]:
    """The year's statutory and contractual buckets, granted once (idempotent) on first use."""
    assert employee.id is not None
    # Two first views of a balance at the same moment must not both grant the year.
    await repo.lock_employee(employee.id)
    buckets = await repo.buckets(employee.id)
    if any(b.leave_year == year and b.kind is not BucketKind.CARRYOVER for b in buckets):
        return buckets
    entitlement = year_entitlement(employee, year)
    valid_from = max(date(year, 1, 1), employee.hire_date)
    partial = employee.hire_date.year == year or (employee.exit_date is not None and employee.exit_date.year == year)
    entry_type = EntryType.PRO_RATA_GRANT if partial else EntryType.GRANT
    for kind, amount in (
        (BucketKind.STATUTORY, entitlement.statutory),
        (BucketKind.CONTRACTUAL, entitlement.contractual_extra),
    ):
        bucket = await repo.add_bucket(Bucket(employee.id, kind, year, valid_from))
        assert bucket.id is not None
        await repo.add_entries(
            [
                LedgerEntry(
                    bucket_id=bucket.id,
                    employee_id=employee.id,
                    effective_date=valid_from,
                    amount=amount,
                    entry_type=entry_type,
                    created_by="ess",
                    created_at=clock.now(),
                    reason=f"{kind.value} entitlement {year} ({employee.location.country})",
                )
            ]
        )
        buckets.append(bucket)
    return buckets


async def _employee_of(principal: Principal, uow: UnitOfWork) -> Employee:
    return await load_own_employee(principal, uow.employees)


def _check_year(employee: Employee, year: int, clock: Clock) -> None:
    """Leave years ESS books: from the year of hire to the next calendar year (later ones would be granted on
    today's contract data, which HR may still change)."""
    last = min(clock.today().year + 1, employee.exit_date.year if employee.exit_date else 9999)
    if not employee.hire_date.year <= year <= last:
        raise InvalidInput(
            f"Leave can be shown and requested for {employee.hire_date.year} to {last}.", fields={"as_of": "year"}
        )


async def balance(principal: Principal, as_of: date, *, uow: UnitOfWork, clock: Clock) -> Balance:
    """The caller's balance on a date; past dates show history, future dates the projection."""
    async with uow:
        employee = await _employee_of(principal, uow)
        assert employee.id is not None
        _check_year(employee, as_of.year, clock)
        buckets = await _ensure_grants(employee, as_of.year, uow.vacation, clock)
        await uow.commit()
        entries = await uow.vacation.entries(employee.id)
        requests = await uow.vacation.requests(employee.id)
    return compute_balance(as_of, buckets=buckets, entries=entries, pending=requests)


async def my_requests(principal: Principal, *, uow: UnitOfWork) -> list[LeaveRequest]:
    async with uow:
        employee = await _employee_of(principal, uow)
        assert employee.id is not None
        return sorted(await uow.vacation.requests(employee.id), key=lambda r: r.start, reverse=True)


def _date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _days(value: Decimal) -> str:
    return format(value.normalize(), "f")


_KIND_ORDER = {BucketKind.CARRYOVER: 0, BucketKind.STATUTORY: 1, BucketKind.CONTRACTUAL: 2, BucketKind.SPECIAL: 3}


def shortfall(buckets: Sequence[Bucket], entries: Sequence[LedgerEntry], days: Sequence[LeaveDay]) -> Decimal:
    """How many of `days` no bucket could pay for, taking each day (in date order) from the buckets usable on it,
    soonest-expiring first: days carried over until 31 March cannot pay for July."""
    left = {b.id: bucket_remaining(b, entries) for b in buckets if b.id is not None}
    missing = ZERO
    for day in sorted(days, key=lambda d: d.day):
        need = day.fraction
        usable = sorted(
            (b for b in buckets if b.id is not None and b.leave_year == day.day.year and b.usable_on(day.day)),
            key=lambda b: (b.expires_on or date.max, _KIND_ORDER[b.kind]),
        )
        for bucket in usable:
            key = bucket.id
            assert key is not None
            take = min(need, max(left[key], ZERO))
            left[key] -= take
            need -= take
            if need == 0:
                break
        missing += need
    return missing


async def request_leave(
    cmd: RequestLeave,
    *,
    uow: UnitOfWork,
    calendar: HolidayCalendar,
    clock: Clock,
    policy: VacationPolicy,
    notifier: Notifier | None = None,
) -> LeaveRequest:
    """Validate against the working-day calendar, overlaps and the balance, then file a pending request."""
    if len(cmd.note) > MAX_NOTE:
        raise InvalidInput("The note is too long.", fields={"note": f"at most {MAX_NOTE} characters"})
    async with uow:
        employee = await _employee_of(cmd.principal, uow)
        assert employee.id is not None
        if cmd.start < employee.hire_date or (employee.exit_date and cmd.end > employee.exit_date):
            raise InvalidInput("The leave lies outside your employment.", fields={"start": "outside employment"})
        days = leave_days(
            cmd.start,
            cmd.end,
            pattern_on=employee.pattern_on,
            days_off=days_off_between(calendar, employee.location, cmd.start, cmd.end),
            start_half=cmd.start_half,
            end_half=cmd.end_half,
        )
        if not days:
            raise InvalidInput("There is no working day in this period.", fields={"end": "no working day"})
        # Everything below reads and then writes this employee's leave: one request at a time per employee.
        await uow.vacation.lock_employee(employee.id)
        requests = await uow.vacation.requests(employee.id)
        booked = {d.day for r in requests if r.status in _ACTIVE for d in r.days}
        if clash := sorted(d.day for d in days if d.day in booked):
            raise Conflict("You already have leave on some of these days.", fields={"start": clash[0].isoformat()})
        buckets: list[Bucket] = []
        for year in sorted({d.day.year for d in days}):
            _check_year(employee, year, clock)
            buckets = await _ensure_grants(employee, year, uow.vacation, clock)
        entries = await uow.vacation.entries(employee.id)
        closed_years = {
            b.leave_year
            for b in buckets
            for e in entries
            if e.bucket_id == b.id and e.entry_type is EntryType.CARRY_OUT
        }
        if closed := sorted({d.day.year for d in days} & closed_years):
            raise PolicyViolation(
                f"The leave year {closed[0]} is closed; please ask HR.", fields={"start": "year closed"}
            )
        waiting = [d for r in requests if r.status is RequestStatus.PENDING for d in r.days]
        short = shortfall(buckets, entries, [*waiting, *days])
        if short > policy.allow_overdraft_days:
            wanted = count(days)
            raise PolicyViolation(
                f"Not enough leave for these dates: {wanted - short} of {wanted} days are covered.",
                fields={"end": f"{short} days more than available"},
            )
        request = await uow.vacation.add_request(
            LeaveRequest(
                employee_id=employee.id,
                start=cmd.start,
                end=cmd.end,
                days=tuple(days),
                status=RequestStatus.PENDING,
                created_at=clock.now(),
                start_half=cmd.start_half,
                end_half=cmd.end_half,
                note=cmd.note.strip(),
                substitute=cmd.substitute.strip(),
            )
        )
        await uow.audit.add(_event(clock, cmd.principal, "leave.requested", request, {"days": str(count(days))}))
        managers = await uow.employees.by_personnel_numbers(
            [employee.manager_personnel_number] if employee.manager_personnel_number else []
        )
        await uow.commit()
    manager = next(iter(managers.values()), None)
    if notifier is not None and manager is not None:
        await notifier.notify(
            Notice(
                kind="leave_requested",
                to=(manager.work_email,),
                params={
                    "manager": manager.display_name,
                    "employee": employee.display_name,
                    "start": _date(request.start),
                    "end": _date(request.end),
                    "days": _days(request.total),
                    "note": request.note,
                    "path": "/vacation/team",
                },
            )
        )
    return request


_ACTIVE = frozenset({RequestStatus.PENDING, RequestStatus.APPROVED, RequestStatus.CANCELLATION_REQUESTED})


async def _authorize_decision(principal: Principal, requester: Employee, uow: UnitOfWork) -> None:
    """Only the requester's manager (or HR) decides; nobody decides their own request."""
    if requester.login == principal.login:
        raise PermissionDenied("You cannot decide your own request.")
    if principal.has(Role.HR):
        return
    manager = await uow.employees.get(principal.employee_id) if principal.employee_id else None
    if manager is None or requester.manager_personnel_number != manager.personnel_number:
        raise PermissionDenied("Only the manager of the employee can decide this request.")


async def decide(
    request_id: int,
    *,
    approve: bool,
    comment: str,
    principal: Principal,
    uow: UnitOfWork,
    clock: Clock,
    notifier: Notifier | None = None,
) -> LeaveRequest:
    """Approve (book the days against the soonest-expiring buckets) or reject a pending request."""
    async with uow:
        request = await uow.vacation.request(request_id)
        if request is None:
            raise NotFound("No such request.")
        requester = await uow.employees.get(request.employee_id)
        if requester is None:
            raise NotFound("No such request.")
        await _authorize_decision(principal, requester, uow)
        await uow.vacation.lock_employee(request.employee_id)
        request = await uow.vacation.request(request_id)  # re-read under the lock
        if request is None or request.status is not RequestStatus.PENDING:
            raise Conflict("This request has already been decided or withdrawn.")
        now = clock.now()
        if approve:
            await _book(request, requester, principal, uow, clock)
        decided = replace(
            request,
            status=RequestStatus.APPROVED if approve else RequestStatus.REJECTED,
            decided_by=principal.login,
            decided_at=now,
            decision_comment=comment.strip()[:MAX_NOTE],
        )
        await uow.vacation.update_request(decided, expected=RequestStatus.PENDING)
        await uow.audit.add(
            _event(
                clock,
                principal,
                "leave.approved" if approve else "leave.rejected",
                decided,
                {"employee": requester.login},
            )
        )
        await uow.commit()
    if notifier is not None:
        await notifier.notify(
            Notice(
                kind="leave_decided",
                to=(requester.work_email,),
                params={
                    "employee": requester.display_name,
                    "manager": principal.display_name,
                    "approved": "yes" if approve else "no",
                    "start": _date(decided.start),
                    "end": _date(decided.end),
                    "days": _days(decided.total),
                    "comment": decided.decision_comment,
                    "path": "/vacation",
                },
            )
        )
    return decided


async def _book(
    request: LeaveRequest, requester: Employee, principal: Principal, uow: UnitOfWork, clock: Clock
) -> None:
    assert requester.id is not None and request.id is not None
    for year in sorted({d.day.year for d in request.days}):
        await _ensure_grants(requester, year, uow.vacation, clock)
    buckets = await uow.vacation.buckets(requester.id)
    entries = list(await uow.vacation.entries(requester.id))
    booked: list[LedgerEntry] = []
    for day in request.days:
        # A leave day draws on its own year's buckets; earlier years reach it only through carry-over buckets.
        usable = [b for b in buckets if b.leave_year == day.day.year and b.usable_on(day.day) and b.id is not None]
        if not usable:
            raise PolicyViolation(f"No leave entitlement covers {day.day.isoformat()}.")
        balances = [
            rules.BucketBalance(
                id=str(b.id),
                kind=b.kind.value,
                remaining=bucket_remaining(b, [*entries, *booked]),
                expires_on=b.expires_on,
            )
            for b in usable
        ]
        for bucket_id, amount in rules.allocate(day.fraction, balances):
            booked.append(
                LedgerEntry(
                    bucket_id=int(bucket_id),
                    employee_id=requester.id,
                    effective_date=day.day,
                    amount=-amount,
                    entry_type=EntryType.TAKE,
                    created_by=principal.login,
                    created_at=clock.now(),
                    request_id=request.id,
                )
            )
    await uow.vacation.add_entries(booked)


async def withdraw(request_id: int, *, principal: Principal, uow: UnitOfWork, clock: Clock) -> LeaveRequest:
    """The employee takes back a request nobody has decided yet."""
    async with uow:
        employee = await _employee_of(principal, uow)
        assert employee.id is not None
        await uow.vacation.lock_employee(employee.id)  # against a manager deciding at the same moment
        request = await uow.vacation.request(request_id)
        if request is None or request.employee_id != employee.id:
            raise NotFound("No such request.")  # someone else's request does not exist for the caller
        if request.status is not RequestStatus.PENDING:
            raise Conflict("Only a pending request can be withdrawn.")
        withdrawn = replace(request, status=RequestStatus.WITHDRAWN, decided_by=principal.login, decided_at=clock.now())
        await uow.vacation.update_request(withdrawn, expected=RequestStatus.PENDING)
        await uow.audit.add(_event(clock, principal, "leave.withdrawn", withdrawn, {}))
        await uow.commit()
    return withdrawn


async def request_cancellation(request_id: int, *, principal: Principal, uow: UnitOfWork, clock: Clock) -> LeaveRequest:
    """Ask to cancel approved leave that has not started yet; the manager decides (the days stay booked until then)."""
    async with uow:
        employee = await _employee_of(principal, uow)
        assert employee.id is not None
        await uow.vacation.lock_employee(employee.id)
        request = await uow.vacation.request(request_id)
        if request is None or request.employee_id != employee.id:
            raise NotFound("No such request.")
        if request.status is not RequestStatus.APPROVED:
            raise Conflict("Only approved leave can be cancelled; withdraw a pending request instead.")
        if request.start <= clock.today():
            raise Conflict("Leave that has started can only be changed by HR.")
        asked = replace(request, status=RequestStatus.CANCELLATION_REQUESTED)
        await uow.vacation.update_request(asked, expected=RequestStatus.APPROVED)
        await uow.audit.add(_event(clock, principal, "leave.cancellation_requested", asked, {}))
        await uow.commit()
    return asked


async def decide_cancellation(
    request_id: int, *, approve: bool, comment: str, principal: Principal, uow: UnitOfWork, clock: Clock
) -> LeaveRequest:
    """Approve a cancellation (the booking is reversed, never deleted) or keep the leave as approved."""
    async with uow:
        request = await uow.vacation.request(request_id)
        requester = await uow.employees.get(request.employee_id) if request else None
        if request is None or requester is None:
            raise NotFound("No such request.")
        await _authorize_decision(principal, requester, uow)
        await uow.vacation.lock_employee(request.employee_id)
        request = await uow.vacation.request(request_id)  # re-read under the lock
        if request is None or request.status is not RequestStatus.CANCELLATION_REQUESTED:
            raise Conflict("No cancellation is waiting for a decision.")
        now = clock.now()
        if approve:
            reversals = [
                replace(
                    e,
                    id=None,
                    amount=-e.amount,
                    entry_type=EntryType.REVERSE,
                    created_by=principal.login,
                    created_at=now,
                    reason="cancelled",
                )
                for e in await uow.vacation.entries(request.employee_id)
                if e.request_id == request.id and e.entry_type is EntryType.TAKE
            ]
            await uow.vacation.add_entries(reversals)
        decided = replace(
            request,
            status=RequestStatus.CANCELLED if approve else RequestStatus.APPROVED,
            decided_by=principal.login,
            decided_at=now,
            decision_comment=comment.strip()[:MAX_NOTE],
        )
        await uow.vacation.update_request(decided, expected=RequestStatus.CANCELLATION_REQUESTED)
        action = "leave.cancelled" if approve else "leave.cancellation_rejected"
        await uow.audit.add(_event(clock, principal, action, decided, {"employee": requester.login}))
        await uow.commit()
    return decided


async def request_for_decision(request_id: int, *, principal: Principal, uow: UnitOfWork) -> LeaveRequest:
    """A request as its decider sees it; NotFound / PermissionDenied for everybody else."""
    async with uow:
        request = await uow.vacation.request(request_id)
        requester = await uow.employees.get(request.employee_id) if request else None
        if request is None or requester is None:
            raise NotFound("No such request.")
        await _authorize_decision(principal, requester, uow)
        return request


async def pending_for_decision(principal: Principal, *, uow: UnitOfWork) -> list[tuple[LeaveRequest, Employee]]:
    """Requests waiting for the caller: pending ones and cancellation requests of their direct reports (HR: all)."""
    async with uow:
        if principal.has(Role.HR):
            return await uow.vacation.pending_requests(manager_personnel_number=None)
        manager = await _employee_of(principal, uow)
        return await uow.vacation.pending_requests(manager_personnel_number=manager.personnel_number)


def _event(
    clock: Clock, principal: Principal, action: str, request: LeaveRequest, details: dict[str, str | int | bool | None]
) -> AuditEvent:
    return AuditEvent(
        occurred_at=clock.now(),
        actor=principal.login,
        action=action,
        outcome=Outcome.SUCCESS,
        target=f"leave_request:{request.id}",
        details={"start": request.start.isoformat(), "end": request.end.isoformat(), **details},
    )


@dataclass(frozen=True, slots=True)
class CalendarDay:
    day: date
    leave: Decimal  # 0, 0.5 or 1 day of requested leave
    status: RequestStatus | None
    holiday: str  # name of a public holiday or company day off, or ""
    working: bool  # a working day by the employee's pattern


async def year_calendar(
    principal: Principal, year: int, *, uow: UnitOfWork, calendar: HolidayCalendar
) -> list[CalendarDay]:
    """Every day of a year with the caller's leave, holidays and working days, for the year view."""
    async with uow:
        employee = await _employee_of(principal, uow)
        assert employee.id is not None
        requests = [r for r in await uow.vacation.requests(employee.id) if r.status in _ACTIVE]
    booked = {d.day: (d.fraction, r.status) for r in requests for d in r.days}
    days_off = calendar.days_off(employee.location, year)
    result: list[CalendarDay] = []
    day = date(year, 1, 1)
    while day.year == year:
        fraction, status = booked.get(day, (ZERO, None))
        off = days_off.get(day)
        result.append(
            CalendarDay(
                day=day,
                leave=fraction,
                status=status,
                holiday=off.name if off else "",
                working=employee.pattern_on(day).days[day.weekday()] > 0,
            )
        )
        day = date.fromordinal(day.toordinal() + 1)
    return result


async def decide_waiting(
    request_id: int,
    *,
    approve: bool,
    comment: str,
    principal: Principal,
    uow: UnitOfWork,
    clock: Clock,
    notifier: Notifier | None = None,
) -> LeaveRequest:
    """Decide whatever the request is waiting for: the leave itself, or its cancellation."""
    waiting = await request_for_decision(request_id, principal=principal, uow=uow)
    if waiting.status is RequestStatus.CANCELLATION_REQUESTED:
        return await decide_cancellation(
            request_id, approve=approve, comment=comment, principal=principal, uow=uow, clock=clock
        )
    return await decide(
        request_id, approve=approve, comment=comment, principal=principal, uow=uow, clock=clock, notifier=notifier
    )


async def grant_year(
    year: int, *, uow: UnitOfWork, clock: Clock, progress: Callable[[int, int], None] | None = None
) -> int:
    """Book the year's entitlement for everybody employed in it (idempotent); returns how many were granted now."""
    async with uow:
        numbers = sorted(await uow.employees.all_personnel_numbers())
        employees = await uow.employees.by_personnel_numbers(numbers)
    employed = [
        e
        for e in employees.values()
        if e.hire_date <= date(year, 12, 31) and (e.exit_date is None or e.exit_date.year >= year)
    ]
    granted = 0
    for done, employee in enumerate(employed, start=1):
        assert employee.id is not None
        async with uow:
            buckets = await uow.vacation.buckets(employee.id)
            had = any(b.leave_year == year and b.kind is not BucketKind.CARRYOVER for b in buckets)
            await _ensure_grants(employee, year, uow.vacation, clock)
            await uow.commit()
        granted += 0 if had else 1
        if progress is not None:
            progress(done, len(employed))
    return granted


def _carry_over_expiry(country: str, leave_year: int, warnings: list[rules.ExpiryWarning]) -> date | None:
    """Until when days left over from `leave_year` can still be taken, by the law of the work location."""
    if country == "AT":
        return rules.at_limitation_date(leave_year)
    if country == "CH":
        return rules.ch_limitation_date(leave_year)
    # BUrlG §7(3) with the duty to warn: without a warning in time the days do not lapse (None).
    return rules.de_expiry_date(leave_year, warnings=warnings, transfer=True)


@dataclass(frozen=True, slots=True)
class CloseYearResult:
    carried: int  # employees whose days moved on now
    waiting: list[str]  # personnel numbers skipped: requests of that year still wait for a decision


async def close_year(
    year: int, *, uow: UnitOfWork, clock: Clock, progress: Callable[[int, int], None] | None = None
) -> CloseYearResult:
    """Move what is left of `year` into `year`+1. Days carried over before keep their own deadline; the year's own
    days get the legal one (DE: 31 March only if warned in time, AT 2 years, CH 5 years). Negative balances move
    on as well. Idempotent; employees with undecided requests in `year` are skipped and named."""
    year_end = date(year, 12, 31)
    async with uow:
        employees = list(
            (await uow.employees.by_personnel_numbers(sorted(await uow.employees.all_personnel_numbers()))).values()
        )
    carried, waiting = 0, []
    for done, employee in enumerate(employees, start=1):
        assert employee.id is not None
        async with uow:
            await uow.vacation.lock_employee(employee.id)
            undecided = [
                r
                for r in await uow.vacation.requests(employee.id)
                if r.status in (RequestStatus.PENDING, RequestStatus.CANCELLATION_REQUESTED)
                and any(d.day.year == year for d in r.days)
            ]
            if undecided:
                waiting.append(employee.personnel_number)
            elif await _carry_over(employee, year, year_end, uow, clock):
                carried += 1
            await uow.commit()
        if progress is not None:
            progress(done, len(employees))
    return CloseYearResult(carried=carried, waiting=waiting)


async def _carry_over(employee: Employee, year: int, year_end: date, uow: UnitOfWork, clock: Clock) -> bool:
    assert employee.id is not None
    buckets = await uow.vacation.buckets(employee.id)
    entries = await uow.vacation.entries(employee.id)
    closed = {e.bucket_id for e in entries if e.entry_type is EntryType.CARRY_OUT}
    sources = [
        b
        for b in buckets
        if b.leave_year == year
        and b.id not in closed
        and bucket_remaining(b, entries) != 0
        and (b.expires_on is None or b.expires_on > year_end)  # lapsed days are the expiry job's business
    ]
    if not sources:
        return False
    warnings = await uow.vacation.warnings(employee.id, year)
    legal = _carry_over_expiry(employee.location.country, year, warnings)
    groups: dict[date | None, list[Bucket]] = {}
    for bucket in sources:
        keeps_deadline = bucket.kind is BucketKind.CARRYOVER and bucket.expires_on is not None
        groups.setdefault(bucket.expires_on if keeps_deadline else legal, []).append(bucket)
    moves: list[LedgerEntry] = []
    for expires_on, group in groups.items():
        total = sum((bucket_remaining(b, entries) for b in group), ZERO)
        target = await uow.vacation.add_bucket(
            Bucket(employee.id, BucketKind.CARRYOVER, year + 1, date(year + 1, 1, 1), expires_on)
        )
        assert target.id is not None
        for bucket in group:
            assert bucket.id is not None
            moves.append(
                _entry(
                    bucket.id,
                    employee.id,
                    date(year + 1, 1, 1),
                    -bucket_remaining(bucket, entries),
                    EntryType.CARRY_OUT,
                    author="close-year",
                    clock=clock,
                    reason=f"carried into {year + 1}",
                )
            )
        until = f"may be taken until {expires_on.isoformat()}" if expires_on else "does not lapse"
        moves.append(
            _entry(
                target.id,
                employee.id,
                date(year + 1, 1, 1),
                total,
                EntryType.CARRY_IN,
                author="close-year",
                clock=clock,
                reason=f"left over from {year}, {until}",
            )
        )
    await uow.vacation.add_entries(moves)
    return True


def _entry(
    bucket_id: int,
    employee_id: EmployeeId,
    day: date,
    amount: Decimal,
    entry_type: EntryType,
    *,
    author: str,
    clock: Clock,
    reason: str,
) -> LedgerEntry:
    return LedgerEntry(
        bucket_id=bucket_id,
        employee_id=employee_id,
        effective_date=day,
        amount=amount,
        entry_type=entry_type,
        created_by=author,
        created_at=clock.now(),
        reason=reason,
    )


async def expire_due(today: date, *, uow: UnitOfWork, clock: Clock) -> Decimal:
    """Book the lapse of carried-over days whose deadline has passed (idempotent). Returns the days that lapsed."""
    async with uow:
        numbers = sorted(await uow.employees.all_personnel_numbers())
        employees = list((await uow.employees.by_personnel_numbers(numbers)).values())
    lapsed = ZERO
    for employee in employees:
        assert employee.id is not None
        async with uow:
            await uow.vacation.lock_employee(employee.id)
            entries = await uow.vacation.entries(employee.id)
            expiring = [
                b
                for b in await uow.vacation.buckets(employee.id)
                if b.expires_on is not None and b.expires_on < today and bucket_remaining(b, entries) > 0
            ]
            booked = []
            for bucket in expiring:
                assert bucket.id is not None and bucket.expires_on is not None
                left = bucket_remaining(bucket, entries)
                lapsed += left
                booked.append(
                    LedgerEntry(
                        bucket_id=bucket.id,
                        employee_id=employee.id,
                        effective_date=date.fromordinal(bucket.expires_on.toordinal() + 1),
                        amount=-left,
                        entry_type=EntryType.EXPIRE,
                        created_by="expire",
                        created_at=clock.now(),
                        reason=f"not taken by {bucket.expires_on.isoformat()}",
                    )
                )
            await uow.vacation.add_entries(booked)
            await uow.commit()
    return lapsed


async def send_expiry_warnings(year: int, *, uow: UnitOfWork, clock: Clock, notifier: Notifier) -> int:
    """The employer's duty to warn (EuGH C-684/16, BAG 9 AZR 541/15): tell everyone in DE with days of `year` left
    how many and until when, and record the warning as evidence. Returns the number of warnings sent."""
    deadline = date(year + 1, 3, 31)  # §7(3) BUrlG: carried-over leave must be taken by 31 March
    today = clock.today()
    async with uow:
        employees = list(
            (await uow.employees.by_personnel_numbers(sorted(await uow.employees.all_personnel_numbers()))).values()
        )
    sent = 0
    for employee in employees:
        if employee.location.country != "DE" or employee.id is None or not employee.is_employed_on(today):
            continue
        async with uow:
            buckets = await uow.vacation.buckets(employee.id)
            entries = await uow.vacation.entries(employee.id)
            requests = await uow.vacation.requests(employee.id)
            left = compute_balance(date(year, 12, 31), buckets=buckets, entries=entries, pending=requests).remaining
            if left <= 0:
                continue
            warning = rules.ExpiryWarning(sent_on=today, days_stated=left, deadline_stated=deadline)
            await uow.vacation.add_warning(employee.id, year, warning, channel="email", recipient=employee.work_email)
            await uow.commit()
        await notifier.notify(
            Notice(
                kind="leave_expiry_warning",
                to=(employee.work_email,),
                params={
                    "employee": employee.display_name,
                    "days": _days(left),
                    "year": str(year),
                    "deadline": _date(deadline),
                    "path": "/vacation",
                },
            )
        )
        sent += 1
    return sent


async def adjust(
    personnel_number: str, year: int, days: Decimal, reason: str, *, principal: Principal, uow: UnitOfWork, clock: Clock
) -> Balance:
    """HR corrects an entitlement (e.g. a leave certificate from the previous employer, BUrlG §6): a signed entry
    with reason and author in the year's special bucket, never an edit of earlier entries."""
    if not principal.has(Role.HR):
        raise PermissionDenied("Only HR can adjust leave entitlements.")
    if not reason.strip():
        raise InvalidInput("Give a reason for the adjustment.", fields={"reason": "required"})
    if days == 0 or days % Decimal("0.5") != 0 or abs(days) > 100:
        raise InvalidInput("Adjust by whole or half days.", fields={"days": "whole or half days, not 0"})
    async with uow:
        employee = (await uow.employees.by_personnel_numbers([personnel_number])).get(personnel_number)
        if employee is None or employee.id is None:
            raise NotFound("No such employee.")
        if employee.login == principal.login:
            raise PermissionDenied("Nobody adjusts their own leave; ask a colleague in HR.")
        await uow.vacation.lock_employee(employee.id)
        buckets = await _ensure_grants(employee, year, uow.vacation, clock)
        special = next((b for b in buckets if b.leave_year == year and b.kind is BucketKind.SPECIAL), None)
        if special is None:
            special = await uow.vacation.add_bucket(
                Bucket(employee.id, BucketKind.SPECIAL, year, max(date(year, 1, 1), employee.hire_date))
            )
        assert special.id is not None
        await uow.vacation.add_entries(
            [
                LedgerEntry(
                    bucket_id=special.id,
                    employee_id=employee.id,
                    effective_date=special.valid_from,
                    amount=days,
                    entry_type=EntryType.ADJUST,
                    created_by=principal.login,
                    created_at=clock.now(),
                    reason=reason.strip()[:MAX_NOTE],
                )
            ]
        )
        await uow.audit.add(
            AuditEvent(
                occurred_at=clock.now(),
                actor=principal.login,
                action="leave.adjusted",
                outcome=Outcome.SUCCESS,
                target=employee.login,
                details={"year": year, "days": str(days)},
            )
        )
        await uow.commit()
        entries = await uow.vacation.entries(employee.id)
        requests = await uow.vacation.requests(employee.id)
        buckets = await uow.vacation.buckets(employee.id)
    return compute_balance(date(year, 12, 31), buckets=buckets, entries=entries, pending=requests)


async def create_feed(principal: Principal, *, uow: UnitOfWork, clock: Clock) -> str:
    """A private iCal feed of the caller's leave: the token is shown once and stored as a hash."""
    token = new_secret_token()
    async with uow:
        employee = await _employee_of(principal, uow)
        assert employee.id is not None
        await uow.vacation.add_feed_token(employee.id, hash_token(token), clock.now())
        await uow.commit()
    return token


async def revoke_feed(principal: Principal, *, uow: UnitOfWork, clock: Clock) -> None:
    async with uow:
        employee = await _employee_of(principal, uow)
        assert employee.id is not None
        await uow.vacation.revoke_feed_tokens(employee.id, clock.now())
        await uow.commit()


async def feed(token: str, *, uow: UnitOfWork, clock: Clock) -> tuple[Employee, list[LeaveRequest]]:
    """The owner of a feed token and their approved and pending leave; NotFound for unknown or revoked tokens."""
    async with uow:
        owner = await uow.vacation.feed_owner(hash_token(token))
        employee = await uow.employees.get(owner) if owner is not None else None
        if employee is None or employee.id is None or (employee.exit_date and employee.exit_date < clock.today()):
            raise NotFound("No such calendar.")  # a revoked link, or someone who has left
        requests = [r for r in await uow.vacation.requests(employee.id) if r.status in _ACTIVE]
    return employee, requests


@dataclass(frozen=True, slots=True)
class TeamMember:
    name: str
    absences: list[tuple[date, Decimal, RequestStatus | None]]  # status only shown to the manager


async def team_calendar(principal: Principal, start: date, days: int, *, uow: UnitOfWork) -> list[TeamMember]:
    """Who is away when. The manager sees their reports with the status of each request; everyone else sees their
    colleagues (same manager) only as "absent" on approved days, nothing more (data minimisation)."""
    end = date.fromordinal(start.toordinal() + days - 1)
    async with uow:
        me = await _employee_of(principal, uow)
        everyone = await uow.employees.by_personnel_numbers(sorted(await uow.employees.all_personnel_numbers()))
        if principal.has(Role.MANAGER):
            members = [e for e in everyone.values() if e.manager_personnel_number == me.personnel_number]
            details = True
        else:
            members = [
                e
                for e in everyone.values()
                if me.manager_personnel_number and e.manager_personnel_number == me.manager_personnel_number
            ]
            details = False
        result: list[TeamMember] = []
        for member in sorted(members, key=lambda e: (e.last_name, e.first_name)):
            assert member.id is not None
            absences = [
                (d.day, d.fraction, r.status if details else None)
                for r in await uow.vacation.requests(member.id)
                if r.status in _ACTIVE and (details or r.status is not RequestStatus.PENDING)
                for d in r.days
                if start <= d.day <= end
            ]
            result.append(TeamMember(member.display_name, absences))
    return result
