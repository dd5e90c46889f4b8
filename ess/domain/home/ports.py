"""What the start page needs: the use cases of the areas it shows parts of (each with its own ports)."""

from __future__ import annotations

from dataclasses import dataclass

from ess.domain.profile.ports import ProfileDeps
from ess.domain.recovery.ports import RecoveryDeps
from ess.domain.shared import Clock
from ess.domain.vacation.ports import VacationDeps


@dataclass(frozen=True)
class HomeDeps:
    """Wired once by the composition root. The start page owns no data: it reads through the leave, profile and
    recovery use cases, which authorize and audit as they do on their own pages."""

    clock: Clock
    vacation: VacationDeps
    profile: ProfileDeps
    recovery: RecoveryDeps
