"""Every page template rendered through the real app (in-process, SQLite, the local directory, an SMTP sink), with
data, so that the branches which build URLs from ids and tokens are taken: a template that names a route which does
not exist fails at render time. Every link and form on the pages then leads to a route that answers its method."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pyotp
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import update

from ess.adapters.help_content import shipped_articles
from ess.adapters.sql.tables import LocalAccountRow
from ess.app import create_app
from ess.bootstrap import build_container
from ess.domain.help.articles import seed_articles
from ess.settings import Settings
from tests.conftest import make_settings, migrate
from tests.e2e.helpers import PASSWORD, csrf_token, log_in
from tests.e2e.recovery_helpers import link_in, mails_to, seed_recovery
from tests.harness.oidc import OidcProvider, running_oidc_provider
from tests.harness.smtp import SmtpSink, running_smtp_sink

BASE_URL = "http://127.0.0.1:8000"
TEMPLATES = Path(__file__).resolve().parents[2] / "ess" / "templates"
ANNA_PRIVATE = "anna.schmidt@example.org"
NEW_PASSWORD = "Kanarienvogel singt im Treppenhaus 2026"
EXPIRED_LOGIN = "tobias.huber"
COMPANY_ZONE = ZoneInfo("Europe/Berlin")

FORM = re.compile(r"<form\b[^>]*>", re.IGNORECASE)
FORM_METHOD = re.compile(r'\bmethod="(\w+)"', re.IGNORECASE)
FORM_ACTION = re.compile(r'\baction="([^"]*)"', re.IGNORECASE)
LINK = re.compile(r'<(?:a|link|script)\b[^>]*?\b(?:href|src)="(/[^"]*)"', re.IGNORECASE)


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    with running_smtp_sink() as sink:
        yield sink


async def _provision_more(settings: Settings) -> None:
    """HR (hanna.berger), an account whose password must be changed at the next login, the help articles."""
    container = build_container(settings)
    try:
        assert container.local_directory is not None and container.engine is not None
        for login in ("hanna.berger", EXPIRED_LOGIN, "admin"):
            await container.local_directory.provision(login, password=PASSWORD)
        async with container.engine.begin() as connection:
            await connection.execute(
                update(LocalAccountRow).where(LocalAccountRow.login == EXPIRED_LOGIN).values(must_change=True)
            )
        # What `ess db upgrade` adds after the migrations: the shipped help articles.
        await seed_articles(shipped_articles(), review_due=date(2027, 12, 1), deps=container.help)
    finally:
        await container.close()


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    """A real OpenID provider, so the single sign-on pages are walked too."""
    with running_oidc_provider(
        redirect_uris=[f"{BASE_URL}/login/oidc/callback"],
        post_logout_redirect_uris=[f"{BASE_URL}/login?logged_out=1"],
        workdir=tmp_path_factory.mktemp("oidc"),
    ) as running:
        yield running


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, sink: SmtpSink, provider: OidcProvider) -> Settings:
    sqlite_url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('pages') / 'ess.db'}"
    migrate(sqlite_url)
    settings = make_settings(
        sqlite_url,
        ESS_MAIL__BACKEND="smtp",
        ESS_MAIL__SMTP_HOST=sink.host,
        ESS_MAIL__SMTP_PORT=str(sink.port),
        # HR needs a second factor: hanna.berger walks through its enrolment and login pages.
        ESS_SECURITY__SECOND_FACTOR_ROLES='["hr"]',
        ESS_BASE_URL=BASE_URL,
        **provider.settings_env(),
    )
    asyncio.run(seed_recovery(settings))
    asyncio.run(_provision_more(settings))
    return settings


class Pages:
    """The client, the HTML of every page it was shown (by a label), and every template the app loaded."""

    def __init__(self, client: TestClient[Litestar], templates: set[str]) -> None:
        self.client = client
        self.templates = templates
        self.html: dict[str, str] = {}
        self.totp: dict[str, pyotp.TOTP] = {}

    def get(self, label: str, path: str, status: int = 200) -> str:
        return self._keep(label, self.client.get(path, follow_redirects=False), status)

    def post(self, label: str, path: str, data: dict[str, str], status: int = 200, csrf_from: str = "") -> str:
        token = csrf_token(self.client, csrf_from or path)
        response = self.client.post(path, data={"_csrf_token": token, **data}, follow_redirects=False)
        return self._keep(label, response, status)

    def _keep(self, label: str, response: Any, status: int) -> str:
        assert response.status_code == status, f"{label}: {response.status_code}\n{response.text[:2000]}"
        if response.headers.get("content-type", "").startswith("text/html"):
            self.html[label] = response.text
        return str(response.text)

    def log_in(self, login: str, password: str = PASSWORD) -> str:
        """Log in; an account whose role needs a second factor sets up an app on the way. Returns where the
        password step led."""
        answer = log_in(self.client, login, password)
        assert answer.status_code == 303, login
        location = str(answer.headers["location"])
        if location.startswith("/login/enrol"):
            secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', self.get("enrolment", location))
            assert secret is not None
            self.totp[login] = pyotp.TOTP(secret.group(1))
            self.post("recovery codes", "/login/enrol", {"code": self.totp[login].now()}, csrf_from=location)
        return location

    def log_out(self) -> None:
        self.post("logout", "/logout", {}, status=303, csrf_from="/")
        self.client.cookies.clear()


@pytest.fixture(scope="module")
def pages(settings: Settings, sink: SmtpSink, provider: OidcProvider) -> Iterator[Pages]:
    """The app after a walk through every page: anonymous, employee, manager, HR, helpdesk, recovery links."""
    app = create_app(settings)
    assert app.template_engine is not None
    environment = app.template_engine.engine
    loaded: set[str] = set()
    get_template = environment.get_template

    # Pages, the base they extend, the macros they import and the parts they include all pass through here.
    def recording(name: Any, *args: Any, **kwargs: Any) -> Any:
        loaded.add(name if isinstance(name, str) else name.name)
        return get_template(name, *args, **kwargs)

    environment.get_template = recording
    with TestClient(app=app, base_url=BASE_URL) as client:
        pages = Pages(client, loaded)
        _anonymous(pages)
        _single_sign_on(pages, provider)
        _anna_asks(pages)
        _markus_approves_one(pages)
        _anna_sees_both(pages)
        _hanna(pages)
        _lukas(pages)
        _privacy_and_console(pages)
        _help(pages)
        _help_requests(pages)
        _anna_recovers(pages, sink)
        yield pages


def _a_week_from(day: date) -> tuple[str, str]:
    monday = day + timedelta(days=7 - day.weekday())
    return monday.isoformat(), (monday + timedelta(days=4)).isoformat()


def _single_sign_on(pages: Pages, provider: OidcProvider) -> None:
    """Through the provider and back: the same-site step, then the logout that offers the provider's."""
    start = pages.client.get("/login/oidc?next=/profile", follow_redirects=False)
    assert start.status_code == 303
    back = httpx.URL(provider.authorize(start.headers["location"], "markus.weber"))
    pages.get("signing in", f"{back.path}?{back.query.decode()}")
    pages.post("sso logout", "/logout", {}, status=303, csrf_from="/")
    pages.get("logged out, provider too", "/login?logged_out=1&provider=1")
    pages.get("sso refused", "/login/oidc/callback?code=x&state=y", status=401)
    pages.client.cookies.clear()


def _anonymous(pages: Pages) -> None:
    pages.get("login", "/login")
    pages.get("contact, logged out", "/contact")
    pages.get("forgot", "/password/forgot")
    pages.get("forgot unlock", "/password/forgot?purpose=unlock")
    pages.get("invalid link", "/password/reset/no-such-token", status=422)
    pages.get("confirm e-mail", "/security/confirm-email/some-token")
    pages.get("not found", "/no/such/page", status=404)
    forbidden = pages.client.post("/login", data={"username": "anna.schmidt", "password": PASSWORD})
    assert forbidden.status_code == 403  # no CSRF token: the error page
    pages.html["forbidden"] = forbidden.text
    pages.post(
        "expired password",
        "/login",
        {"username": EXPIRED_LOGIN, "password": PASSWORD, "next": "/"},
        csrf_from="/login",
    )


def _anna_asks(pages: Pages) -> None:
    pages.log_in("anna.schmidt")
    pages.get("start", "/")
    pages.get("contact", "/contact")
    today = datetime.now(COMPANY_ZONE).date()
    for weeks_ahead in (9, 13):  # two requests: the manager approves one, the other keeps waiting
        first, last = _a_week_from(today + timedelta(weeks=weeks_ahead))
        pages.post(
            "leave request", "/vacation/requests", {"start": first, "end": last}, status=303, csrf_from="/vacation"
        )
    pages.post(
        "name change",
        "/profile/edit/name",
        {"first_name": "Anna", "last_name": "Schmidt-Weber"},
        status=303,
    )
    pages.get("profile edit", "/profile/edit/name")
    pages.get("profile history", "/profile/history")
    pages.get("team calendar", "/vacation/calendar")
    pages.post("calendar feed", "/vacation/feed", {}, csrf_from="/vacation")
    pages.post("calendar feed off", "/vacation/feed/revoke", {}, csrf_from="/vacation")
    pages.get("password", "/password")
    pages.get("security", "/security")
    pages.post("security, app setup", "/security/totp", {"password": PASSWORD}, csrf_from="/security")
    pages.log_out()


def _markus_approves_one(pages: Pages) -> None:
    pages.log_in("markus.weber")
    team = pages.get("team, two waiting", "/vacation/team")
    first = re.search(r'action="(/vacation/team/\d+)"', team)
    assert first is not None
    pages.post(
        "approve", first.group(1), {"decision": "approve", "comment": ""}, status=303, csrf_from="/vacation/team"
    )
    pages.get("team, one waiting", "/vacation/team")
    today = datetime.now(COMPANY_ZONE).date()
    period = {"first_day": today.isoformat(), "last_day": (today + timedelta(days=3)).isoformat()}
    refused = {"deputy": "", "first_day": today.isoformat(), "last_day": ""}
    pages.post("deputy, refused", "/vacation/team/deputies", refused, status=422, csrf_from="/vacation/team")
    named = {"deputy": "P10002", **period}  # his own manager
    pages.post("deputy named", "/vacation/team/deputies", named, status=303, csrf_from="/vacation/team")
    assert re.search(r'action="/vacation/team/deputies/\d+/end"', pages.get("team, deputy", "/vacation/team"))
    pages.log_out()


def _anna_sees_both(pages: Pages) -> None:
    pages.log_in("anna.schmidt")
    vacation = pages.get("vacation", "/vacation")
    assert re.search(r'action="/vacation/requests/\d+/withdraw"', vacation)  # the one still waiting
    assert re.search(r'action="/vacation/requests/\d+/cancel"', vacation)  # the approved one, still to come
    profile = pages.get("profile", "/profile")
    assert re.search(r'action="/profile/requests/\d+/withdraw"', profile)  # the name change waits for HR
    pages.log_out()


def _hanna(pages: Pages) -> None:
    pages.log_in("hanna.berger")
    queue = pages.get("change requests", "/hr/change-requests")
    assert re.search(r'action="/hr/change-requests/\d+"', queue)
    pages.get("report", "/hr/vacation-report")
    pages.get("second factor settings", "/security/second-factor")
    pages.log_out()
    second_step = pages.log_in("hanna.berger")
    assert second_step.startswith("/login/second-factor")
    pages.get("second factor", second_step)
    pages.post("second factor, wrong", "/login/second-factor", {"code": "12345"}, status=401, csrf_from=second_step)
    # The code of the next time step: the one of now confirmed the app (one step of clock drift is accepted).
    code = pages.totp["hanna.berger"].at(datetime.now(COMPANY_ZONE) + timedelta(seconds=30))
    pages.post("second factor, right", "/login/second-factor", {"code": code}, status=303, csrf_from=second_step)
    # HR edits the leave articles (signed in with both factors now: a third login would need a third code).
    pages.get("help editor", "/help-editor")
    pages.get("help edit", "/help-editor/articles/halbe-tage")
    pages.post(
        "help save refused",
        "/help-editor/articles/halbe-tage",
        {"category": "leave", "review_due": "kein Datum"},
        status=422,
    )
    pages.get("analytics", "/analytics")
    pages.get("analytics, bad date", "/analytics?from=morgen")
    pages.post(
        "annotation refused", "/analytics/annotations", {"day": "bald", "text": ""}, status=422, csrf_from="/analytics"
    )
    pages.log_out()


def _lukas(pages: Pages) -> None:
    pages.log_in("lukas.wagner")
    helpdesk = pages.get("helpdesk", "/helpdesk?login=anna.schmidt")
    assert 'action="/helpdesk/unlock"' in helpdesk
    pages.log_out()


def _privacy_and_console(pages: Pages) -> None:
    """The audit trail (helpdesk's scope), "my data" and the operator console with an upload's preview."""
    pages.log_in("lukas.wagner")
    pages.get("audit trail", "/audit?action=auth.")
    pages.log_out()
    pages.log_in("anna.schmidt")
    pages.get("my data", "/my-data")
    pages.log_out()
    pages.log_in("admin")
    pages.get("console", "/admin")
    pages.post("console, directory check", "/admin/directory-check", {}, csrf_from="/admin")
    pages.get("hr import", "/admin/hr-import")
    token = csrf_token(pages.client, "/admin/hr-import")
    files = {"file": ("company.csv", b"personnel_number,login\nP1,\n", "text/csv")}
    answer = pages.client.post("/admin/hr-import", data={"_csrf_token": token, "action": "preview"}, files=files)
    pages._keep("hr import preview with errors", answer, 200)
    pages.log_out()


def _help(pages: Pages) -> None:
    pages.get("help", "/help")
    pages.get("help article", "/help/passwort-vergessen")
    pages.get("search, anonymous", "/search?q=Konto+gesperrt")
    pages.post(
        "feedback",
        "/help/feedback",
        {"kind": "article", "key": "halbe-tage", "helpful": "yes"},
        status=303,
        csrf_from="/help/halbe-tage",
    )
    pages.log_in("anna.schmidt")
    pages.get("search", "/search?q=Resturlaub")
    pages.get("search, nothing found", "/search?q=Dienstfahrrad")
    pages.get("leave sent", "/vacation?created=1")
    pages.get("change sent", "/profile?saved=requested")
    pages.get("bank change sent", "/profile?saved=requested&section=bank")
    pages.get("tour", "/tour")
    pages.get("tour, last step", "/tour?step=4")
    pages.log_out()


def _help_requests(pages: Pages) -> None:
    """Someone who cannot log in asks IT; lukas.wagner (helpdesk) asks IT himself, so every link stays his own."""
    pages.get("help request, logged out", "/help-requests/logged-out")
    pages.post(
        "help request, logged out, sent",
        "/help-requests/logged-out",
        {"name": "Anna Schmidt", "callback": "+49 170 1234567", "login": "anna.schmidt", "message": "Gesperrt"},
    )
    pages.log_in("lukas.wagner")
    form = "/help-requests/new?page=/password&error_code=policy_violation&request_id=abc123"
    pages.get("help request form", form)
    suggest = {"topic": "login", "subject": "Passwort vergessen", "action": "suggest"}
    pages.post("help request suggestions", "/help-requests/new", suggest, csrf_from=form)
    pages.post("help request refused", "/help-requests/new", {"action": "send"}, status=422, csrf_from=form)
    sent = {"topic": "login", "subject": "VPN", "message": "Geht nicht", "page": "/password", "keep_page": "1"}
    pages.post("help request sent", "/help-requests/new", sent, status=303, csrf_from=form)
    mine = re.search(r'href="/help-requests/(\d+)"', pages.get("help requests", "/help-requests"))
    assert mine is not None
    own = f"/help-requests/{mine.group(1)}"
    pages.get("help request", own + "?created=1")
    pages.get("help desk", "/help-desk?status=received&topic=login&older_than_hours=0")
    desk = f"/help-desk/{mine.group(1)}"
    pages.get("help desk request", desk)
    anonymous = re.findall(r'href="/help-desk/(\d+)"', pages.get("help desk, all", "/help-desk"))
    pages.get("help desk, logged-out request", f"/help-desk/{min(anonymous)}")
    refused = {"message": "", "action": "answer"}
    pages.post("help desk answer refused", desk + "/answer", refused, status=422, csrf_from=desk)
    pages.post("help desk answer", desk + "/answer", {"message": "Neu starten", "action": "answer"}, 303, desk)
    pages.get("help request answered", own)
    pages.post("help request reply refused", own + "/reply", {"message": ""}, status=422, csrf_from=own)
    pages.log_out()


def _anna_recovers(pages: Pages, sink: SmtpSink) -> None:
    pages.post("link sent", "/password/forgot", {"login": "anna.schmidt", "purpose": "reset"})
    _, token = link_in(mails_to(sink, ANNA_PRIVATE, subject="Passwort")[-1])
    pages.get("reset", f"/password/reset/{token}")
    done = pages.post(
        "reset done", f"/password/reset/{token}", {"new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD}
    )
    journey = re.search(r'name="journey" value="([\w-]+)"', done)
    assert journey is not None, "the page that ends the reset asks whether it solved the concern"
    answer = {"flow": "password_reset", "journey": journey.group(1), "solved": "yes"}
    pages.post("solved", "/analytics/solved", answer, csrf_from="/help")
    refused = {**answer, "solved": "vielleicht"}
    pages.post("solved, refused", "/analytics/solved", refused, status=422, csrf_from="/help")
    pages.post("unlock link sent", "/password/forgot", {"login": "anna.schmidt", "purpose": "unlock"})
    _, token = link_in(mails_to(sink, ANNA_PRIVATE, subject="entsperren")[-1])
    pages.get("unlock", f"/password/unlock/{token}")


def test_every_template_renders_through_the_app(pages: Pages) -> None:
    """Each page above answered with its status (a wrong route name would have made it a 500): and together they
    used every template, so every template has been rendered."""
    every = {str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html")}
    assert sorted(every - pages.templates) == []


def _targets(html: str) -> set[tuple[str, str]]:
    """(method, path) of every form and internal link on a page."""
    found = set()
    for tag in FORM.findall(html):
        action = FORM_ACTION.search(tag)
        method = FORM_METHOD.search(tag)
        assert action is not None, tag
        found.add(((method.group(1) if method else "get").upper(), action.group(1)))
    found |= {("GET", path) for path in LINK.findall(html)}
    return {(method, path.split("#")[0].replace("&amp;", "&")) for method, path in found}


def test_every_link_and_form_leads_to_a_route_for_its_method(pages: Pages) -> None:
    targets = set().union(*(_targets(html) for html in pages.html.values()))
    assert all(path.startswith("/") for _, path in targets), sorted(targets)
    pages.log_in("lukas.wagner")
    for method, path in sorted(targets):
        if method == "GET":
            status = pages.client.get(path, follow_redirects=False).status_code
            assert status not in (404, 405), (method, path, status)
        else:
            # No CSRF token: a route that takes the POST refuses it with 403; no route would be 404 or 405.
            status = pages.client.post(path, follow_redirects=False).status_code
            assert status == 403, (method, path, status)
