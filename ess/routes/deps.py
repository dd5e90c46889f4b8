"""What the edge needs from the composition root, typed by domain ports only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ess.domain.auth.service import AuthPolicy
from ess.domain.outbox.service import DirectorySync
from ess.domain.passwords.model import PasswordPolicy
from ess.domain.ports import (
    AttemptCounter,
    BreachedPasswords,
    Clock,
    Directory,
    HolidayCalendar,
    LeaveReport,
    Notifier,
    Regions,
    SessionStore,
    UnitOfWork,
)
from ess.domain.profile.service import ProfileDeps
from ess.domain.recovery.service import RecoveryKit
from ess.domain.vacation.service import VacationPolicy
from ess.settings import Settings


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    clock: Clock
    directory: Directory
    new_uow: Callable[[], UnitOfWork]
    sessions: SessionStore
    attempts: AttemptCounter
    regions: Regions
    auth_policy: AuthPolicy
    password_policy: PasswordPolicy
    calendar: HolidayCalendar
    vacation_policy: VacationPolicy
    notifier: Notifier
    leave_report: LeaveReport
    profile: ProfileDeps
    directory_sync: DirectorySync
    # Have I Been Pwned when [passwords] hibp_enabled, else None.
    breached_passwords: BreachedPasswords | None = None
    # Forgotten password, unlock, enrolment and helpdesk (None only in tests that do not need them).
    recovery: RecoveryKit | None = None
