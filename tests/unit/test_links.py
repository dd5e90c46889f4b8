"""Links in mails: every page the domain can link to has a route, and the URL is built by route name."""

from __future__ import annotations

from enum import StrEnum

import pytest
from litestar import Litestar

from ess.app import create_app, providers
from ess.bootstrap import Container, build_container
from ess.domain.help.model import HelpPage
from ess.domain.help_requests.model import HelpRequestPage
from ess.domain.mfa.model import MfaPage
from ess.domain.passwords.model import PasswordPage
from ess.domain.profile.model import ProfilePage
from ess.domain.recovery.model import RecoveryPage
from ess.domain.shared import Link
from ess.domain.vacation.model import VacationPage
from ess.routes.links import ROUTE_NAMES, PageLinks
from ess.routes.registry import DEPENDENCY_NAMES
from tests.conftest import make_settings

PAGES: list[StrEnum] = [
    *VacationPage,
    *ProfilePage,
    *PasswordPage,
    *RecoveryPage,
    *MfaPage,
    *HelpPage,
    *HelpRequestPage,
]
# The ids each page needs, and the path it must have: written out here once, so that a renamed route shows.
EXPECTED = {
    VacationPage.OWN: ({}, "/vacation"),
    VacationPage.TEAM: ({}, "/vacation/team"),
    VacationPage.REPORT: ({}, "/hr/vacation-report"),
    VacationPage.CALENDAR: ({}, "/vacation/calendar"),
    ProfilePage.OWN: ({}, "/profile"),
    ProfilePage.HR_QUEUE: ({}, "/hr/change-requests"),
    PasswordPage.CHANGE: ({}, "/password"),
    RecoveryPage.RESET_LINK: ({"token": "t0k3n"}, "/password/reset/t0k3n"),
    RecoveryPage.UNLOCK_LINK: ({"token": "t0k3n"}, "/password/unlock/t0k3n"),
    RecoveryPage.CONFIRM_EMAIL_LINK: ({"token": "t0k3n"}, "/security/confirm-email/t0k3n"),
    RecoveryPage.LOGIN: ({}, "/login"),
    RecoveryPage.SECURITY: ({}, "/security"),
    MfaPage.SETTINGS: ({}, "/security/second-factor"),
    HelpPage.INDEX: ({}, "/help"),
    HelpPage.ARTICLE: ({"slug": "passwort-vergessen"}, "/help/passwort-vergessen"),
    HelpPage.SEARCH: ({}, "/search"),
    HelpPage.EDIT: ({}, "/help-editor"),
    HelpPage.CONTACT: ({}, "/contact"),
    HelpPage.PROFILE_EDIT: ({"section": "address"}, "/profile/edit/address"),
    HelpPage.FORGOT_PASSWORD: ({}, "/password/forgot"),
    HelpPage.UNLOCK: ({}, "/password/forgot"),
    HelpRequestPage.OWN: ({"request_id": 7}, "/help-requests/7"),
    HelpRequestPage.QUEUE_ITEM: ({"request_id": 7}, "/help-desk/7"),
}


@pytest.fixture
def container() -> Container:
    return build_container(make_settings("sqlite+aiosqlite:///:memory:"))


def test_every_page_of_every_area_has_a_route() -> None:
    assert set(ROUTE_NAMES) == set(PAGES) == set(EXPECTED)


@pytest.mark.parametrize("page", PAGES, ids=str)
def test_the_app_builds_each_link_by_route_name(page: StrEnum, container: Container) -> None:
    app: Litestar = create_app(container.settings, container=container)
    ids, path = EXPECTED[page]
    assert container.links(Link(page, ids)) == path
    assert app.route_reverse(ROUTE_NAMES[page], **ids) == path


@pytest.mark.parametrize("page", PAGES, ids=str)
def test_without_an_app_the_same_routing_table_builds_the_link(page: StrEnum) -> None:
    """The CLI's jobs send mails without serving: the links are the same."""
    ids, path = EXPECTED[page]
    assert PageLinks()(Link(page, ids)) == path


def test_each_named_dependency_is_provided(container: Container) -> None:
    assert set(providers(container)) == set(DEPENDENCY_NAMES)
