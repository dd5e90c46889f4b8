"""The rows of the tables on /vacation, formatted once in Python: the template prints them.

Each cell the template formatted itself (a date, a number, a translated label) was a call through Jinja's context,
about two microseconds each; a ledger of a few years has dozens of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from ess.domain.vacation.model import PROJECTION, LeaveRequest, LedgerEntry, RequestStatus
from ess.routes.rendering import ENTRY_LABELS, N_, STATUS_LABELS, format_number

PROJECTED = N_("projected")
DAY_FORMAT = "%d.%m.%Y"


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One booking under "How this is calculated"."""

    day: str
    booking: str  # the entry's kind in the reader's language, "(projected)" added where it is
    days: str
    reason: str


@dataclass(frozen=True, slots=True)
class RequestRow:
    """One of "My requests", with what the reader may still do about it."""

    id: int | None
    start: str
    end: str
    days: str
    status: str  # the status's value: the CSS class says it in colour
    status_label: str
    comment: str
    withdrawable: bool
    cancellable: bool  # approved leave still to come: the manager may be asked to cancel it


def ledger_rows(entries: Sequence[LedgerEntry], gettext: Callable[[str], str], lang: str) -> list[LedgerRow]:
    projected = f" ({gettext(PROJECTED)})"
    return [
        LedgerRow(
            day=e.effective_date.strftime(DAY_FORMAT),
            booking=gettext(ENTRY_LABELS[e.entry_type.value]) + (projected if e.created_by == PROJECTION else ""),
            days=format_number(e.amount, lang),
            reason=e.reason,
        )
        for e in entries
    ]


def request_rows(
    requests: Sequence[LeaveRequest], gettext: Callable[[str], str], lang: str, today: date
) -> list[RequestRow]:
    return [
        RequestRow(
            id=r.id,
            start=r.start.strftime(DAY_FORMAT),
            end=r.end.strftime(DAY_FORMAT),
            days=format_number(r.total, lang),
            status=r.status.value,
            status_label=gettext(STATUS_LABELS[r.status.value]),
            comment=r.decision_comment,
            withdrawable=r.status is RequestStatus.PENDING,
            cancellable=r.status is RequestStatus.APPROVED and r.start > today,
        )
        for r in requests
    ]
