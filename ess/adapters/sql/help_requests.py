"""Help requests in SQL: the request row and its messages (answers, internal notes); messages are only added."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ess.adapters.sql.tables import HelpRequestMessageRow, HelpRequestRow
from ess.domain.help_requests.model import Caller, HelpRequest, Message, MessageKind, Status, Team
from ess.domain.help_requests.ports import QueueFilter
from ess.domain.types import EmployeeId

CHUNK = 500


def _message(row: HelpRequestMessageRow) -> Message:
    return Message(MessageKind(row.kind), row.author, row.body, row.created_at, row.article, row.id)


def _request(row: HelpRequestRow, messages: Sequence[HelpRequestMessageRow] = ()) -> HelpRequest:
    return HelpRequest(
        id=row.id,
        topic=row.topic,
        team=Team(row.team),
        subject=row.subject,
        caller=Caller(
            login=row.login,
            employee_id=EmployeeId(row.employee_id) if row.employee_id is not None else None,
            name=row.name,
            callback=row.callback,
            claimed_login=row.claimed_login,
        ),
        created_at=row.created_at,
        status=Status(row.status),
        context={str(k): str(v) for k, v in (row.context or {}).items()},
        messages=tuple(_message(m) for m in sorted(messages, key=lambda m: (m.created_at, m.id))),
        assignee=row.assignee,
        first_response_at=row.first_response_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        solved=row.solved,
        updated_at=row.updated_at,
        reminded_at=row.reminded_at,
    )


def _fill(row: HelpRequestRow, request: HelpRequest) -> None:
    row.status = request.status.value
    row.assignee = request.assignee
    row.updated_at = request.updated_at or request.created_at
    row.first_response_at = request.first_response_at
    row.resolved_at = request.resolved_at
    row.closed_at = request.closed_at
    row.reminded_at = request.reminded_at
    row.solved = request.solved


class SqlHelpRequestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, request: HelpRequest) -> HelpRequest:
        caller = request.caller
        row = HelpRequestRow(
            employee_id=caller.employee_id,
            login=caller.login,
            name=caller.name,
            callback=caller.callback,
            claimed_login=caller.claimed_login,
            topic=request.topic,
            team=request.team.value,
            subject=request.subject,
            context=dict(request.context),
            created_at=request.created_at,
        )
        _fill(row, request)
        self._session.add(row)
        await self._session.flush()
        await self._add_messages(row.id, request.messages)
        stored = await self.get(row.id)
        assert stored is not None, "just added"
        return stored

    async def _add_messages(self, request_id: int, messages: Sequence[Message]) -> None:
        for message in messages:
            if message.id is None:
                self._session.add(
                    HelpRequestMessageRow(
                        request_id=request_id,
                        kind=message.kind.value,
                        author=message.author,
                        body=message.body,
                        article=message.article,
                        created_at=message.created_at,
                    )
                )
        await self._session.flush()

    async def get(self, request_id: int) -> HelpRequest | None:
        row = await self._session.get(HelpRequestRow, request_id, populate_existing=True)
        if row is None:
            return None
        messages = await self._session.scalars(
            select(HelpRequestMessageRow).where(HelpRequestMessageRow.request_id == request_id)
        )
        return _request(row, list(messages))

    async def save(self, request: HelpRequest) -> None:
        assert request.id is not None, "a stored request has an id"
        row = await self._session.get(HelpRequestRow, request.id)
        assert row is not None, "the request was loaded in this transaction"
        _fill(row, request)
        await self._add_messages(request.id, request.messages)

    async def of_employee(self, employee_id: EmployeeId) -> list[HelpRequest]:
        rows = list(
            await self._session.scalars(
                select(HelpRequestRow)
                .where(HelpRequestRow.employee_id == employee_id)
                .order_by(HelpRequestRow.created_at.desc(), HelpRequestRow.id.desc())
            )
        )
        by_request: dict[int, list[HelpRequestMessageRow]] = {}
        ids = [r.id for r in rows]
        for start in range(0, len(ids), CHUNK):
            for message in await self._session.scalars(
                select(HelpRequestMessageRow).where(HelpRequestMessageRow.request_id.in_(ids[start : start + CHUNK]))
            ):
                by_request.setdefault(message.request_id, []).append(message)
        return [_request(r, by_request.get(r.id, [])) for r in rows]

    async def queue(self, wanted: QueueFilter) -> list[HelpRequest]:
        query = select(HelpRequestRow).where(HelpRequestRow.team.in_([t.value for t in wanted.teams]))
        if wanted.statuses:
            query = query.where(HelpRequestRow.status.in_([s.value for s in wanted.statuses]))
        if wanted.topic:
            query = query.where(HelpRequestRow.topic == wanted.topic)
        if wanted.older_than is not None:
            query = query.where(HelpRequestRow.created_at < wanted.older_than)
        rows = await self._session.scalars(query.order_by(HelpRequestRow.created_at, HelpRequestRow.id))
        return [_request(r) for r in rows]

    async def waiting_since(self, before: datetime) -> list[HelpRequest]:
        rows = await self._session.scalars(
            select(HelpRequestRow)
            .where(
                HelpRequestRow.status.in_([Status.RECEIVED.value, Status.IN_PROGRESS.value]),
                HelpRequestRow.updated_at < before,
                or_(HelpRequestRow.reminded_at.is_(None), HelpRequestRow.reminded_at < before),
            )
            .order_by(HelpRequestRow.id)
        )
        return [_request(r) for r in rows]

    async def delete_closed_before(self, before: datetime) -> int:
        ids = list(
            await self._session.scalars(
                select(HelpRequestRow.id).where(
                    HelpRequestRow.status == Status.CLOSED.value, HelpRequestRow.closed_at < before
                )
            )
        )
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            # Messages first: SQLite only cascades with foreign keys on, and the order keeps both dialects alike.
            await self._session.execute(
                delete(HelpRequestMessageRow).where(HelpRequestMessageRow.request_id.in_(chunk))
            )
            await self._session.execute(delete(HelpRequestRow).where(HelpRequestRow.id.in_(chunk)))
        return len(ids)
