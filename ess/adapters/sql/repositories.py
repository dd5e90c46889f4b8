"""Repositories: translate between domain objects and table rows; no business rules here."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from typing import Any, Final, TypeVar

from sqlalchemy import Select, bindparam, delete, exists, insert, literal, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ess.adapters.sql.database import READ_ONLY, select_rows
from ess.adapters.sql.tables import (
    ApiTokenRow,
    AuditEventRow,
    EmployeeRow,
    OrgUnitRow,
    RoleAssignmentRow,
    WorkPatternRow,
)
from ess.domain.audit import GENESIS, AuditEvent, Outcome, chain_hash
from ess.domain.auth.model import ApiToken
from ess.domain.hr.model import (
    Employee,
    OrgUnit,
    PostalAddress,
    Role,
    WorkLocation,
    WorkPattern,
)
from ess.domain.shared import WriteNeeded
from ess.domain.types import EmployeeId

_IMPORTED_COLUMNS: Final = (
    "personnel_number",
    "login",
    "first_name",
    "last_name",
    "preferred_name",
    "birth_date",
    "work_email",
    "private_email",
    "work_phone",
    "mobile_phone",
    "private_phone",
    "street",
    "postal_code",
    "city",
    "address_country",
    "hire_date",
    "exit_date",
    "country",
    "subdivision",
    "work_pattern",
    "annual_leave_days",
    "org_unit_id",
    "cost_center",
)
# Every IN list is cut into chunks of this size: within every database's parameter limit (PostgreSQL: 32,767).
CHUNK = 500
T = TypeVar("T")


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Built once: a new alias per load costs milliseconds and defeats SQLAlchemy's statement cache.
_MANAGER = aliased(EmployeeRow, name="manager")
_E = EmployeeRow.__table__.c
_BOSS = EmployeeRow.__table__.alias("boss")
_ORG = OrgUnitRow.__table__
_ROLE = RoleAssignmentRow.__table__
_PATTERN = WorkPatternRow.__table__
# An employee with manager, unit, roles and pattern periods in one statement: one row per role and period (an
# employee has one to three of each), so one round trip per load instead of two.
_EMPLOYEES = (
    select(
        *EmployeeRow.__table__.c,
        _BOSS.c.personnel_number.label("manager_number"),
        _ORG.c.code.label("org_code"),
        _ORG.c.name.label("org_name"),
        _ROLE.c.role.label("role"),
        _PATTERN.c.valid_from.label("pattern_from"),
        _PATTERN.c.pattern.label("pattern_value"),
    )
    .select_from(
        EmployeeRow.__table__.outerjoin(_BOSS, _E.manager_id == _BOSS.c.id)
        .outerjoin(_ORG, _E.org_unit_id == _ORG.c.id)
        .outerjoin(_ROLE, _ROLE.c.employee_id == _E.id)
        .outerjoin(_PATTERN, _PATTERN.c.employee_id == _E.id)
    )
    .order_by(_E.id)
)
# The hot loads built once with bound parameters: SQLAlchemy neither rebuilds nor re-keys them per request.
_BY_ID = _EMPLOYEES.where(_E.id == bindparam("employee_id"))
_BY_LOGIN = _EMPLOYEES.where(_E.login == bindparam("login"))
_BY_NUMBERS = _EMPLOYEES.where(_E.personnel_number.in_(bindparam("numbers", expanding=True)))


class SqlEmployeeRepository:
    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self._session = session
        self._now = now

    async def _load(self, statement: Select[Any], parameters: dict[str, Any]) -> list[Employee]:
        heads: dict[int, Any] = {}
        roles: dict[int, set[Role]] = {}
        history: dict[int, dict[date, str]] = {}
        for row in await select_rows(self._session, statement, parameters):
            heads.setdefault(row.id, row)
            if row.role is not None:
                roles.setdefault(row.id, set()).add(Role(row.role))
            if row.pattern_from is not None:
                history.setdefault(row.id, {})[row.pattern_from] = row.pattern_value
        return [
            _to_employee(
                row,
                frozenset(roles.get(employee_id, ())),
                tuple(
                    (since, WorkPattern.parse(value)) for since, value in sorted(history.get(employee_id, {}).items())
                ),
            )
            for employee_id, row in heads.items()
        ]

    async def get(self, employee_id: EmployeeId) -> Employee | None:
        found = await self._load(_BY_ID, {"employee_id": employee_id})
        return found[0] if found else None

    async def by_login(self, login: str) -> Employee | None:
        found = await self._load(_BY_LOGIN, {"login": login})
        return found[0] if found else None

    async def by_personnel_numbers(self, numbers: Sequence[str]) -> dict[str, Employee]:
        result: dict[str, Employee] = {}
        for chunk in chunks(numbers):  # keep IN lists within every database's parameter limit
            for employee in await self._load(_BY_NUMBERS, {"numbers": list(chunk)}):
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
        """Insert or update employees by personnel number, with their managers, pattern histories and roles.

        Set-based and a chunk at a time, so time grows with the rows, not their square, and memory holds one
        chunk's stored rows: per chunk one read of the stored columns and one bulk UPDATE of what changed (a
        changed login only once every login that moves is freed), then one bulk INSERT per chunk of new rows;
        nothing written for rows that did not change. Kept for every row: its id and manager."""
        units = {e.org_unit.code: e.org_unit for e in employees if e.org_unit is not None}
        org_ids = await self._save_org_units(list(units.values()))
        ids: dict[str, int] = {}
        managers: dict[str, int | None] = {}
        changed: list[dict[str, Any]] = []
        moved: list[int] = []
        for chunk in chunks(employees):
            found = await self._session.execute(
                select(*_STORED).where(EmployeeRow.personnel_number.in_([e.personnel_number for e in chunk]))
            )
            stored = {row.personnel_number: row for row in found}
            ready: list[dict[str, Any]] = []
            for employee in chunk:
                before = stored.get(employee.personnel_number)
                if before is None:
                    continue
                ids[employee.personnel_number], managers[employee.personnel_number] = before.id, before.manager_id
                if values := _row_values(employee, before, org_ids, self._now):
                    # A new login waits until every login that moves is freed; the rest is written right away.
                    (changed if "login" in values else ready).append({"id": before.id, **values})
                if before.login != employee.login:
                    moved.append(before.id)
            if ready:
                await self._session.execute(update(EmployeeRow), ready)
        # Logins may move between people in one file (a swap): free them first so the unique index holds.
        for moved_ids in chunks(moved):
            await self._session.execute(
                update(EmployeeRow)
                .where(EmployeeRow.id.in_(moved_ids))
                .values(login=literal("~") + EmployeeRow.personnel_number)
                .execution_options(synchronize_session=False)
            )
        for batch in chunks(changed):
            await self._session.execute(update(EmployeeRow), list(batch))
        for done, chunk in enumerate(chunks(employees), start=1):
            new = [
                {"personnel_number": e.personnel_number, **_row_values(e, None, org_ids, self._now)}
                for e in chunk
                if e.personnel_number not in managers
            ]
            if new:
                inserted = await self._session.execute(
                    insert(EmployeeRow).returning(EmployeeRow.personnel_number, EmployeeRow.id), new
                )
                ids.update(inserted.tuples().all())
            if progress is not None:
                progress(min(done * CHUNK, len(employees)))
        await self._save_managers(employees, managers, ids)
        await self._save_patterns(employees, ids)
        await self._save_roles(employees, ids)
        # Rows loaded before as objects (by_personnel_numbers) would otherwise keep what was stored before.
        self._session.expire_all()

    async def _save_managers(
        self, employees: Sequence[Employee], managers: dict[str, int | None], ids: dict[str, int]
    ) -> None:
        wanted = {e.manager_personnel_number for e in employees if e.manager_personnel_number}
        for chunk in chunks(sorted(wanted - ids.keys())):
            found = await self._session.execute(
                select(EmployeeRow.personnel_number, EmployeeRow.id).where(EmployeeRow.personnel_number.in_(chunk))
            )
            ids.update(found.tuples().all())
        links = []
        for employee in employees:
            boss = employee.manager_personnel_number
            manager_id = ids[boss] if boss else None
            if manager_id != managers.get(employee.personnel_number):
                links.append({"id": ids[employee.personnel_number], "manager_id": manager_id})
            if len(links) == CHUNK:
                await self._session.execute(update(EmployeeRow), links)
                links = []
        if links:
            await self._session.execute(update(EmployeeRow), links)

    async def _save_roles(self, employees: Sequence[Employee], ids: dict[str, int]) -> None:
        """Replace the role assignments of the employees whose roles differ from the stored ones."""
        stored: dict[int, set[str]] = {}
        for chunk in chunks(list(ids.values())):
            found = await self._session.execute(
                select(RoleAssignmentRow.employee_id, RoleAssignmentRow.role).where(
                    RoleAssignmentRow.employee_id.in_(chunk)
                )
            )
            for employee_id, role in found:
                stored.setdefault(employee_id, set()).add(role)
        changed = [
            (ids[e.personnel_number], sorted(role.value for role in e.roles))
            for e in employees
            if stored.get(ids[e.personnel_number], set()) != {role.value for role in e.roles}
        ]
        for chunk in chunks([employee_id for employee_id, _roles in changed]):
            await self._session.execute(
                delete(RoleAssignmentRow)
                .where(RoleAssignmentRow.employee_id.in_(chunk))
                .execution_options(synchronize_session=False)
            )
        values = [{"employee_id": employee_id, "role": role} for employee_id, roles in changed for role in roles]
        for batch in chunks(values):
            await self._session.execute(insert(RoleAssignmentRow), list(batch))

    async def _save_patterns(self, employees: Sequence[Employee], ids: dict[str, int]) -> None:
        """Keep the pattern history: a changed pattern starts a new period (from the given date, else today).

        Set-based: one read per chunk of employees, one DELETE per chunk of those whose stored periods are cut
        (grouped by the date the new pattern applies from), one INSERT per chunk of new periods."""
        latest: dict[int, str] = {}
        for chunk in chunks(list(ids.values())):
            found = await self._session.execute(
                select(WorkPatternRow.employee_id, WorkPatternRow.pattern)
                .where(WorkPatternRow.employee_id.in_(chunk))
                .order_by(WorkPatternRow.valid_from, WorkPatternRow.id)
            )
            latest.update(found.tuples().all())  # the last period of each employee wins
        cut: dict[date, list[int]] = {}
        periods: list[dict[str, Any]] = []
        for employee in employees:
            employee_id = ids[employee.personnel_number]
            text = str(employee.work_pattern)
            last = latest.get(employee_id)
            if last == text:
                continue
            since = employee.work_pattern_since or employee.hire_date
            if last is not None:
                # Periods starting on or after `since` are replaced: the new pattern applies from then on.
                cut.setdefault(since, []).append(employee_id)
            periods.append({"employee_id": employee_id, "valid_from": since, "pattern": text})
        for since, cut_ids in cut.items():
            for chunk in chunks(cut_ids):
                await self._session.execute(
                    delete(WorkPatternRow)
                    .where(WorkPatternRow.employee_id.in_(chunk), WorkPatternRow.valid_from >= since)
                    .execution_options(synchronize_session=False)
                )
        for batch in chunks(periods):
            await self._session.execute(insert(WorkPatternRow), list(batch))

    async def _save_org_units(self, units: Sequence[OrgUnit]) -> dict[str, int]:
        by_code = {unit.code: unit for unit in units}
        if not by_code:
            return {}
        rows: dict[str, OrgUnitRow] = {}
        for chunk in chunks(list(by_code)):
            rows.update(
                (row.code, row)
                for row in await self._session.scalars(select(OrgUnitRow).where(OrgUnitRow.code.in_(chunk)))
            )
        for code, unit in by_code.items():
            row = rows.get(code)
            if row is None:
                rows[code] = row = OrgUnitRow(code=code, name=unit.name)
                self._session.add(row)
            row.name = unit.name
        await self._session.flush()
        return {code: row.id for code, row in rows.items()}


# What save_all reads of a stored employee to tell what changed.
_STORED: Final = (
    EmployeeRow.id,
    EmployeeRow.manager_id,
    EmployeeRow.updated_at,
    EmployeeRow.private_email_verified_at,
    *(getattr(EmployeeRow, name) for name in _IMPORTED_COLUMNS),
)


def _row_values(e: Employee, before: Any, org_ids: dict[str, int], now: datetime) -> dict[str, Any]:
    """The columns to write for an employee: all of them for a new row, only what changed for a stored one."""
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
    if before is None:
        # HR is a trusted source: an imported private e-mail counts as verified for recovery links.
        return values | {"private_email_verified_at": now if e.private_email else None, "updated_at": now}
    changes = {key: value for key, value in values.items() if getattr(before, key) != value}
    if "private_email" in changes:
        changes["private_email_verified_at"] = now if e.private_email else None
    if changes or before.updated_at is None:
        changes["updated_at"] = now
    return changes


def _to_employee(row: Any, roles: frozenset[Role], pattern_history: tuple[tuple[date, WorkPattern], ...]) -> Employee:
    """An employee from a row of `_EMPLOYEES` (roles and pattern periods gathered by the caller)."""
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
        manager_personnel_number=row.manager_number,
        org_unit=OrgUnit(row.org_code, row.org_name) if row.org_code is not None else None,
        cost_center=row.cost_center,
        roles=roles,
        pattern_history=pattern_history,
    )


class SqlAuditLog:
    """Events are kept in the unit of work and chained when it commits (`seal`): the chain's append is the last thing
    a transaction does, serialised across processes (SQLite: the writer's database lock, taken at BEGIN IMMEDIATE;
    PostgreSQL: a transaction-level advisory lock held until the commit), so the previous hash is always the newest
    committed one and no other lock is ever taken after it (no deadlock with row locks)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._pending: list[AuditEvent] = []

    async def add(self, event: AuditEvent) -> None:
        if self._session.info.get(READ_ONLY):
            raise WriteNeeded  # at once, as a staged row would at its flush: the caller reruns as a writer
        self._pending.append(
            AuditEvent(
                occurred_at=event.occurred_at,
                actor=event.actor[:256],
                action=event.action[:64],
                outcome=event.outcome,
                target=event.target[:256],
                client_address=event.client_address[:64],
                details=dict(event.details),
            )
        )

    async def seal(self) -> None:
        """Append the pending events to the chain, inside the caller's transaction (called by commit)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        if self._session.bind.dialect.name == "postgresql":
            await self._session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_CHAIN_LOCK})
        previous = await self._session.scalar(select(AuditEventRow.hash).order_by(AuditEventRow.id.desc()).limit(1))
        previous = previous or GENESIS
        for event in pending:
            digest = chain_hash(previous, event)
            self._session.add(
                AuditEventRow(
                    occurred_at=event.occurred_at,
                    actor=event.actor,
                    action=event.action,
                    target=event.target,
                    client_address=event.client_address,
                    outcome=event.outcome.value,
                    details=dict(event.details),
                    prev_hash=previous,
                    hash=digest,
                )
            )
            previous = digest
        await self._session.flush()

    async def recent(self, limit: int = 50, *, actor: str | None = None) -> list[AuditEvent]:
        stmt = select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(limit)
        if actor is not None:
            stmt = stmt.where(AuditEventRow.actor == actor)
        pending = [e for e in reversed(self._pending) if actor is None or e.actor == actor]
        stored = [event_of(row) for row in await self._session.scalars(stmt)]
        return [*pending, *stored][:limit]


# The key of PostgreSQL's advisory lock that serialises appends to the audit chain ("ESSaudit" in ASCII).
AUDIT_CHAIN_LOCK: Final = 0x4553_5361_7564_6974


def event_of(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        occurred_at=row.occurred_at,
        actor=row.actor,
        action=row.action,
        outcome=Outcome(row.outcome),
        target=row.target,
        client_address=row.client_address,
        details=row.details,
    )


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
