"""Every controller of the app, in one place: the app serves them, and page links are reversed from them."""

from __future__ import annotations

from typing import Final

from litestar.types import ControllerRouterHandler

from ess.routes.api.analytics import AnalyticsApiController
from ess.routes.api.auth import AuthApiController
from ess.routes.api.deputies import DeputiesApiController
from ess.routes.api.help import HelpApiController
from ess.routes.api.help_requests import HelpDeskApiController, HelpRequestsApiController
from ess.routes.api.me import MeApiController
from ess.routes.api.mfa import HelpdeskSecondFactorApiController
from ess.routes.api.passwords import MyPasswordApiController, PasswordPolicyApiController
from ess.routes.api.privacy import AuditApiController, MyDataApiController
from ess.routes.api.profile import EmployeeProfileApiController, HrChangeRequestApiController, ProfileApiController
from ess.routes.api.recovery import HelpdeskApiController, RecoveryApiController
from ess.routes.api.team_calendar import TeamCalendarApiController
from ess.routes.api.vacation import HrVacationApiController, LeaveDecisionsApiController, VacationApiController
from ess.routes.health import HealthController
from ess.routes.pages.analytics import AnalyticsPagesController
from ess.routes.pages.auth import AuthPagesController
from ess.routes.pages.calendar import CalendarFeedController, TeamCalendarController
from ess.routes.pages.console import ConsolePagesController
from ess.routes.pages.expired_password import ExpiredPasswordPagesController
from ess.routes.pages.help import HelpEditorPagesController, HelpPagesController
from ess.routes.pages.help_desk import HelpDeskPagesController
from ess.routes.pages.help_requests import HelpRequestPagesController
from ess.routes.pages.home import HomePagesController
from ess.routes.pages.mfa import (
    HelpdeskSecondFactorPagesController,
    SecondFactorLoginPagesController,
    SecondFactorSettingsPagesController,
)
from ess.routes.pages.password import PasswordPagesController
from ess.routes.pages.privacy import AuditPagesController, MyDataPagesController
from ess.routes.pages.profile import HrChangeRequestPagesController, ProfilePagesController
from ess.routes.pages.recovery import HelpdeskPagesController, RecoveryPagesController, SecurityPagesController
from ess.routes.pages.reports import ReportPagesController
from ess.routes.pages.sso import SsoPagesController
from ess.routes.pages.vacation import TeamPagesController, VacationPagesController

ROUTE_HANDLERS: Final[tuple[ControllerRouterHandler, ...]] = (
    HealthController,
    AuthApiController,
    MeApiController,
    AuthPagesController,
    SsoPagesController,
    HomePagesController,
    PasswordPagesController,
    ExpiredPasswordPagesController,
    VacationPagesController,
    TeamPagesController,
    ReportPagesController,
    CalendarFeedController,
    TeamCalendarController,
    VacationApiController,
    LeaveDecisionsApiController,
    DeputiesApiController,
    HrVacationApiController,
    TeamCalendarApiController,
    ProfilePagesController,
    HrChangeRequestPagesController,
    ProfileApiController,
    HrChangeRequestApiController,
    EmployeeProfileApiController,
    MyPasswordApiController,
    PasswordPolicyApiController,
    RecoveryApiController,
    HelpdeskApiController,
    RecoveryPagesController,
    SecurityPagesController,
    HelpdeskPagesController,
    SecondFactorLoginPagesController,
    SecondFactorSettingsPagesController,
    HelpdeskSecondFactorPagesController,
    HelpdeskSecondFactorApiController,
    HelpPagesController,
    HelpEditorPagesController,
    HelpApiController,
    AuditApiController,
    MyDataApiController,
    AuditPagesController,
    MyDataPagesController,
    ConsolePagesController,
    AnalyticsPagesController,
    AnalyticsApiController,
    HelpRequestPagesController,
    HelpDeskPagesController,
    HelpRequestsApiController,
    HelpDeskApiController,
)


# The dependencies handlers ask for by name (`vacation: NamedDependency[VacationDeps]`); `create_app` provides each.
DEPENDENCY_NAMES: Final = (
    "auth",
    "passwords",
    "vacation",
    "profile",
    "recovery",
    "mfa",
    "help",
    "privacy",
    "console",
    "analytics",
    "help_requests",
    "home",
    "settings",
    "readiness",
)
