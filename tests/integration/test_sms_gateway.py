"""The HTTP SMS gateway against a stand-in gateway server this test starts (a real HTTP server on loopback)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from litestar.testing import TestClient

from ess.adapters.sms import HttpSmsConfig, HttpSmsGateway
from ess.app import create_app
from ess.bootstrap import build_sms_gateway
from ess.domain.errors import ServiceUnavailable
from ess.settings import SettingsError
from tests.conftest import make_settings
from tests.e2e.helpers import CSRF_INPUT, csrf_token, log_in
from tests.e2e.recovery_helpers import seed_recovery
from tests.harness.ports import free_port

TEXT = 'Ihr ESS-Code: 424242 "Grüße" & {text} <ok>'


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


@dataclass
class StandInGateway:
    """Records every request like a provider's message endpoint would receive it; answers `status`."""

    received: list[Received] = field(default_factory=list)
    status: int = 202
    url: str = ""


@pytest.fixture
def gateway_server() -> Iterator[StandInGateway]:
    state = StandInGateway()

    class Handler(BaseHTTPRequestHandler):
        server_state: ClassVar[StandInGateway] = state

        def _record(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            self.server_state.received.append(Received(self.command, self.path, headers, body))
            answer = b'{"id": "msg-1"}'
            self.send_response(self.server_state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_POST = _record  # noqa: N815 - http.server's naming
        do_PUT = _record  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1/messages"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def gateway(url: str, **config: object) -> HttpSmsGateway:
    template = str(config.pop("body_template", '{"to": "{number}", "text": "{text}", "from": "ESS"}'))
    return HttpSmsGateway(
        HttpSmsConfig(url=url, body_template=template, **config),  # type: ignore[arg-type]
        allow_plain_http_on_loopback=True,
    )


async def test_json_body_with_basic_auth_arrives_intact(
    gateway_server: StandInGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sms = gateway(gateway_server.url, auth="basic", username="ess", password="gateway-secret-1")
    await sms.send("+491701234567", TEXT)
    [request] = gateway_server.received
    assert (request.method, request.path) == ("POST", "/v1/messages")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"ess:gateway-secret-1").decode()
    assert json.loads(request.body) == {"to": "+491701234567", "text": TEXT, "from": "ESS"}
    assert "424242" not in caplog.text
    assert "+491701234567" not in caplog.text


async def test_form_body_with_a_bearer_token_and_put(gateway_server: StandInGateway) -> None:
    sms = gateway(
        gateway_server.url,
        method="PUT",
        auth="bearer",
        token="tok-123",
        content_type="application/x-www-form-urlencoded",
        body_template="To={number}&Body={text}",
    )
    await sms.send("+41791234567", TEXT)
    [request] = gateway_server.received
    assert request.method == "PUT"
    assert request.headers["authorization"] == "Bearer tok-123"
    assert urllib.parse.parse_qs(request.body.decode()) == {"To": ["+41791234567"], "Body": [TEXT]}


async def test_an_api_key_header(gateway_server: StandInGateway) -> None:
    sms = gateway(gateway_server.url, auth="header", header_name="X-API-Key", token="key-9")
    await sms.send("+436641234567", "Code 1")
    assert gateway_server.received[0].headers["x-api-key"] == "key-9"
    assert "authorization" not in gateway_server.received[0].headers


@pytest.mark.parametrize("status", [400, 401, 500, 503])
async def test_a_refusal_is_unavailable_and_logs_no_text(
    gateway_server: StandInGateway, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    caplog.set_level(logging.DEBUG)
    gateway_server.status = status
    with pytest.raises(ServiceUnavailable):
        await gateway(gateway_server.url).send("+491701234567", TEXT)
    assert f"HTTP {status}" in caplog.text
    assert "424242" not in caplog.text


async def test_a_closed_port_is_unavailable() -> None:
    with pytest.raises(ServiceUnavailable):
        await gateway(f"http://127.0.0.1:{free_port()}/sms", timeout_seconds=1).send("+491701234567", "Code 1")


def test_plain_http_is_refused_outside_loopback_and_test_mode(gateway_server: StandInGateway) -> None:
    with pytest.raises(ValueError, match="https"):
        gateway("http://sms.example.net/send")
    with pytest.raises(ValueError, match="https"):
        HttpSmsGateway(HttpSmsConfig(url=gateway_server.url, body_template="{text}"))
    with pytest.raises(ValueError, match="text"):
        gateway(gateway_server.url, body_template='{"to": "{number}"}')


def test_the_settings_refuse_an_unsafe_or_incomplete_gateway(sqlite_url: str) -> None:
    with pytest.raises(SettingsError) as refused:
        make_settings(
            sqlite_url,
            ESS_MODE="production",
            ESS_RECOVERY__SMS_GATEWAY="http",
            ESS_RECOVERY__SMS_HTTP__URL="http://sms.example.net/send",
            ESS_RECOVERY__SMS_HTTP__AUTH="bearer",
        )
    assert "sms_http.url must use https" in str(refused.value)
    assert "needs a real password or token" in str(refused.value)


def test_the_security_page_confirms_a_mobile_through_the_http_gateway(
    gateway_server: StandInGateway, sqlite_url: str
) -> None:
    settings = make_settings(
        sqlite_url,
        ESS_RECOVERY__SMS_GATEWAY="http",
        ESS_RECOVERY__SMS_HTTP__URL=gateway_server.url,
        ESS_RECOVERY__SMS_HTTP__AUTH="basic",
        ESS_RECOVERY__SMS_HTTP__USERNAME="ess",
        ESS_RECOVERY__SMS_HTTP__PASSWORD="gateway-secret-1",
    )
    asyncio.run(seed_recovery(settings))
    assert isinstance(build_sms_gateway(settings), HttpSmsGateway)
    with TestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as client:
        assert log_in(client, "anna.schmidt", "demo-passwort-2026").status_code == 303
        token = csrf_token(client, "/security")
        sent = client.post(
            "/security/mobile",
            data={"_csrf_token": token, "password": "demo-passwort-2026", "mobile": "0170 1234567"},
        )
        assert sent.status_code == 200
        [request] = gateway_server.received
        message = json.loads(request.body)
        assert message["to"] == "+491701234567"
        code = message["text"].split()[-1]
        page = client.get("/security")
        match = CSRF_INPUT.search(page.text)
        assert match is not None
        confirmed = client.post("/security/mobile/confirm", data={"_csrf_token": match.group(1), "code": code})
        assert confirmed.status_code == 200
        assert "+49 170 1234567" in confirmed.text or "1234567" in confirmed.text
