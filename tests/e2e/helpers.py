"""Helpers for tests that drive the app over HTTP: the CSRF token of a page, logging in."""

from __future__ import annotations

import re
from dataclasses import replace

from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient

from ess.app import create_app
from ess.bootstrap import build_container
from ess.settings import Settings
from tests.fakes import FixedClock

CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')
PASSWORD = "demo-passwort-2026"


def csrf_token(client: TestClient[Litestar], path: str = "/login") -> str:
    match = CSRF_INPUT.search(client.get(path).text)
    assert match is not None
    return match.group(1)


def log_in(client: TestClient[Litestar], login: str, password: str, next_: str = "/") -> Response:
    token = csrf_token(client)
    return client.post(
        "/login",
        data={"_csrf_token": token, "username": login, "password": password, "next": next_},
        follow_redirects=False,
    )


def app_at_a_window_start(settings: Settings) -> Litestar:
    """The app with logins counted by a clock that stands at the start of a throttling window (login throttling
    spreads strangers' tries over clock-aligned windows, so a test that counts them must know where it is)."""
    container = build_container(settings)
    clock = FixedClock()
    container = replace(
        container, auth=replace(container.auth, clock=clock), passwords=replace(container.passwords, clock=clock)
    )
    return create_app(settings, container=container)
