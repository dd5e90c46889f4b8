"""Helpers for tests that drive the app over HTTP: the CSRF token of a page, logging in."""

from __future__ import annotations

import re

from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient

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
