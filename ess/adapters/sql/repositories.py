"""Repositories: translate between domain objects and table rows; no business rules here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, exists, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ess.adapters.sql.tables import (
    ApiTokenRow,
    AuditEventRow,
    EmployeeRow,
    OrgUnitRow,
    RoleAssignmentRow,
    WorkPatternRow,
)
from ess.domain.audit import AuditEvent, Outcome
from ess.domain.auth.model import ApiToken
from ess.domain.hr.model import (
    Employee,
    OrgUnit,
    PostalAddress,
    Role,
    WorkLocation,
    WorkPattern,
)
from ess.domain.types import EmployeeId


# Built once: a new alias per load costs milliseconds and defeats SQLAlchemy's statement cache.
_MANAGER = aliased(EmployeeRow, name="manager")


class SqlEmployeeRepository:
    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self._session = session
        self._now = now

    async def _load(self, *where: Any) -> list[Employee]:
        manager = _MANAGER
        stmt = (
            select(EmployeeRow, manager.personnel_number, OrgUnitRow)
            .outerjoin(manager, EmployeeRow.manager_id == manager.id)
            .outerjoin(OrgUnitRow, EmployeeRow.org_unit_id == OrgUnitRow.id)
            .where(*where)
            .order_by(EmployeeRow.id)
        )
        rows = (await self._session.execute(stmt)).all()
        if not rows:
            return []
        ids = [row[0].id for row in rows]
        roles: dict[int, set[Role]] = {}
        role_rows = await self._session.execute(
            select(RoleAssignmentRow.employee_id, RoleAssignmentRow.role).where(RoleAssignmentRow.employee_id.in_(ids))
        )
        for employee_id, role in role_rows:
            roles.setdefault(employee_id, set()).add(Role(role))
        history: dict[int, list[tuple[date, WorkPattern]]] = {}
        pattern_rows = await self._session.execute(
            select(WorkPatternRow.employee_id, WorkPatternRow.valid_from, WorkPatternRow.pattern)
            .where(WorkPatternRow.employee_id.in_(ids))
            .order_by(WorkPatternRow.valid_from)
        )
        for employee_id, valid_from, pattern in pattern_rows:
            history.setdefault(employee_id, []).append((valid_from, WorkPattern.parse(pattern)))
        return [
            replace(
                _to_employee(row, boss, org, frozenset(roles.get(row.id, ()))),
                pattern_history=tuple(history.get(row.id, ())),
            )
            for row, boss, org in rows
        ]

    async def get(self, employee_id: EmployeeId) -> Employee | None:
        found = await self._load(EmployeeRow.id == employee_id)
        return found[0] if found else None

    async def by_login(self, login: str) -> Employee | None:
        found = await self._load(EmployeeRow.login == login)
        return found[0] if found else None

    async def by_personnel_numbers(self, numbers: Sequence[str]) -> dict[str, Employee]:
        result: dict[str, Employee] = {}
        for start in range(0, len(numbers), 500):  # keep IN lists within every database's parameter limit
            for employee in await self._load(EmployeeRow.personnel_number.in_(numbers[start : start + 500])):
                result[employee.personnel_number] = employee
        return result

    async def logins_in_use(self, logins: Sequence[str]) -> dict[str, str]:
        result: dict[str, str] = {}
        for start in range(0, len(logins), 500):
            rows = await self._session.execute(
                select(EmployeeRow.login, EmployeeRow.personnel_number).where(
                    EmployeeRow.login.in_(logins[start : start + 500])
                )
            )
            result.update(rows.tuples().all())
        return result

    async def all_personnel_numbers(self) -> set[str]:
        return set((await self._session.scalars(select(EmployeeRow.personnel_number))).all())

    async def has_reports(self, employee_id: EmployeeId) -> bool:
        return bool(await self._session.scalar(select(exists().where(EmployeeRow.manager_id == employee_id))))

    async def manager_links(self) -> dict[str, str | None]:
        manager = _MANAGER
        rows = await self._session.execute(
            select(EmployeeRow.personnel_number, manager.personnel_number).outerjoin(
                manager, EmployeeRow.manager_id == manager.id
            )
        )
        return dict(rows.tuples().all())

    async def save_all(self, employees: Sequence[Employee], *, progress: Callable[[int], None] | None = None) -> None:
        org_ids = await self._save_org_units([e.org_unit for e in employees if e.org_unit is not None])
        numbers = [e.personnel_number for e in employees]
        existing: dict[str, EmployeeRow] = {}
        for start in range(0, len(numbers), 500):
            batch = await self._session.scalars(
                select(EmployeeRow).where(EmployeeRow.personnel_number.in_(numbers[start : start + 500]))
            )
            existing.update({row.personnel_number: row for row in batch})
        # Logins may move between people in one file (a swap): free them first so the unique index holds.
        moved = [row.id for e in employees if (row := existing.get(e.personnel_number)) and row.login != e.login]
        if moved:
            await self._session.execute(
                update(EmployeeRow)
                .where(EmployeeRow.id.in_(moved))
                .values(login=literal("~") + EmployeeRow.personnel_number)
            )
            await self._session.flush()
        rows: dict[str, EmployeeRow] = {}
        for done, employee in enumerate(employees, start=1):
            row = existing.get(employee.personnel_number)
            if row is None:
                row = EmployeeRow(personnel_number=employee.personnel_number)
                self._session.add(row)
            _copy_into(row, employee, org_ids, self._now)
            rows[employee.personnel_number] = row
            if done % 500 == 0:
                await self._session.flush()
            if progress is not None:
                progress(done)
        await self._session.flush()

        wanted = {e.manager_personnel_number for e in employees if e.manager_personnel_number}
        missing = sorted(wanted - rows.keys())
        manager_ids = {number: row.id for number, row in rows.items()}
        if missing:
            found = await self._session.execute(
                select(EmployeeRow.personnel_number, EmployeeRow.id).where(EmployeeRow.personnel_number.in_(missing))
            )
            manager_ids.update(found.tuples().all())
        for employee in employees:
            boss = employee.manager_personnel_number
            rows[employee.personnel_number].manager_id = manager_ids[boss] if boss else None

        ids = [row.id for row in rows.values()]
        await self._save_patterns(employees, rows)
        await self._session.execute(delete(RoleAssignmentRow).where(RoleAssignmentRow.employee_id.in_(ids)))
        self._session.add_all(
            RoleAssignmentRow(employee_id=rows[e.personnel_number].id, role=role.value)
            for e in employees
            for role in sorted(e.roles)
        )
        await self._session.flush()

    async def _save_patterns(self, employees: Sequence[Employee], rows: dict[str, EmployeeRow]) -> None:
        """Keep the pattern history: a changed pattern starts a new period (from the given date, else today)."""
        ids = [row.id for row in rows.values()]
        latest: dict[int, WorkPatternRow] = {}
        for pattern_row in await self._session.scalars(
            select(WorkPatternRow).where(WorkPatternRow.employee_id.in_(ids)).order_by(WorkPatternRow.valid_from)
        ):
            latest[pattern_row.employee_id] = pattern_row
        for employee in employees:
            row = rows[employee.personnel_number]
            text = str(employee.work_pattern)
            last = latest.get(row.id)
            if last is not None and last.pattern == text:
                continue
            since = employee.work_pattern_since or employee.hire_date
            # Periods starting on or after `since` are replaced: the new pattern applies from then on.
            await self._session.execute(
                delete(WorkPatternRow).where(WorkPatternRow.employee_id == row.id, WorkPatternRow.valid_from >= since)
            )
            self._session.add(WorkPatternRow(employee_id=row.id, valid_from=since, pattern=text))
        await self._session.flush()

    async def _save_org_units(self, units: Sequence[OrgUnit]) -> dict[str, int]:
        by_code = {unit.code: unit for unit in units}
        if not by_code:
            return {}
        rows = {
            row.code: row
            for row in await self._session.scalars(select(OrgUnitRow).where(OrgUnitRow.code.in_(list(by_code))))
        }
        for code, unit in by_code.items():
            row = rows.get(code)
            if row is None:
                rows[code] = row = OrgUnitRow(code=code, name=unit.name)
                self._session.add(row)
            row.name = unit.name
        await self._session.flush()
        return {code: row.id for code, row in rows.items()}


def _copy_into(row: EmployeeRow, e: Employee, org_ids: dict[str, int], now: datetime) -> None:
    values: dict[str, Any] = {
        "login": e.login,
        "first_name": e.first_name,
        "last_name": e.last_name,
        "preferred_name": e.preferred_name,
        "birth_date": e.birth_date,
        "work_email": e.work_email,
        "private_email": e.private_email,
        "work_phone": e.work_phone,
        "mobile_phone": e.mobile_phone,
        "private_phone": e.private_phone,
        "street": e.address.street,
        "postal_code": e.address.postal_code,
        "city": e.address.city,
        "address_country": e.address.country,
        "hire_date": e.hire_date,
        "exit_date": e.exit_date,
        "country": e.location.country,
        "subdivision": e.location.subdivision,
        "work_pattern": str(e.work_pattern),
        "annual_leave_days": e.annual_leave_days,
        "org_unit_id": org_ids[e.org_unit.code] if e.org_unit else None,
        "cost_center": e.cost_center,
    }
    if getattr(row, "private_email", None) != e.private_email:
        # HR is a trusted source: an imported private e-mail counts as verified for recovery links.
        row.private_email_verified_at = now if e.private_email else None
    changed = any(getattr(row, key, None) != value for key, value in values.items())
    for key, value in values.items():
        setattr(row, key, value)
    if changed or row.updated_at is None:
        row.updated_at = now


def _to_employee(
    row: EmployeeRow, manager_number: str | None, org: OrgUnitRow | None, roles: frozenset[Role]
) -> Employee:
    return Employee(
        id=EmployeeId(row.id),
        personnel_number=row.personnel_number,
        login=row.login,
        first_name=row.first_name,
        last_name=row.last_name,
        preferred_name=row.preferred_name,
        birth_date=row.birth_date,
        work_email=row.work_email,
        private_email=row.private_email,
        work_phone=row.work_phone,
        mobile_phone=row.mobile_phone,
        private_phone=row.private_phone,
        address=PostalAddress(row.street, row.postal_code, row.city, row.address_country),
        hire_date=row.hire_date,
        exit_date=row.exit_date,
        location=WorkLocation(row.country, row.subdivision),
        work_pattern=WorkPattern.parse(row.work_pattern),
        annual_leave_days=row.annual_leave_days,
        manager_personnel_number=manager_number,
        org_unit=OrgUnit(org.code, org.name) if org else None,
        cost_center=row.cost_center,
        roles=roles,
    )


class SqlAuditLog:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, event: AuditEvent) -> None:
        self._session.add(
            AuditEventRow(
                occurred_at=event.occurred_at,
                actor=event.actor[:256],
                action=event.action,
                target=event.target[:256],
                client_address=event.client_address[:64],
                outcome=event.outcome.value,
                details=dict(event.details),
            )
        )

    async def recent(self, limit: int = 50, *, actor: str | None = None) -> list[AuditEvent]:
        stmt = select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(limit)
        if actor is not None:
            stmt = stmt.where(AuditEventRow.actor == actor)
        return [
            AuditEvent(
                occurred_at=row.occurred_at,
                actor=row.actor,
                action=row.action,
                outcome=Outcome(row.outcome),
                target=row.target,
                client_address=row.client_address,
                details=row.details,
            )
            for row in await self._session.scalars(stmt)
        ]


class SqlApiTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, token: ApiToken) -> None:
        self._session.add(
            ApiTokenRow(
                token_hash=token.token_hash,
                login=token.login,
                created_at=token.created_at,
                expires_at=token.expires_at,
                revoked_at=token.revoked_at,
            )
        )

    async def by_hash(self, token_hash: str) -> ApiToken | None:
        row = await self._session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == token_hash))
        if row is None:
            return None
        return ApiToken(row.token_hash, row.login, row.created_at, row.expires_at, row.revoked_at)

    async def revoke(self, token_hash: str, at: datetime) -> None:
        await self._session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.token_hash == token_hash, ApiTokenRow.revoked_at.is_(None))
            .values(revoked_at=at)
        )

    async def revoke_all_for(self, login: str, at: datetime) -> int:
        result = await self._session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.login == login, ApiTokenRow.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return int(getattr(result, "rowcount", 0) or 0)
