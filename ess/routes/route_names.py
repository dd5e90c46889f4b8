"""Every page of every area's `...Page` enum and the route (handler name) that shows it: apart from the routing
table, so that the edge's own modules can build links without importing every controller."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from ess.domain.help.model import HelpPage
from ess.domain.help_requests.model import HelpRequestPage
from ess.domain.mfa.model import MfaPage
from ess.domain.passwords.model import PasswordPage
from ess.domain.profile.model import ProfilePage
from ess.domain.recovery.model import RecoveryPage
from ess.domain.vacation.model import VacationPage

# Every page of every area's `...Page` enum: the route (handler name) that shows it.
ROUTE_NAMES: Final[Mapping[StrEnum, str]] = {
    VacationPage.OWN: "vacation",
    VacationPage.TEAM: "vacation_team",
    VacationPage.CALENDAR: "team_calendar",
    VacationPage.REPORT: "vacation_report",
    ProfilePage.OWN: "profile",
    ProfilePage.HR_QUEUE: "hr_change_requests",
    PasswordPage.CHANGE: "password",
    RecoveryPage.RESET_LINK: "password_reset",
    RecoveryPage.UNLOCK_LINK: "account_unlock",
    RecoveryPage.CONFIRM_EMAIL_LINK: "confirm_email",
    RecoveryPage.LOGIN: "login",
    RecoveryPage.SECURITY: "security",
    HelpPage.INDEX: "help",
    HelpPage.ARTICLE: "help_article",
    HelpPage.SEARCH: "search",
    HelpPage.EDIT: "help_edit_index",
    HelpPage.CONTACT: "contact",
    HelpPage.PROFILE_EDIT: "profile_edit",
    HelpPage.FORGOT_PASSWORD: "password_forgot",
    HelpPage.UNLOCK: "password_forgot",
    MfaPage.SETTINGS: "mfa_settings",
    HelpRequestPage.OWN: "help_request",
    HelpRequestPage.QUEUE_ITEM: "help_desk_request",
}
