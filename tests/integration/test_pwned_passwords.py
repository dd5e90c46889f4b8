"""The Have I Been Pwned range adapter against a local server that speaks the real range API format (k-anonymity)."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from litestar.testing import TestClient

from ess.adapters.pwned_passwords import PwnedPasswordsRange
from ess.app import create_app
from ess.bootstrap import build_container
from ess.domain.errors import ServiceUnavailable
from tests.conftest import make_settings
from tests.e2e.conftest import DEMO_PASSWORD, seed
from tests.harness.ports import free_port

BREACHED = "correct horse battery staple"  # the famous xkcd passphrase, in every breach corpus
PADDED_ONLY = "a passphrase that only appears as padding"
UNKNOWN = "niemand kennt diesen langen satz 4711"


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest().upper()  # noqa: S324 - the API's own scheme


@dataclass
class RangeServer:
    """Answers GET /range/<PREFIX> like api.pwnedpasswords.com: `SUFFIX:COUNT` lines (CRLF), padded with count 0."""

    corpus: dict[str, int]
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    stall: threading.Event | None = None
    url: str = ""

    def body_for(self, prefix: str) -> str:
        lines = [f"{h[5:]}:{n}" for h, n in self.corpus.items() if h.startswith(prefix)]
        lines += [f"{sha1(PADDED_ONLY)[5:]}:0"] if sha1(PADDED_ONLY).startswith(prefix) else []
        lines += [f"{index:035X}:0" for index in range(40)]  # padding entries, as Add-Padding asks for
        return "\r\n".join(lines)


@pytest.fixture
def range_server() -> Iterator[RangeServer]:
    state = RangeServer(corpus={sha1(BREACHED): 3_730_471})

    class Handler(BaseHTTPRequestHandler):
        server_state: ClassVar[RangeServer] = state

        def do_GET(self) -> None:
            self.server_state.requests.append((self.path, dict(self.headers.items())))
            if self.server_state.stall is not None:
                self.server_state.stall.wait(10)
            prefix = self.path.rsplit("/", 1)[-1]
            body = self.server_state.body_for(prefix).encode("ascii")
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/range/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        if state.stall is not None:
            state.stall.set()
        server.shutdown()
        server.server_close()


async def test_only_the_five_character_prefix_leaves_and_the_count_is_read(range_server: RangeServer) -> None:
    pwned = PwnedPasswordsRange(range_server.url, timeout_seconds=2)
    assert await pwned.times_seen(BREACHED) == 3_730_471
    assert await pwned.times_seen(UNKNOWN) == 0
    assert await pwned.times_seen(PADDED_ONLY) == 0  # a padding entry is not a breach
    paths = [path for path, _ in range_server.requests]
    assert paths == [f"/range/{sha1(p)[:5]}" for p in (BREACHED, UNKNOWN, PADDED_ONLY)]
    for path, headers in range_server.requests:
        assert headers.get("Add-Padding") == "true"
        assert all(sha1(p)[5:] not in path for p in (BREACHED, UNKNOWN, PADDED_ONLY))
        assert BREACHED not in path


async def test_a_service_that_does_not_answer_in_time_is_unavailable(range_server: RangeServer) -> None:
    range_server.stall = threading.Event()
    with pytest.raises(ServiceUnavailable):
        await PwnedPasswordsRange(range_server.url, timeout_seconds=0.3).times_seen(BREACHED)


async def test_a_closed_port_is_unavailable() -> None:
    nothing_listens = f"http://127.0.0.1:{free_port()}/range/"
    with pytest.raises(ServiceUnavailable):
        await PwnedPasswordsRange(nothing_listens, timeout_seconds=1).times_seen(UNKNOWN)


def test_plain_http_is_refused_outside_loopback() -> None:
    with pytest.raises(ValueError, match="https"):
        PwnedPasswordsRange("http://api.pwnedpasswords.example/range/", timeout_seconds=1)


def test_through_the_api_a_breached_password_is_refused_and_an_outage_does_not_block(
    range_server: RangeServer, sqlite_url: str
) -> None:
    settings = make_settings(sqlite_url, ESS_PASSWORDS__HIBP_ENABLED="true", ESS_PASSWORDS__HIBP_URL=range_server.url)
    asyncio.run(seed(settings))
    with TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as client:
        assert client.get("/api/v1/password/policy").json()["breach_check"] is True
        token = client.post("/api/v1/auth/token", json={"username": "anna.schmidt", "password": DEMO_PASSWORD})
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        refused = client.post(
            "/api/v1/me/password", json={"current_password": DEMO_PASSWORD, "new_password": BREACHED}, headers=auth
        )
        assert refused.status_code == 422
        assert [e["code"] for e in refused.json()["errors"]] == ["breached"]

        range_server.stall = threading.Event()  # the service hangs: the change goes on with the offline checks
        accepted = client.post(
            "/api/v1/me/password", json={"current_password": DEMO_PASSWORD, "new_password": UNKNOWN}, headers=auth
        )
        assert accepted.status_code == 204

    async def last_change_audit() -> dict[str, object]:
        container = build_container(settings)
        try:
            async with container.new_uow() as uow:
                events = await uow.audit.recent(50, actor="anna.schmidt")
            return dict(next(e for e in events if e.action == "password.change").details)
        finally:
            await container.close()

    assert asyncio.run(last_change_audit())["breach_check"] == "unavailable"
