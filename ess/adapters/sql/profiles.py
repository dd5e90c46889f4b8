"""Personal data beside the HR record: bank account, emergency contacts, change requests and history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ess.adapters.sql.tables import (
    BankAccountRow,
    EmergencyContactRow,
    EmployeeRow,
    ProfileChangeRequestRow,
    ProfileHistoryRow,
    RoleAssignmentRow,
)
from ess.domain.errors import Conflict, NotFound
from ess.domain.hr.model import Role
from ess.domain.profile.model import (
    ChangeRequest,
    ChangeVia,
    EmergencyContact,
    FieldValue,
    HistoryEntry,
    ProfileField,
    RequestStatus,
    StoredBankAccount,
    contacts_from_value,
)
from ess.domain.types import EmployeeId

# The employee columns each simple field writes.
_EMPLOYEE_COLUMNS: dict[ProfileField, dict[str, str]] = {
    ProfileField.PREFERRED_NAME: {"preferred_name": "preferred_name"},
    ProfileField.WORK_PHONE: {"work_phone": "work_phone"},
    ProfileField.MOBILE_PHONE: {"mobile_phone": "mobile_phone"},
    ProfileField.PRIVATE_PHONE: {"private_phone": "private_phone"},
    ProfileField.ADDRESS: {
        "street": "street",
        "postal_code": "postal_code",
        "city": "city",
        "country": "address_country",
    },
    ProfileField.LEGAL_NAME: {"first_name": "first_name", "last_name": "last_name"},
}


class SqlProfileRepository:
    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self._session = session
        self._now = now

    async def lock(self, employee_id: EmployeeId) -> None:
        # PostgreSQL: a row lock to the end of the transaction. SQLite transactions hold the database's write lock
        # from their start (BEGIN IMMEDIATE, see database.py).
        if self._session.bind.dialect.name == "postgresql":
            await self._session.execute(select(EmployeeRow.id).where(EmployeeRow.id == employee_id).with_for_update())

    async def bank_account(self, employee_id: EmployeeId) -> StoredBankAccount | None:
        row = await self._session.get(BankAccountRow, employee_id)
        return StoredBankAccount(row.iban, row.bic, row.holder) if row else None

    async def emergency_contacts(self, employee_id: EmployeeId) -> list[EmergencyContact]:
        rows = await self._session.scalars(
            select(EmergencyContactRow)
            .where(EmergencyContactRow.employee_id == employee_id)
            .order_by(EmergencyContactRow.position)
        )
        return [EmergencyContact(r.name, r.relation, r.phone) for r in rows]

    async def apply(self, employee_id: EmployeeId, profile_field: ProfileField, value: FieldValue) -> None:
        if profile_field is ProfileField.BANK_ACCOUNT:
            row = await self._session.get(BankAccountRow, employee_id)
            if row is None:
                row = BankAccountRow(employee_id=employee_id)
                self._session.add(row)
            row.iban, row.bic, row.holder, row.updated_at = value["iban"], value["bic"], value["holder"], self._now
        elif profile_field is ProfileField.EMERGENCY_CONTACTS:
            await self._session.execute(
                delete(EmergencyContactRow).where(EmergencyContactRow.employee_id == employee_id)
            )
            await self._session.flush()
            for position, contact in enumerate(contacts_from_value(value), start=1):
                self._session.add(
                    EmergencyContactRow(
                        employee_id=employee_id,
                        position=position,
                        name=contact.name,
                        relation=contact.relation,
                        phone=contact.phone,
                    )
                )
        else:
            columns = _EMPLOYEE_COLUMNS[profile_field]
            values: dict[str, Any] = {column: value[part] for part, column in columns.items()}
            result = await self._session.execute(
                update(EmployeeRow).where(EmployeeRow.id == employee_id).values(updated_at=self._now, **values)
            )
            if not getattr(result, "rowcount", 0):
                raise NotFound("No such employee.")
        await self._session.flush()

    async def add_request(self, request: ChangeRequest) -> ChangeRequest:
        row = ProfileChangeRequestRow(
            employee_id=request.employee_id,
            field=request.field.value,
            old_value=dict(request.old),
            new_value=dict(request.new),
            status=request.status.value,
            effective_from=request.effective_from,
            created_at=request.created_at,
            created_by=request.created_by[:256],
            decided_at=request.decided_at,
            decided_by=request.decided_by,
            comment=request.comment,
            applied_at=request.applied_at,
        )
        self._session.add(row)
        await self._session.flush()
        return _request(row)

    async def request(self, request_id: int) -> ChangeRequest | None:
        row = await self._session.get(ProfileChangeRequestRow, request_id, populate_existing=True)
        return _request(row) if row else None

    async def requests_for(self, employee_id: EmployeeId) -> list[ChangeRequest]:
        rows = await self._session.scalars(
            select(ProfileChangeRequestRow)
            .where(ProfileChangeRequestRow.employee_id == employee_id)
            .order_by(ProfileChangeRequestRow.id.desc())
        )
        return [_request(r) for r in rows]

    async def open_requests(self, *, status: RequestStatus) -> list[ChangeRequest]:
        rows = await self._session.scalars(
            select(ProfileChangeRequestRow)
            .where(ProfileChangeRequestRow.status == status.value)
            .order_by(ProfileChangeRequestRow.created_at, ProfileChangeRequestRow.id)
        )
        return [_request(r) for r in rows]

    async def update_request(self, request: ChangeRequest, *, expected: RequestStatus) -> None:
        assert request.id is not None
        result = await self._session.execute(
            update(ProfileChangeRequestRow)
            .where(ProfileChangeRequestRow.id == request.id, ProfileChangeRequestRow.status == expected.value)
            .values(
                status=request.status.value,
                decided_at=request.decided_at,
                decided_by=request.decided_by[:256],
                comment=request.comment,
                applied_at=request.applied_at,
            )
        )
        if not getattr(result, "rowcount", 0):
            raise Conflict("The request was changed in the meantime.")

    async def add_history(self, entry: HistoryEntry) -> None:
        self._session.add(
            ProfileHistoryRow(
                employee_id=entry.employee_id,
                field=entry.field.value,
                old_value=dict(entry.old),
                new_value=dict(entry.new),
                changed_at=entry.changed_at,
                changed_by=entry.changed_by[:256],
                via=entry.via.value,
                request_id=entry.request_id,
            )
        )
        await self._session.flush()

    async def history(self, employee_id: EmployeeId, limit: int = 200) -> list[HistoryEntry]:
        rows = await self._session.scalars(
            select(ProfileHistoryRow)
            .where(ProfileHistoryRow.employee_id == employee_id)
            .order_by(ProfileHistoryRow.id.desc())
            .limit(limit)
        )
        return [_history(r) for r in rows]

    async def latest_changes(
        self, employee_ids: Sequence[EmployeeId]
    ) -> dict[tuple[EmployeeId, ProfileField], HistoryEntry]:
        latest: dict[tuple[EmployeeId, ProfileField], HistoryEntry] = {}
        for start in range(0, len(employee_ids), 500):  # keep IN lists within every database's parameter limit
            rows = await self._session.scalars(
                select(ProfileHistoryRow)
                .where(ProfileHistoryRow.employee_id.in_(employee_ids[start : start + 500]))
                .order_by(ProfileHistoryRow.id)
            )
            for row in rows:
                entry = _history(row)
                latest[(entry.employee_id, entry.field)] = entry
        return latest

    async def hr_emails(self) -> list[str]:
        rows = await self._session.scalars(
            select(EmployeeRow.work_email)
            .join(RoleAssignmentRow, RoleAssignmentRow.employee_id == EmployeeRow.id)
            .where(RoleAssignmentRow.role == Role.HR.value)
            .order_by(EmployeeRow.id)
        )
        return [email for email in rows if email]


def _history(r: ProfileHistoryRow) -> HistoryEntry:
    return HistoryEntry(
        employee_id=EmployeeId(r.employee_id),
        field=ProfileField(r.field),
        old={str(k): str(v) for k, v in r.old_value.items()},
        new={str(k): str(v) for k, v in r.new_value.items()},
        changed_at=r.changed_at,
        changed_by=r.changed_by,
        via=ChangeVia(r.via),
        request_id=r.request_id,
        id=r.id,
    )


def _request(row: ProfileChangeRequestRow) -> ChangeRequest:
    return ChangeRequest(
        employee_id=EmployeeId(row.employee_id),
        field=ProfileField(row.field),
        old={str(k): str(v) for k, v in row.old_value.items()},
        new={str(k): str(v) for k, v in row.new_value.items()},
        status=RequestStatus(row.status),
        created_at=row.created_at,
        created_by=row.created_by,
        effective_from=row.effective_from,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        comment=row.comment,
        applied_at=row.applied_at,
        id=row.id,
    )
