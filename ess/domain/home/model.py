"""What the start page shows, and the counts the menu shows beside its links."""

from __future__ import annotations

from dataclasses import dataclass, field

from ess.domain.hr.model import Employee
from ess.domain.profile.requests import QueueItem
from ess.domain.recovery.helpdesk import LoginTrouble
from ess.domain.vacation.model import Balance, LeaveRequest, RequestStatus

# Requests still waiting for someone: the employee's "open requests".
OPEN_STATUSES = (RequestStatus.PENDING, RequestStatus.CANCELLATION_REQUESTED)


@dataclass(frozen=True, slots=True)
class MenuCounts:
    """The counts beside the menu's links (and the phone menu's total): what waits for the caller's roles."""

    decisions: int = 0
    changes: int = 0
    locked: int = 0

    @property
    def total(self) -> int:
        return self.decisions + self.changes + self.locked


@dataclass
class StartPage:
    """What the start page shows the caller; a part they have no role (or no HR record) for stays empty.

    - everyone with an HR record: the balance (remaining leave and what lapses when), the next approved leave, the
      open requests (waiting for a decision or for a cancellation);
    - managers and HR: the leave requests waiting for their decision;
    - HR: the change requests of personal data waiting for HR;
    - helpdesk and admin: the recent failed logins, locked accounts marked.
    """

    # Which cards the caller's roles give (shown even when nothing waits: "nothing is waiting for you").
    decides_leave: bool = False  # managers and HR
    decides_changes: bool = False  # HR
    watches_logins: bool = False  # helpdesk and admin
    balance: Balance | None = None
    next_leave: LeaveRequest | None = None
    open_requests: list[LeaveRequest] = field(default_factory=list)
    decisions: list[tuple[LeaveRequest, Employee]] = field(default_factory=list)
    change_requests: list[QueueItem] = field(default_factory=list)
    trouble: list[LoginTrouble] = field(default_factory=list)

    @property
    def counts(self) -> MenuCounts:
        return MenuCounts(
            decisions=len(self.decisions),
            changes=len(self.change_requests),
            locked=sum(1 for t in self.trouble if t.locked),
        )
