"""Forgotten password, unlock, enrolment and helpdesk over HTTP: the real app in-process, SQLite, the local
directory and a real SMTP server (aiosmtpd sink)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import text

from ess.adapters.recovery import MemorySmsGateway
from ess.adapters.sql.database import create_engine
from ess.app import create_app
from ess.bootstrap import build_container
from ess.domain.audit import AuditEvent
from ess.domain.recovery.ports import RecoveryDeps
from ess.settings import Settings
from tests.conftest import make_settings
from tests.e2e.helpers import CSRF_INPUT, PASSWORD, csrf_token, log_in
from tests.e2e.recovery_helpers import link_in, mails_to, seed_recovery, text_of
from tests.fakes import FixedClock
from tests.harness.smtp import SmtpSink, running_smtp_sink

ANNA_PRIVATE = "anna.schmidt@example.org"
ANNA_WORK = "anna.schmidt@example-ess.test"
NEW_PASSWORD = "Kanarienvogel singt im Treppenhaus 2026"
BASE_URL = "http://ess-intranet.example-ess.test:8443"  # http: the test client cannot send secure cookies


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with running_smtp_sink() as sink:
        yield sink


def recovery_settings(sqlite_url: str, sink: SmtpSink, **env: str) -> Settings:
    settings = make_settings(
        sqlite_url,
        ESS_MAIL__BACKEND="smtp",
        ESS_MAIL__SMTP_HOST=sink.host,
        ESS_MAIL__SMTP_PORT=str(sink.port),
        ESS_BASE_URL=BASE_URL,
        **env,
    )
    asyncio.run(seed_recovery(settings))
    return settings


@pytest.fixture
def settings(sqlite_url: str, sink: SmtpSink) -> Settings:
    return recovery_settings(sqlite_url, sink)


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


def recovery_of(app: Litestar) -> RecoveryDeps:
    """The recovery dependencies the app hands its handlers (its provider, called as for a handler)."""
    deps = app.dependencies["recovery"].dependency()
    assert isinstance(deps, RecoveryDeps)
    return deps


def audit_events(settings: Settings) -> list[AuditEvent]:
    async def read() -> list[AuditEvent]:
        container = build_container(settings)
        try:
            async with container.new_uow() as uow:
                return await uow.audit.recent(500)
        finally:
            await container.close()

    return asyncio.run(read())


def forgot(client: TestClient[Litestar], login: str, purpose: str = "reset", **headers: str) -> tuple[int, str]:
    response = client.post("/api/v1/password/forgot", json={"login": login, "purpose": purpose}, headers=headers)
    return response.status_code, response.text


def reset_link(client: TestClient[Litestar], sink: SmtpSink, count: int = 1) -> tuple[str, str]:
    return link_in(mails_to(sink, ANNA_PRIVATE, count, subject="Passwort")[-1])


def api_token(client: TestClient[Litestar], login: str, password: str) -> str:
    response = client.post("/api/v1/auth/token", json={"username": login, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


# --- Forgotten password -----------------------------------------------------------------------------------------


def test_reset_through_a_link_from_the_configured_base_url_once(
    client: TestClient[Litestar], sink: SmtpSink, settings: Settings
) -> None:
    # A poisoned Host header must not end up in the link (OWASP FP-06, SSP #755).
    status, _ = forgot(client, "anna.schmidt", host="evil.example")
    assert status == 202
    url, token = reset_link(client, sink)
    assert url.startswith(f"{BASE_URL}/password/reset/")
    assert len(token) >= 43  # 32 bytes of secrets.token_urlsafe: 256 bits
    assert ANNA_WORK not in str(mails_to(sink, ANNA_PRIVATE)[0]["To"])  # the link goes to the private address only

    page = client.get(f"/password/reset/{token}")
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"

    # Policy first: a short password and a mismatch are refused and the link stays usable.
    short = client.post(
        "/api/v1/password/reset", json={"token": token, "new_password": "kurz", "new_password_repeat": "kurz"}
    )
    assert short.status_code == 422
    assert short.json()["code"] == "password_rejected"

    done = client.post(
        "/api/v1/password/reset",
        json={"token": token, "new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD},
    )
    assert done.status_code == 204
    assert log_in(client, "anna.schmidt", PASSWORD).status_code == 401
    assert log_in(client, "anna.schmidt", NEW_PASSWORD).status_code == 303

    again = client.post(
        "/api/v1/password/reset",
        json={"token": token, "new_password": NEW_PASSWORD + "!", "new_password_repeat": NEW_PASSWORD + "!"},
    )
    assert again.status_code == 422
    assert again.json()["code"] == "recovery_link_invalid"

    # Notices to the work and the private address, without password or token.
    [notice] = mails_to(sink, ANNA_WORK, subject="zurückgesetzt")
    assert ANNA_PRIVATE in str(notice["To"])
    assert NEW_PASSWORD not in text_of(notice)
    assert token not in text_of(notice)

    actions = [(e.action, e.outcome.value) for e in audit_events(settings)]
    for step in (
        ("recovery.requested", "success"),
        ("recovery.link_sent", "success"),
        ("recovery.password_reset", "failure"),
        ("recovery.password_reset", "success"),
        ("recovery.link_used", "failure"),
        ("auth.access_revoked", "success"),
    ):
        assert step in actions, step


def test_a_new_link_invalidates_the_earlier_one(client: TestClient[Litestar], sink: SmtpSink, app: Litestar) -> None:
    forgot(client, "anna.schmidt")
    _, first = reset_link(client, sink, 1)
    forgot(client, ANNA_WORK)  # the work e-mail works as well as the login
    _, second = reset_link(client, sink, 2)
    assert first != second
    assert client.get(f"/password/reset/{first}").status_code == 422
    assert client.get(f"/password/reset/{second}").status_code == 200


def test_links_expire_after_15_minutes(sqlite_url: str, sink: SmtpSink) -> None:
    settings = recovery_settings(sqlite_url, sink)
    clock = FixedClock(datetime.now(UTC))
    app = create_app(settings, container=build_container(settings, clock=clock))
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as client:
        forgot(client, "anna.schmidt")
        _, token = reset_link(client, sink)
        clock.advance(timedelta(minutes=14, seconds=59))
        assert client.get(f"/password/reset/{token}").status_code == 200
        clock.advance(timedelta(seconds=1))
        assert client.get(f"/password/reset/{token}").status_code == 422


def test_a_password_change_by_reset_ends_old_sessions_and_api_tokens(
    client: TestClient[Litestar], sink: SmtpSink
) -> None:
    # This browser keeps its session cookie throughout; the API calls below authenticate by token only.
    assert log_in(client, "anna.schmidt", PASSWORD).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 200
    old_token = api_token(client, "anna.schmidt", PASSWORD)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {old_token}"}).status_code == 200

    forgot(client, "anna.schmidt")
    _, token = reset_link(client, sink)
    done = client.post(
        "/api/v1/password/reset",
        json={"token": token, "new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD},
    )
    assert done.status_code == 204

    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {old_token}"}).status_code == 401
    assert client.get("/", follow_redirects=False).status_code == 303  # the old session is gone: to the login page


# --- No enumeration: answer, status, throttling, timing ----------------------------------------------------------


def test_known_and_unknown_logins_get_the_same_answer_and_throttling(sqlite_url: str, sink: SmtpSink) -> None:
    settings = recovery_settings(sqlite_url, sink, ESS_RECOVERY__REQUESTS_PER_CLIENT_PER_HOUR="6")
    with TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as client:
        answers = [forgot(client, login) for login in ("anna.schmidt", "nobody.here", "anna.schmidt", "x*)(uid=*")]
        assert len(set(answers)) == 1
        assert answers[0][0] == 202
        # The per-client limit is counted before the lookup: it strikes at the same request for everybody.
        assert forgot(client, "nobody.else")[0] == 202
        assert forgot(client, "anna.schmidt")[0] == 202
        throttled = {forgot(client, login) for login in ("anna.schmidt", "nobody.here")}
        assert len(throttled) == 1
        assert next(iter(throttled))[0] == 429


def test_no_mail_bombing_further_requests_are_dropped_silently(sqlite_url: str, sink: SmtpSink) -> None:
    settings = recovery_settings(sqlite_url, sink, ESS_RECOVERY__MAILS_PER_ACCOUNT_PER_HOUR="2")
    app = create_app(settings)
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as client:
        assert {forgot(client, "anna.schmidt")[0] for _ in range(5)} == {202}
        mails_to(sink, ANNA_PRIVATE, 2)
        client.blocking_portal.call(_drain, app)
    assert len([m for m in sink.messages if ANNA_PRIVATE in str(m["To"])]) == 2
    reasons = [e.details.get("reason") for e in audit_events(settings) if e.action == "recovery.throttled"]
    assert reasons.count("mails_per_account") == 3


async def _drain(app: Litestar) -> None:
    jobs = recovery_of(app).jobs
    drain = getattr(jobs, "drain", None)
    assert drain is not None
    await drain()


def test_timing_known_versus_unknown_median_difference_below_5_ms(sqlite_url: str, sink: SmtpSink) -> None:
    settings = recovery_settings(
        sqlite_url,
        sink,
        ESS_RECOVERY__REQUESTS_PER_CLIENT_PER_HOUR="100000",
        ESS_RECOVERY__REQUESTS_PER_HOUR="100000",
        ESS_RECOVERY__MAILS_PER_ACCOUNT_PER_HOUR="100000",
    )
    known, unknown = measure_forgot(settings, tries=100)
    difference_ms = abs(statistics.median(known) - statistics.median(unknown)) * 1000
    assert difference_ms < 5, f"median known {statistics.median(known):.4f}s, unknown {statistics.median(unknown):.4f}s"


def measure_forgot(settings: Settings, *, tries: int) -> tuple[list[float], list[float]]:
    """Seconds per request for a known and an unknown login, interleaved so both see the same background load."""
    known: list[float] = []
    unknown: list[float] = []
    with TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as client:
        for login in ("anna.schmidt", "nobody.here"):  # warm up both paths
            forgot(client, login)
        for i in range(tries):
            for login, samples in (("anna.schmidt", known), (f"nobody{i}.here", unknown)):
                started = time.perf_counter()
                status, _ = forgot(client, login)
                samples.append(time.perf_counter() - started)
                assert status == 202
    return known, unknown


# --- Unlock -------------------------------------------------------------------------------------------------------


async def _lock(settings: Settings, login: str) -> None:
    container = build_container(settings)
    try:
        for _ in range(settings.directory.local.lockout_threshold):
            await container.directory.authenticate(login, "falsch falsch falsch")
        assert (await container.directory.account_status(login)).locked
    finally:
        await container.close()


def test_unlock_through_a_link_keeps_the_password(
    client: TestClient[Litestar], sink: SmtpSink, settings: Settings
) -> None:
    asyncio.run(_lock(settings, "anna.schmidt"))
    assert log_in(client, "anna.schmidt", PASSWORD).status_code == 401
    assert forgot(client, "anna.schmidt", purpose="unlock")[0] == 202
    url, token = link_in(mails_to(sink, ANNA_PRIVATE, subject="entsperren")[-1])
    assert "/password/unlock/" in url
    # An unlock link does not reset a password.
    wrong = client.post(
        "/api/v1/password/reset",
        json={"token": token, "new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD},
    )
    assert wrong.status_code == 422
    assert client.post("/api/v1/password/unlock", json={"token": token}).status_code == 204
    assert log_in(client, "anna.schmidt", PASSWORD).status_code == 303
    assert client.post("/api/v1/password/unlock", json={"token": token}).status_code == 422
    mails_to(sink, ANNA_WORK, subject="entsperrt")


# --- Enrolment ----------------------------------------------------------------------------------------------------


def _post_security(client: TestClient[Litestar], path: str, **fields: str) -> tuple[int, str]:
    response = client.post(path, data={"_csrf_token": csrf_token(client, "/security"), **fields})
    return response.status_code, response.text


def test_totp_enrolment_then_the_reset_needs_a_fresh_code(
    client: TestClient[Litestar], sink: SmtpSink, app: Litestar
) -> None:
    assert log_in(client, "anna.schmidt", PASSWORD).status_code == 303
    status, page = _post_security(client, "/security/totp", password="falsch")
    assert status == 401
    status, page = _post_security(client, "/security/totp", password=PASSWORD)
    assert status == 200
    assert 'src="data:image/svg+xml' in page  # the QR code inline, no external service
    secret = page.split('id="totp-secret">')[1].split("<")[0]
    assert _post_security(client, "/security/totp/confirm", code="000000")[0] == 401
    clock = recovery_of(app).clock
    code = pyotp.TOTP(secret).at(clock.now())
    assert _post_security(client, "/security/totp/confirm", code=code)[0] == 200
    mails_to(sink, ANNA_PRIVATE, subject="Authenticator")
    client.post("/logout", data={"_csrf_token": csrf_token(client, "/security")})

    forgot(client, "anna.schmidt")
    _, token = reset_link(client, sink)
    body = {"token": token, "new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD}
    missing = client.post("/api/v1/password/reset", json=body)
    assert missing.status_code == 401
    assert missing.json()["code"] == "second_factor_failed"
    # The code used at enrolment cannot be replayed.
    assert client.post("/api/v1/password/reset", json={**body, "totp_code": code}).status_code == 401
    later = clock.now() + timedelta(seconds=30)
    fresh = pyotp.TOTP(secret).at(later)
    if fresh == code:
        fresh = pyotp.TOTP(secret).at(later + timedelta(seconds=30))
    assert client.post("/api/v1/password/reset", json={**body, "totp_code": fresh}).status_code == 204
    assert log_in(client, "anna.schmidt", NEW_PASSWORD).status_code == 303


def test_changing_the_recovery_email_needs_the_password_a_confirmation_and_tells_both_addresses(
    client: TestClient[Litestar], sink: SmtpSink
) -> None:
    assert log_in(client, "anna.schmidt", PASSWORD).status_code == 303
    assert _post_security(client, "/security/email", password=PASSWORD, private_email="kein-mail")[0] == 422
    assert _post_security(client, "/security/email", password="falsch", private_email="anna@example.net")[0] == 401
    status, _page = _post_security(client, "/security/email", password=PASSWORD, private_email="anna@example.net")
    assert status == 200
    mails_to(sink, ANNA_PRIVATE, subject="angefordert")  # the old address hears of it
    url, token = link_in(mails_to(sink, "anna@example.net", subject="bestätigen")[-1])
    assert "/security/confirm-email/" in url
    # Not yet confirmed: resets still go to the old address.
    forgot(client, "anna.schmidt")
    reset_link(client, sink)
    confirm_page = client.get(f"/security/confirm-email/{token}")
    match = CSRF_INPUT.search(confirm_page.text)
    assert match is not None
    assert client.post(f"/security/confirm-email/{token}", data={"_csrf_token": match.group(1)}).status_code == 200
    changed = mails_to(sink, ANNA_PRIVATE, subject="geändert")[-1]
    assert "anna@example.net" in str(changed["To"])
    forgot(client, "anna.schmidt")
    link_in(mails_to(sink, "anna@example.net", subject="Passwort")[-1])


def test_sms_channel_off_by_default_and_a_second_factor_when_switched_on(sqlite_url: str, sink: SmtpSink) -> None:
    settings = recovery_settings(sqlite_url, sink, ESS_RECOVERY__SMS_GATEWAY="memory")
    app = create_app(settings)
    gateway = recovery_of(app).sms
    assert isinstance(gateway, MemorySmsGateway)
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as client:
        assert log_in(client, "anna.schmidt", PASSWORD).status_code == 303
        assert _post_security(client, "/security/mobile", password=PASSWORD, mobile="0170 1234567")[0] == 200
        number, text = gateway.sent[-1]
        assert number == "+491701234567"
        assert _post_security(client, "/security/mobile/confirm", code=text.split()[-1])[0] == 200
        client.post("/logout", data={"_csrf_token": csrf_token(client, "/security")})

        forgot(client, "anna.schmidt")
        _, token = reset_link(client, sink)
        body = {"token": token, "new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD}
        assert client.post("/api/v1/password/reset", json=body).status_code == 401
        page = client.get(f"/password/reset/{token}")
        match = CSRF_INPUT.search(page.text)
        assert match is not None
        assert client.post(f"/password/reset/{token}/sms", data={"_csrf_token": match.group(1)}).status_code == 200
        code = gateway.sent[-1][1].split()[-1]
        assert client.post("/api/v1/password/reset", json={**body, "sms_code": code}).status_code == 204


# --- Helpdesk -----------------------------------------------------------------------------------------------------


def test_the_helpdesk_sees_unlocks_and_sends_a_link_but_no_one_else_may(
    client: TestClient[Litestar], sink: SmtpSink, settings: Settings
) -> None:
    asyncio.run(_lock(settings, "anna.schmidt"))
    employee = api_token(client, "markus.weber", PASSWORD)
    denied = client.get("/api/v1/helpdesk/accounts/anna.schmidt", headers={"Authorization": f"Bearer {employee}"})
    assert denied.status_code == 403
    assert client.get("/api/v1/helpdesk/accounts/anna.schmidt").status_code == 401

    helpdesk = {"Authorization": f"Bearer {api_token(client, 'lukas.wagner', PASSWORD)}"}
    account = client.get("/api/v1/helpdesk/accounts/anna.schmidt", headers=helpdesk)
    assert account.status_code == 200
    assert account.json()["locked"] is True
    assert account.json()["has_verified_recovery_email"] is True
    assert set(account.json()) == {
        "login",
        "display_name",
        "locked",
        "disabled",
        "password_expired",
        "must_change",
        "locked_until",
        "password_expires_at",
        "password_changed_at",
        "has_verified_recovery_email",
        "has_totp",
    }  # no password field
    assert client.get("/api/v1/helpdesk/accounts/nobody.here", headers=helpdesk).status_code == 404

    assert client.post("/api/v1/helpdesk/accounts/anna.schmidt/unlock", headers=helpdesk).status_code == 204
    assert client.get("/api/v1/helpdesk/accounts/anna.schmidt", headers=helpdesk).json()["locked"] is False
    sent = client.post("/api/v1/helpdesk/accounts/anna.schmidt/reset-link", headers=helpdesk)
    assert sent.status_code == 202
    _, token = reset_link(client, sink)
    assert token not in sent.text

    events = [e for e in audit_events(settings) if e.action.startswith("helpdesk.")]
    assert {(e.action, e.actor, e.outcome.value) for e in events} >= {
        ("helpdesk.lookup", "markus.weber", "denied"),
        ("helpdesk.lookup", "lukas.wagner", "success"),
        ("helpdesk.unlock", "lukas.wagner", "success"),
        ("helpdesk.reset_link", "lukas.wagner", "success"),
    }
    assert ("recovery.link_sent", "lukas.wagner") in {(e.action, e.actor) for e in audit_events(settings)}


def test_the_helpdesk_page(client: TestClient[Litestar]) -> None:
    assert log_in(client, "lukas.wagner", PASSWORD).status_code == 303
    page = client.get("/helpdesk?login=anna.schmidt")
    assert page.status_code == 200
    assert "Anna Schmidt" in page.text
    match = CSRF_INPUT.search(page.text)
    assert match is not None
    unlocked = client.post("/helpdesk/unlock", data={"_csrf_token": match.group(1), "login": "anna.schmidt"})
    assert unlocked.status_code == 200


# --- No secret in any log line, audit detail or error answer -------------------------------------------------------


def test_no_password_token_or_code_appears_in_logs_audit_or_errors(
    client: TestClient[Litestar], sink: SmtpSink, settings: Settings, app: Litestar, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    canary_old = "Kanarien-Alt-4711-Passwort"
    canary_new = "Kanarien-Neu-0815-Passwort lang genug"
    bodies: list[str] = []
    # Login and change flows with a canary password.
    bodies.append(log_in(client, "anna.schmidt", canary_old).text)
    assert log_in(client, "anna.schmidt", PASSWORD).status_code == 303
    bodies.append(
        client.post(
            "/password",
            data={
                "_csrf_token": csrf_token(client, "/password"),
                "current_password": canary_old,
                "new_password": canary_new,
                "new_password_repeat": canary_new,
            },
        ).text
    )
    # Enrolment with the TOTP secret and codes.
    _status, page = _post_security(client, "/security/totp", password=PASSWORD)
    secret = page.split('id="totp-secret">')[1].split("<")[0]
    code = pyotp.TOTP(secret).at(recovery_of(app).clock.now())
    # The owner's own enrolment page shows the pending key (that is its purpose), never a password.
    wrong_code_page = _post_security(client, "/security/totp/confirm", code="123456")[1]
    assert canary_old not in wrong_code_page
    assert PASSWORD not in wrong_code_page
    _post_security(client, "/security/totp/confirm", code=code)
    bodies.append(_post_security(client, "/security/email", password=canary_old, private_email="x@example.net")[1])
    client.post("/logout", data={"_csrf_token": csrf_token(client, "/security")})
    # Reset with wrong and right codes, a policy failure and a reused link.
    forgot(client, "anna.schmidt")
    _, token = reset_link(client, sink)
    body = {"token": token, "new_password": canary_new, "new_password_repeat": canary_new}
    bodies.append(client.post("/api/v1/password/reset", json={**body, "totp_code": code}).text)
    bodies.append(client.get(f"/password/reset/{token}").text.replace(f"/password/reset/{token}", ""))
    later = recovery_of(app).clock.now() + timedelta(seconds=30)
    fresh = pyotp.TOTP(secret).at(later)
    bodies.append(client.post("/api/v1/password/reset", json={**body, "new_password_repeat": "anders"}).text)
    assert client.post("/api/v1/password/reset", json={**body, "totp_code": fresh}).status_code == 204
    bodies.append(client.post("/api/v1/password/reset", json={**body, "totp_code": fresh}).text)
    bodies.append(client.post("/api/v1/password/unlock", json={"token": token}).text)
    # A page echoes its own address (the language switch returns to it); nothing else may carry the token.
    bodies.append(client.get(f"/password/unlock/{token}").text.replace(f"/password/unlock/{token}", ""))

    secrets_used = [canary_old, canary_new, token, secret, code, fresh, PASSWORD]
    # Every logger of the app and its libraries at DEBUG, except the test's own tools: the HTTP client (httpx logs
    # the URLs it requests) and the SMTP sink (aiosmtpd logs the mails it receives, which carry the links).
    log_text = "\n".join(
        record.getMessage() for record in caplog.records if record.name.split(".")[0] not in {"httpx", "mail"}
    )
    audit_text = "\n".join(f"{e.actor} {e.target} {e.details}" for e in audit_events(settings))
    for value in secrets_used:
        assert value not in log_text, "a secret reached the log"
        assert value not in audit_text, "a secret reached the audit log"
    for value in (canary_old, canary_new, secret, code, fresh, token):
        for answer in bodies:
            assert value not in answer, "a secret came back in an error answer"


def test_only_a_hash_of_the_link_and_a_sealed_totp_seed_are_stored(
    client: TestClient[Litestar], sink: SmtpSink, settings: Settings, app: Litestar
) -> None:
    assert log_in(client, "anna.schmidt", PASSWORD).status_code == 303
    _, page = _post_security(client, "/security/totp", password=PASSWORD)
    secret = page.split('id="totp-secret">')[1].split("<")[0]
    forgot(client, "anna.schmidt")
    _, token = reset_link(client, sink)

    async def dump() -> str:
        engine = create_engine(settings.database.url)
        try:
            async with engine.connect() as connection:
                rows = [
                    *(await connection.execute(text("SELECT * FROM recovery_tokens"))).all(),
                    *(await connection.execute(text("SELECT * FROM recovery_profiles"))).all(),
                ]
        finally:
            await engine.dispose()
        return "\n".join(repr(tuple(row)) for row in rows)

    stored = asyncio.run(dump())
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert token not in stored
    assert secret not in stored  # the TOTP seed is sealed (Fernet), never plain
    assert "gAAAAA" in stored  # the Fernet token of the pending seed


def test_a_link_for_one_account_is_bound_to_it_and_helpdesk_needs_a_verified_address(
    client: TestClient[Litestar], sink: SmtpSink, settings: Settings
) -> None:
    async def forget_private_email() -> None:
        container = build_container(settings)
        try:
            async with container.new_uow() as uow:
                await uow.recovery.set_private_email("markus.weber", "weber.markus@example.org", None)
                await uow.commit()
        finally:
            await container.close()

    asyncio.run(forget_private_email())
    helpdesk = {"Authorization": f"Bearer {api_token(client, 'lukas.wagner', PASSWORD)}"}
    refused = client.post("/api/v1/helpdesk/accounts/markus.weber/reset-link", headers=helpdesk)
    assert refused.status_code == 409
    assert refused.json()["code"] == "no_recovery_address"
    # An unverified private address gets nothing, and the answer does not tell.
    assert forgot(client, "markus.weber") == forgot(client, "nobody.here")
    forgot(client, "anna.schmidt")
    reset_link(client, sink)
    assert not [m for m in sink.messages if "weber.markus@example.org" in str(m["To"])]


def test_the_reset_flow_on_sqlite_and_postgresql(database_url: str, sink: SmtpSink) -> None:
    settings = recovery_settings(database_url, sink)
    with TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as client:
        forgot(client, "anna.schmidt")
        _, first = reset_link(client, sink, 1)
        forgot(client, "anna.schmidt")
        _, token = reset_link(client, sink, 2)
        body = {"token": token, "new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD}
        assert client.post("/api/v1/password/reset", json={**body, "token": first}).status_code == 422
        assert client.post("/api/v1/password/reset", json=body).status_code == 204
        assert client.post("/api/v1/password/reset", json=body).status_code == 422
        assert log_in(client, "anna.schmidt", NEW_PASSWORD).status_code == 303


def test_wrong_passwords_and_codes_never_lock_the_directory_account(sqlite_url: str, sink: SmtpSink) -> None:
    # A directory that locks after 4 failures: the enrolment page lets only 3 wrong passwords through to it.
    settings = recovery_settings(sqlite_url, sink, ESS_DIRECTORY__LOCAL__LOCKOUT_THRESHOLD="4")
    app = create_app(settings)
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as client:
        assert log_in(client, "anna.schmidt", PASSWORD).status_code == 303
        statuses = [_post_security(client, "/security/totp", password=f"falsch {i}")[0] for i in range(8)]
        assert statuses == [401, 401, 401, 429, 429, 429, 429, 429]
        client.post("/logout", data={"_csrf_token": csrf_token(client, "/security")})
        # Wrong link tokens never reach the directory at all.
        for i in range(5):
            assert client.get(f"/password/reset/geraten{i}").status_code == 422
        assert log_in(client, "anna.schmidt", PASSWORD).status_code == 303  # not locked


def test_sms_codes_expire_after_10_minutes(sqlite_url: str, sink: SmtpSink) -> None:
    settings = recovery_settings(sqlite_url, sink, ESS_RECOVERY__SMS_GATEWAY="memory")
    clock = FixedClock(datetime.now(UTC))
    app = create_app(settings, container=build_container(settings, clock=clock))
    gateway = recovery_of(app).sms
    assert isinstance(gateway, MemorySmsGateway)
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as client:
        assert log_in(client, "anna.schmidt", PASSWORD).status_code == 303
        _post_security(client, "/security/mobile", password=PASSWORD, mobile="+491701234567")
        clock.advance(timedelta(minutes=10))
        assert _post_security(client, "/security/mobile/confirm", code=gateway.sent[-1][1].split()[-1])[0] == 401
        _post_security(client, "/security/mobile", password=PASSWORD, mobile="+491701234567")
        clock.advance(timedelta(minutes=9, seconds=59))
        assert _post_security(client, "/security/mobile/confirm", code=gateway.sent[-1][1].split()[-1])[0] == 200


def test_changing_the_password_invalidates_outstanding_links(client: TestClient[Litestar], sink: SmtpSink) -> None:
    forgot(client, "anna.schmidt")
    _, token = reset_link(client, sink)
    assert log_in(client, "anna.schmidt", PASSWORD).status_code == 303
    changed = client.post(
        "/password",
        data={
            "_csrf_token": csrf_token(client, "/password"),
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_repeat": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 200
    assert client.get(f"/password/reset/{token}").status_code == 422
