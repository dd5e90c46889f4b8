"""The URLs of the pages the domain links to: each area's page (a `Link`) maps to a route name, and the path is built
by Litestar's `route_reverse` from the app's own routing table - never written out twice."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Final

from litestar import Litestar
from litestar.di import Provide

from ess.domain.mfa.model import MfaPage
from ess.domain.passwords.model import PasswordPage
from ess.domain.profile.model import ProfilePage
from ess.domain.recovery.model import RecoveryPage
from ess.domain.shared import Link
from ess.domain.vacation.model import VacationPage
from ess.routes.registry import DEPENDENCY_NAMES, ROUTE_HANDLERS

# Every page of every area's `...Page` enum: the route (handler name) that shows it.
ROUTE_NAMES: Final[Mapping[StrEnum, str]] = {
    VacationPage.OWN: "vacation",
    VacationPage.TEAM: "vacation_team",
    VacationPage.REPORT: "vacation_report",
    ProfilePage.OWN: "profile",
    ProfilePage.HR_QUEUE: "hr_change_requests",
    PasswordPage.CHANGE: "password",
    RecoveryPage.RESET_LINK: "password_reset",
    RecoveryPage.UNLOCK_LINK: "account_unlock",
    RecoveryPage.CONFIRM_EMAIL_LINK: "confirm_email",
    RecoveryPage.LOGIN: "login",
    RecoveryPage.SECURITY: "security",
    MfaPage.SETTINGS: "mfa_settings",
}


def _routing_only() -> Litestar:
    """The app's routing table without the app: for jobs and the CLI, which send mails but serve nothing."""

    return Litestar(
        route_handlers=list(ROUTE_HANDLERS),
        dependencies={name: _unused() for name in DEPENDENCY_NAMES},
        openapi_config=None,
    )


def _unused() -> Provide:
    # One function per name: Litestar refuses the same provider under two names.
    def unused() -> None:
        return None

    return Provide(unused, sync_to_thread=False)


class PageLinks:
    """Turns a domain `Link` into a path, by route name. `create_app` binds it to the app it builds; without an app
    (the CLI's jobs) it reverses from a routing table of the same handlers, built on first use."""

    def __init__(self) -> None:
        self._reverse: Callable[..., str] | None = None

    def bind(self, app: Litestar) -> None:
        self._reverse = app.route_reverse

    def __call__(self, link: Link) -> str:
        if self._reverse is None:
            self.bind(_routing_only())
        assert self._reverse is not None
        return self._reverse(ROUTE_NAMES[link.page], **link.ids)
