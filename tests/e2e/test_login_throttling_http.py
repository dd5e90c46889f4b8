"""No victim lockout over HTTP: strangers' wrong passwords slow strangers down, never the owner's known browser."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from ess.settings import Settings
from tests.e2e.helpers import PASSWORD, app_at_a_window_start, csrf_token, log_in

DEVICE_COOKIE = "ess_device"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient[Litestar]]:
    """The app with the login's clock at the start of a counting window, so the strangers' share is known."""
    with TestClient(app=app_at_a_window_start(settings), base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


def test_six_wrong_passwords_from_a_stranger_do_not_lock_the_owners_browser_out(client: TestClient[Litestar]) -> None:
    first = log_in(client, "anna.schmidt", PASSWORD)
    (device_header,) = [c for c in first.headers.get_list("set-cookie") if c.startswith(DEVICE_COOKIE + "=")]
    assert "HttpOnly" in device_header and "SameSite=strict" in device_header and "Max-Age=7776000" in device_header
    client.post("/logout", data={"_csrf_token": csrf_token(client, "/")})
    owners_browser = httpx.Cookies(client.cookies)
    assert owners_browser.get(DEVICE_COOKIE)

    client.cookies = httpx.Cookies()
    statuses = [log_in(client, "anna.schmidt", f"guess {i}").status_code for i in range(6)]
    assert statuses[:2] == [401, 401]  # then the strangers' tries are spread over the window
    assert set(statuses[2:]) == {429}
    stranger_with_the_password = log_in(client, "anna.schmidt", PASSWORD)
    assert stranger_with_the_password.status_code == 429
    assert int(stranger_with_the_password.headers["retry-after"]) > 0

    client.cookies = owners_browser
    assert log_in(client, "anna.schmidt", PASSWORD).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 200


def test_a_device_cookie_of_another_login_or_a_forged_one_does_not_help(client: TestClient[Litestar]) -> None:
    log_in(client, "markus.weber", PASSWORD)
    client.post("/logout", data={"_csrf_token": csrf_token(client, "/")})
    markus_device = client.cookies.get(DEVICE_COOKIE)
    assert markus_device
    for value in (markus_device, markus_device[:-2] + "xx"):
        client.cookies = httpx.Cookies()
        client.cookies.set(DEVICE_COOKIE, value, domain="127.0.0.1")
        statuses = [log_in(client, "anna.schmidt", f"guess {i}").status_code for i in range(3)]
        assert statuses[-1] == 429
