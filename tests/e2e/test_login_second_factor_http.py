"""The second factor at login over HTTP: TOTP enrolment and login, recovery codes, remembered devices, a role that
needs a factor, API tokens, the helpdesk's audited reset, and that a password reset does not get around it."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pyotp
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import text

from ess.adapters.sql.database import create_engine
from ess.app import create_app
from ess.bootstrap import build_container
from ess.domain.audit import AuditEvent
from ess.settings import Settings
from tests.conftest import make_settings
from tests.e2e.helpers import CSRF_INPUT, PASSWORD, csrf_token, log_in
from tests.e2e.recovery_helpers import link_in, mails_to, seed_recovery, text_of
from tests.harness.smtp import SmtpSink, running_smtp_sink

ANNA_WORK = "anna.schmidt@example-ess.test"
ANNA_PRIVATE = "anna.schmidt@example.org"
NEW_PASSWORD = "Kanarienvogel singt im Treppenhaus 2026"
SECRET = re.compile(r'<code id="totp-secret">([A-Z2-7]+)</code>')
CODE = re.compile(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>")


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with running_smtp_sink() as sink:
        yield sink


def mfa_settings(database_url: str, sink: SmtpSink, **env: str) -> Settings:
    settings = make_settings(
        database_url,
        ESS_MAIL__BACKEND="smtp",
        ESS_MAIL__SMTP_HOST=sink.host,
        ESS_MAIL__SMTP_PORT=str(sink.port),
        **env,
    )
    asyncio.run(seed_recovery(settings))
    return settings


def audit_events(settings: Settings) -> list[AuditEvent]:
    async def read() -> list[AuditEvent]:
        container = build_container(settings)
        try:
            async with container.new_uow() as uow:
                return await uow.audit.recent(500)
        finally:
            await container.close()

    return asyncio.run(read())


def post_form(client: TestClient[Litestar], page: str, action: str, **fields: str) -> tuple[int, str]:
    response = client.post(action, data={"_csrf_token": csrf_token(client, page), **fields}, follow_redirects=False)
    return response.status_code, response.text


def enrol_totp(client: TestClient[Litestar]) -> tuple[pyotp.TOTP, list[str]]:
    """From the settings page of a logged-in owner: a new app, confirmed with its first code."""
    status, page = post_form(client, "/security/second-factor", "/security/second-factor/totp")
    assert status == 200
    match = SECRET.search(page)
    assert match is not None
    totp = pyotp.TOTP(match.group(1))
    status, page = post_form(
        client, "/security/second-factor", "/security/second-factor/totp/confirm", code=totp.now(), label="Dienst"
    )
    assert status == 200, page
    codes = CODE.findall(page)
    assert len(codes) == 10
    return totp, codes


def next_code(totp: pyotp.TOTP) -> str:
    """The code of the next time step: the one of now was used to confirm the app, and a step counts once (the
    server accepts one step of clock drift either way)."""
    return totp.at(datetime.now(UTC) + timedelta(seconds=30))


def log_out(client: TestClient[Litestar]) -> None:
    client.post("/logout", data={"_csrf_token": csrf_token(client, "/")})
    client.cookies.delete("ess_session")


def second_step(client: TestClient[Litestar], code: str, *, remember: bool = False) -> tuple[int, str, str]:
    page = client.get("/login/second-factor?next=/vacation")
    assert page.status_code == 200, page.text
    match = CSRF_INPUT.search(page.text)
    assert match is not None
    fields = {"_csrf_token": match.group(1), "code": code, "next": "/vacation"}
    if remember:
        fields["remember"] = "1"
    answer = client.post("/login/second-factor", data=fields, follow_redirects=False)
    return answer.status_code, answer.headers.get("location", ""), answer.text


def logged_in(client: TestClient[Litestar]) -> bool:
    return client.get("/vacation", follow_redirects=False).status_code == 200


def test_totp_and_recovery_codes_at_login_on_sqlite_and_postgresql(database_url: str, sink: SmtpSink) -> None:
    settings = mfa_settings(database_url, sink)
    with TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as client:
        assert log_in(client, "anna.schmidt", PASSWORD).status_code == 303
        totp, codes = enrol_totp(client)
        assert "Dienst" in client.get("/security/second-factor").text
        assert "zweite Faktor" in mails_to(sink, ANNA_WORK, subject="zweite Faktor")[-1]["Subject"]
        log_out(client)

        # The right password alone opens no session: the second step comes first.
        answer = log_in(client, "anna.schmidt", PASSWORD, next_="/vacation")
        assert answer.status_code == 303
        assert unquote(answer.headers["location"]) == "/login/second-factor?next=/vacation"
        assert "ess_session" not in client.cookies
        assert not logged_in(client)

        status, _, page = second_step(client, "000000" if totp.now() != "000000" else "111111")
        assert status == 401
        assert 'class="field-error"' in page and 'aria-invalid="true"' in page
        assert "Code ist nicht richtig" in page
        code = next_code(totp)
        status, location, _ = second_step(client, code)
        assert (status, location) == (303, "/vacation")
        assert logged_in(client)
        log_out(client)

        # The same code (its time step) counts once; a recovery code counts once.
        assert log_in(client, "anna.schmidt", PASSWORD).status_code == 303
        assert second_step(client, code)[0] == 401
        assert second_step(client, codes[0].upper().replace("-", " "))[:2] == (303, "/vacation")
        log_out(client)
        assert log_in(client, "anna.schmidt", PASSWORD).status_code == 303
        assert second_step(client, codes[0])[0] == 401
        assert not logged_in(client)

        # API tokens of an account with a factor need the code too.
        body = {"username": "anna.schmidt", "password": PASSWORD}
        missing = client.post("/api/v1/auth/token", json=body)
        assert (missing.status_code, missing.json()["code"]) == (401, "second_factor_required")
        wrong = client.post("/api/v1/auth/token", json={**body, "totp": codes[0]})
        assert (wrong.status_code, wrong.json()["code"]) == (401, "second_factor_failed")
        assert client.post("/api/v1/auth/token", json={**body, "totp": codes[1]}).status_code == 200

    async def stored() -> tuple[list[str], list[str]]:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                secrets = list((await connection.execute(text("SELECT secret FROM login_factors"))).scalars())
                hashes = list((await connection.execute(text("SELECT code_hash FROM login_recovery_codes"))).scalars())
            return secrets, hashes
        finally:
            await engine.dispose()

    secrets, hashes = asyncio.run(stored())
    assert len(secrets) == 1
    assert totp.secret not in secrets[0]  # sealed
    assert len(hashes) == 10
    assert not {c.replace("-", "") for c in codes} & set(hashes)
    methods = [e.details.get("method") for e in audit_events(settings) if e.action == "mfa.verified"]
    assert {"totp", "recovery_code"} <= set(methods)


def test_remember_this_device_skips_the_second_step_until_the_factor_is_reset(sqlite_url: str, sink: SmtpSink) -> None:
    settings = mfa_settings(sqlite_url, sink)
    with TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as client:
        assert log_in(client, "anna.schmidt", PASSWORD).status_code == 303
        totp, _ = enrol_totp(client)
        log_out(client)
        assert log_in(client, "anna.schmidt", PASSWORD).status_code == 303
        assert second_step(client, next_code(totp), remember=True)[0] == 303
        remembered = client.cookies.get("ess_mfa_device")
        assert remembered
        log_out(client)
        answer = log_in(client, "anna.schmidt", PASSWORD)
        assert (answer.status_code, answer.headers["location"]) == (303, "/")
        assert logged_in(client)
        log_out(client)

        # A forged or moved cookie does not count.
        client.cookies.set("ess_mfa_device", remembered[:-3] + "abc")
        assert "/login/second-factor" in log_in(client, "anna.schmidt", PASSWORD).headers["location"]
        client.cookies.set("ess_mfa_device", remembered)

        helpdesk = client.post("/api/v1/auth/token", json={"username": "lukas.wagner", "password": PASSWORD})
        bearer = {"Authorization": f"Bearer {helpdesk.json()['access_token']}"}
        reset = client.post(
            "/api/v1/helpdesk/accounts/anna.schmidt/second-factor/reset",
            json={"reason": "Ticket 4711, caller identified by call-back"},
            headers=bearer,
        )
        assert reset.json() == {"login": "anna.schmidt", "removed_factors": 1}
        # No factor now: the password alone, as before enrolment. A new factor forgets every remembered device.
        assert log_in(client, "anna.schmidt", PASSWORD).headers["location"] == "/"
        enrol_totp(client)
        log_out(client)
        assert "/login/second-factor" in log_in(client, "anna.schmidt", PASSWORD).headers["location"]


def test_a_role_that_needs_a_factor_enrols_right_after_the_password(sqlite_url: str, sink: SmtpSink) -> None:
    settings = mfa_settings(sqlite_url, sink, ESS_SECURITY__SECOND_FACTOR_ROLES='["helpdesk", "hr", "admin"]')
    with TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as client:
        body = {"username": "lukas.wagner", "password": PASSWORD}
        refused = client.post("/api/v1/auth/token", json=body)
        assert (refused.status_code, refused.json()["code"]) == (403, "second_factor_enrolment_required")

        answer = log_in(client, "lukas.wagner", PASSWORD, next_="/helpdesk")
        assert unquote(answer.headers["location"]) == "/login/enrol?next=/helpdesk"
        assert client.get("/helpdesk", follow_redirects=False).status_code != 200
        page = client.get("/login/enrol?next=/helpdesk")
        match = SECRET.search(page.text)
        assert match is not None
        assert SECRET.search(client.get("/login/enrol").text).group(1) == match.group(1)  # type: ignore[union-attr]
        totp = pyotp.TOTP(match.group(1))
        status, page_text = post_form(client, "/login/enrol", "/login/enrol", code="12345", next="/helpdesk")
        assert status == 401
        assert 'class="field-error"' in page_text
        status, page_text = post_form(client, "/login/enrol", "/login/enrol", code=totp.now(), next="/helpdesk")
        assert status == 200
        assert len(CODE.findall(page_text)) == 10
        assert client.get("/helpdesk").status_code == 200

        # The only factor of such a role cannot be removed.
        settings_page = client.get("/security/second-factor").text
        factor_id = re.search(r'name="factor" value="(\d+)"', settings_page).group(1)  # type: ignore[union-attr]
        status, page_text = post_form(
            client, "/security/second-factor", "/security/second-factor/remove", factor=factor_id, password=PASSWORD
        )
        assert status == 422
        assert "Ihre Rolle" in page_text

        assert client.post("/api/v1/auth/token", json={**body, "totp": next_code(totp)}).status_code == 200

    # The enrolment was announced to the owner.
    assert mails_to(sink, "lukas.wagner@example-ess.test", subject="zweite Faktor")


def test_the_helpdesk_resets_a_second_factor_only_with_a_reason_and_the_owner_hears_of_it(
    sqlite_url: str, sink: SmtpSink
) -> None:
    settings = mfa_settings(sqlite_url, sink)
    with TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as client:
        assert log_in(client, "anna.schmidt", PASSWORD).status_code == 303
        enrol_totp(client)
        log_out(client)

        def token(login: str) -> dict[str, str]:
            answer = client.post("/api/v1/auth/token", json={"username": login, "password": PASSWORD})
            return {"Authorization": f"Bearer {answer.json()['access_token']}"}

        url = "/api/v1/helpdesk/accounts/{}/second-factor/reset"
        reason = {"reason": "Ticket 4711, caller identified by call-back"}
        employee = client.post(url.format("anna.schmidt"), json=reason, headers=token("markus.weber"))
        assert employee.status_code == 403
        helpdesk = token("lukas.wagner")
        assert client.post(url.format("anna.schmidt"), json={"reason": "lost"}, headers=helpdesk).status_code == 422
        assert client.post(url.format("lukas.wagner"), json=reason, headers=helpdesk).status_code == 403
        assert client.post(url.format("niemand.da"), json=reason, headers=helpdesk).status_code == 404
        assert "/login/second-factor" in log_in(client, "anna.schmidt", PASSWORD).headers["location"]

        done = client.post(url.format("anna.schmidt"), json=reason, headers=helpdesk)
        assert done.json() == {"login": "anna.schmidt", "removed_factors": 1}

    events = [e for e in audit_events(settings) if e.action == "mfa.helpdesk_reset"]
    assert [(e.actor, e.target, e.outcome.value) for e in events if e.outcome.value == "success"] == [
        ("lukas.wagner", "anna.schmidt", "success")
    ]
    assert next(e for e in events if e.outcome.value == "success").details["reason"] == reason["reason"]
    assert {"role", "own_account"} <= {e.details.get("reason") for e in events if e.outcome.value == "denied"}
    notice = mails_to(sink, ANNA_WORK, subject="zweite Faktor")[-1]
    assert "IT-Service" in text_of(notice) or "Service" in text_of(notice)
    assert "zurückgesetzt" in text_of(notice)


def test_a_password_reset_does_not_get_around_the_login_second_factor(sqlite_url: str, sink: SmtpSink) -> None:
    settings = make_settings(
        sqlite_url,
        ESS_MAIL__BACKEND="smtp",
        ESS_MAIL__SMTP_HOST=sink.host,
        ESS_MAIL__SMTP_PORT=str(sink.port),
        ESS_BASE_URL="http://ess-intranet.example-ess.test:8443",
    )
    asyncio.run(seed_recovery(settings))
    with TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as client:
        assert log_in(client, "anna.schmidt", PASSWORD).status_code == 303
        totp, _ = enrol_totp(client)
        log_out(client)
        forgot = client.post("/api/v1/password/forgot", json={"login": "anna.schmidt", "purpose": "reset"})
        assert forgot.status_code == 202
        _, link_token = link_in(mails_to(sink, ANNA_PRIVATE, subject="Passwort")[-1])
        body = {"token": link_token, "new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD}
        assert client.post("/api/v1/password/reset", json=body).status_code == 204
        assert not logged_in(client)  # no automatic login
        # The new password is only the first factor.
        assert "/login/second-factor" in log_in(client, "anna.schmidt", NEW_PASSWORD).headers["location"]
        assert not logged_in(client)
        refused = client.post("/api/v1/auth/token", json={"username": "anna.schmidt", "password": NEW_PASSWORD})
        assert refused.json()["code"] == "second_factor_required"
        assert second_step(client, next_code(totp))[0] == 303
        assert logged_in(client)


def test_the_second_step_needs_this_browsers_fresh_password_step(sqlite_url: str, sink: SmtpSink) -> None:
    settings = mfa_settings(sqlite_url, sink)
    with TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as client:
        assert log_in(client, "anna.schmidt", PASSWORD).status_code == 303
        totp, _ = enrol_totp(client)
        log_out(client)
        # Without the password step, or with a forged one, the second step leads back to the login page.
        assert client.get("/login/second-factor", follow_redirects=False).headers["location"].startswith("/login")
        assert log_in(client, "anna.schmidt", PASSWORD).status_code == 303
        step = client.cookies.get("ess_login_step")
        assert step
        _login_part, issued, nonce, mac = step.split(".")
        forged = ".".join(("bWFya3VzLndlYmVy", issued, nonce, mac))  # markus.weber with anna's signature
        client.cookies.set("ess_login_step", forged)
        token = csrf_token(client, "/login")
        answer = client.post(
            "/login/second-factor", data={"_csrf_token": token, "code": totp.now()}, follow_redirects=False
        )
        assert answer.headers["location"].startswith("/login?expired")
        assert "Die Anmeldung ist abgelaufen" in client.get(answer.headers["location"]).text
        assert not logged_in(client)


def test_the_helpdesk_page_resets_a_second_factor_and_says_why_it_refuses(sqlite_url: str, sink: SmtpSink) -> None:
    settings = mfa_settings(sqlite_url, sink)
    with TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as client:
        assert log_in(client, "anna.schmidt", PASSWORD).status_code == 303
        enrol_totp(client)
        log_out(client)
        assert log_in(client, "lukas.wagner", PASSWORD).status_code == 303
        page = "/helpdesk?login=anna.schmidt"
        assert 'action="/helpdesk/second-factor/reset"' in client.get(page).text
        status, text_ = post_form(client, page, "/helpdesk/second-factor/reset", login="anna.schmidt", reason="weg")
        assert status == 422
        assert 'id="mfa-reset-reason-error-1"' in text_ and "10 bis 500 Zeichen" in text_
        assert 'value="weg"' in text_  # what was typed stays in the field
        status, text_ = post_form(
            client, page, "/helpdesk/second-factor/reset", login="anna.schmidt", reason="Ticket 4711, Rückruf"
        )
        assert status == 200
        assert "Der zweite Faktor wurde zurückgesetzt" in text_
        log_out(client)
        assert log_in(client, "anna.schmidt", PASSWORD).headers["location"] == "/"
