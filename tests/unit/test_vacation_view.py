"""The rows of the /vacation tables: formatted for the reader's language, and what the reader may still do."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from ess.domain.types import EmployeeId
from ess.domain.vacation.model import PROJECTION, EntryType, LeaveDay, LeaveRequest, LedgerEntry, RequestStatus
from ess.routes.vacation_view import ledger_rows, request_rows

ANNA = EmployeeId(11)
NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)
TODAY = date(2026, 12, 2)
GERMAN = {"carried over": "übertragen", "projected": "voraussichtlich", "pending": "offen", "approved": "genehmigt"}


def translate(text: str) -> str:
    return GERMAN.get(text, text)


def entry(kind: EntryType, amount: str, created_by: str = "hr", reason: str = "") -> LedgerEntry:
    return LedgerEntry(1, ANNA, date(2027, 1, 1), Decimal(amount), kind, created_by, NOW, reason)


def leave(start: date, status: RequestStatus) -> LeaveRequest:
    days = (LeaveDay(start, Decimal(1)), LeaveDay(date.fromordinal(start.toordinal() + 1), Decimal("0.5")))
    return LeaveRequest(ANNA, start, days[-1].day, days, status, NOW, end_half=True, id=7)


def test_ledger_rows_in_the_readers_language_with_projections_marked() -> None:
    rows = ledger_rows(
        [entry(EntryType.CARRY_IN, "2.5", PROJECTION, "<b>"), entry(EntryType.CARRY_IN, "3")], translate, "de"
    )
    assert [(r.day, r.booking, r.days, r.reason) for r in rows] == [
        ("01.01.2027", "übertragen (voraussichtlich)", "2,5", "<b>"),  # the template escapes the reason
        ("01.01.2027", "übertragen", "3", ""),
    ]


def test_request_rows_say_what_may_still_be_done() -> None:
    pending, coming, begun = (
        leave(date(2026, 12, 14), RequestStatus.PENDING),
        leave(date(2026, 12, 3), RequestStatus.APPROVED),
        leave(date(2026, 12, 2), RequestStatus.APPROVED),
    )
    rows = request_rows([pending, coming, begun], translate, "en", TODAY)
    assert [(r.start, r.end, r.days, r.status, r.status_label) for r in rows[:1]] == [
        ("14.12.2026", "15.12.2026", "1.5", "pending", "offen")
    ]
    assert [(r.withdrawable, r.cancellable) for r in rows] == [(True, False), (False, True), (False, False)]
