"""The OpenID Connect client against a real provider (panva's certified oidc-provider, tests/harness/oidc.py): the
ID token the provider signs is taken; an expired, tampered, re-signed or unsigned one, or one for another sign-in
(nonce), is refused with its reason; the userinfo endpoint names the holder of an access token."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from ess.adapters.oidc import OidcClient, OidcConfig
from ess.domain.auth.model import SsoReason, SsoRefused
from tests.conftest import TEST_ENV
from tests.harness.oidc import OidcProvider, running_oidc_provider

REDIRECT = "http://127.0.0.1:9/login/oidc/callback"
NONCE = "nonce-of-this-sign-in"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    workdir: Path = tmp_path_factory.mktemp("oidc")
    with running_oidc_provider(redirect_uris=[REDIRECT], post_logout_redirect_uris=[], workdir=workdir) as running:
        yield running


def client_for(provider: OidcProvider) -> OidcClient:
    return OidcClient(
        OidcConfig(issuer=provider.issuer, client_id=provider.client_id, client_secret=provider.client_secret)
    )


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


async def refusal(client: OidcClient, token: str, *, nonce: str = NONCE, now: datetime | None = None) -> SsoReason:
    with pytest.raises(SsoRefused) as refused:
        await client.verified_claims(token, nonce=nonce, now=now or datetime.now(UTC))
    return refused.value.reason


async def test_the_providers_id_token_is_taken_and_every_forgery_refused(provider: OidcProvider) -> None:
    client = client_for(provider)
    id_token = provider.tokens("markus.weber", redirect_uri=REDIRECT, nonce=NONCE)["id_token"]
    claims = await client.verified_claims(id_token, nonce=NONCE, now=datetime.now(UTC))
    assert claims["sub"] == "markus.weber"
    assert claims["iss"] == provider.issuer

    assert await refusal(client, id_token, now=datetime.now(UTC) + timedelta(hours=2)) is SsoReason.EXPIRED
    assert await refusal(client, id_token, nonce="another-sign-in") is SsoReason.FORGED

    header, _payload, signature = id_token.split(".")
    tampered = ".".join((header, b64({**claims_of(id_token), "sub": "hanna.berger"}), signature))
    assert await refusal(client, tampered) is SsoReason.FORGED

    # The same claims signed by a key that is not the provider's (with the provider's key id).
    other_key = RSAKey.generate_key(2048, parameters={"kid": "ess-test"})
    resigned = jwt.encode({"alg": "RS256", "kid": "ess-test"}, claims_of(id_token), other_key)
    assert await refusal(client, resigned) is SsoReason.FORGED

    unsigned = ".".join((b64({"alg": "none", "typ": "JWT"}), b64(claims_of(id_token)), ""))
    assert await refusal(client, unsigned) is SsoReason.FORGED

    # Signed with the client secret (HS256): refused, only the provider's public keys count.
    secret_signed = jwt.encode({"alg": "HS256"}, claims_of(id_token), OctKey.import_key(provider.client_secret))
    assert await refusal(client, secret_signed) is SsoReason.FORGED


async def test_the_access_token_names_its_holder_at_the_userinfo_endpoint(provider: OidcProvider) -> None:
    client = client_for(provider)
    access_token = provider.tokens("markus.weber", redirect_uri=REDIRECT)["access_token"]
    identity = await client.identity_for_access_token(access_token)
    assert (identity.login, identity.method) == ("markus.weber", "oidc_access_token")
    with pytest.raises(SsoRefused):
        await client.identity_for_access_token(access_token + "x")


async def test_the_check_reads_discovery_and_keys(provider: OidcProvider) -> None:
    assert "1 signing keys" in await client_for(provider).check()


def ess_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ess.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **TEST_ENV, "ESS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ess.db'}", **env},
        timeout=120,
        check=False,
    )


def test_directory_check_reads_the_providers_discovery_and_fails_for_a_wrong_issuer(
    tmp_path: Path, provider: OidcProvider
) -> None:
    assert ess_cli(tmp_path, "db", "upgrade").returncode == 0
    good = ess_cli(tmp_path, "directory", "check", **provider.settings_env())
    assert good.returncode == 0, good.stdout + good.stderr
    assert "ok   OpenID Connect provider" in good.stdout
    assert provider.issuer in good.stdout

    wrong = ess_cli(tmp_path, "directory", "check", **{**provider.settings_env(), "ESS_SSO__OIDC__ISSUER": REDIRECT})
    assert wrong.returncode == 1
    assert "FAIL OpenID Connect provider" in wrong.stdout


def test_directory_check_fails_for_a_missing_keytab(tmp_path: Path) -> None:
    assert ess_cli(tmp_path, "db", "upgrade").returncode == 0
    result = ess_cli(tmp_path, "directory", "check", ESS_SSO__KERBEROS__KEYTAB=str(tmp_path / "missing.keytab"))
    assert result.returncode == 1
    assert "FAIL Kerberos service keytab" in result.stdout
    assert "missing or not readable" in result.stdout
