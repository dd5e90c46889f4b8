"""Use case: HR corrects an employee's entitlement by whole or half days, with a reason."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.auth.model import Principal
from ess.domain.errors import InvalidInput, NotFound, PermissionDenied
from ess.domain.hr.model import Role
from ess.domain.vacation.entitlement import ledger_entry
from ess.domain.vacation.model import Balance, Bucket, BucketKind, EntryType, compute_balance
from ess.domain.vacation.ports import VacationDeps
from ess.domain.vacation.recompute import bring_up_to_date, carry_on
from ess.domain.vacation.requests import MAX_NOTE

MAX_ADJUSTMENT = 100


async def adjust(
    personnel_number: str, year: int, days: Decimal, reason: str, *, principal: Principal, deps: VacationDeps
) -> Balance:
    """HR corrects an entitlement (e.g. a leave certificate from the previous employer, BUrlG §6): a signed entry
    with reason and author in the year's special bucket, never an edit of earlier entries."""
    if not principal.has(Role.HR):
        raise PermissionDenied("Only HR can adjust leave entitlements.")
    if not reason.strip():
        raise InvalidInput("Give a reason for the adjustment.", fields={"reason": "required"})
    if days == 0 or days % Decimal("0.5") != 0 or abs(days) > MAX_ADJUSTMENT:
        raise InvalidInput("Adjust by whole or half days.", fields={"days": "whole or half days, not 0"})
    async with deps.new_uow() as uow:
        employee = (await uow.employees.by_personnel_numbers([personnel_number])).get(personnel_number)
        if employee is None or employee.id is None:
            raise NotFound("No such employee.")
        if employee.login == principal.login:
            raise PermissionDenied("Nobody adjusts their own leave; ask a colleague in HR.")
        ledger = await bring_up_to_date(employee, [year], uow, deps.clock)
        special = next((b for b in ledger.buckets if b.leave_year == year and b.kind is BucketKind.SPECIAL), None)
        if special is None:
            special = await uow.vacation.add_bucket(
                Bucket(employee.id, BucketKind.SPECIAL, year, max(date(year, 1, 1), employee.hire_date))
            )
            ledger.buckets.append(special)
        assert special.id is not None
        entry = ledger_entry(
            special.id,
            employee.id,
            special.valid_from,
            days,
            EntryType.ADJUST,
            author=principal.login,
            clock=deps.clock,
            reason=reason.strip()[:MAX_NOTE],
        )
        await uow.vacation.add_entries([entry])
        ledger.entries.append(entry)
        if year in ledger.closed:
            # A closed year passes the correction on to the next one, as close-year would have.
            await carry_on(employee, year, ledger, uow, deps.clock, author=principal.login)
        await uow.audit.add(
            AuditEvent(
                occurred_at=deps.clock.now(),
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
