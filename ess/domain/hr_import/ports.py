"""The ports of the HR import: region codes, the stores it reads and writes, and what the use case runs with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ess.domain.hr.ports import EmployeeRepository
from ess.domain.profile.ports import ProfileRepository
from ess.domain.shared import Clock, Notifier, UnitOfWork
from ess.domain.vacation.ports import VacationRepository


class Regions(Protocol):
    def is_known(self, country: str, subdivision: str) -> bool:
        """Whether the subdivision code exists in that country (for public holidays)."""
        ...


class HrImportUnitOfWork(UnitOfWork, Protocol):
    @property
    def employees(self) -> EmployeeRepository: ...

    @property
    def profiles(self) -> ProfileRepository: ...

    @property
    def vacation(self) -> VacationRepository: ...


@dataclass(frozen=True, slots=True)
class HrImportDeps:
    """What the import runs with, wired once by the composition root."""

    new_uow: Callable[[], HrImportUnitOfWork]
    clock: Clock
    regions: Regions
    notifier: Notifier
    # Who in HR hears of leave an import made overdrawn or impossible.
    hr_recipients: tuple[str, ...] = ()
