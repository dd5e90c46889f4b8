"""OpenID Connect client (authorization code flow with PKCE): discovery, token endpoint, ID token checks with
joserfc (signature against the provider's JWKS, issuer, audience, expiry, nonce), userinfo and end-session."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import KeySet

from ess.domain.auth.model import FederatedIdentity, SsoReason, SsoRefused
from ess.domain.errors import ServiceUnavailable

# Discovery and keys are read again after this long (providers roll their signing keys).
METADATA_SECONDS: Final = 3600
# Signature algorithms accepted for ID tokens: asymmetric only (no "none", no HMAC with the client secret).
ALGORITHMS: Final = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
MAX_RESPONSE_BYTES: Final = 1_000_000


@dataclass(frozen=True, slots=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: tuple[str, ...] = ("openid", "profile", "email")
    # The claim that names the ESS login (preferred_username, upn, email, sAMAccountName ...).
    login_claim: str = "preferred_username"
    # A claim with group names, mapped to roles like directory groups; empty: roles from the directory only.
    groups_claim: str = ""
    timeout_seconds: float = 5.0
    leeway_seconds: int = 60


class OidcClient:
    """One provider, as configured; metadata and keys are cached per process."""

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None

    async def metadata(self) -> dict[str, Any]:
        """The discovery document (/.well-known/openid-configuration); its issuer must be the configured one."""
        if self._metadata is None or time.monotonic() - self._metadata_at > METADATA_SECONDS:
            url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
            document = await self._get_json(url)
            if document.get("issuer") != self.config.issuer:
                raise ServiceUnavailable("The provider's discovery document names another issuer.")
            self._metadata, self._metadata_at, self._keys = document, time.monotonic(), None
        return self._metadata

    async def authorization_url(self, *, redirect_uri: str, state: str, nonce: str, code_challenge: str) -> str:
        endpoint = str((await self.metadata())["authorization_endpoint"])
        query = urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": self.config.client_id,
                "redirect_uri": redirect_uri,
                "scope": " ".join(self.config.scopes),
                "state": state,
                "nonce": nonce,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            }
        )
        return endpoint + ("&" if "?" in endpoint else "?") + query

    async def redeem(
        self, *, code: str, redirect_uri: str, verifier: str, nonce: str, now: datetime
    ) -> FederatedIdentity:
        metadata = await self.metadata()
        body = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        try:
            tokens = await self._post_form(str(metadata["token_endpoint"]), body)
        except urllib.error.HTTPError as exc:
            # invalid_grant: the code was used, expired or issued to another verifier.
            raise SsoRefused("The provider refused the sign-in code.", reason=SsoReason.EXPIRED) from exc
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise SsoRefused("The provider sent no ID token.", reason=SsoReason.FORGED)
        claims = await self.verified_claims(id_token, nonce=nonce, now=now)
        return self._identity(claims, method="oidc")

    async def verified_claims(self, id_token: str, *, nonce: str, now: datetime) -> dict[str, Any]:
        """The ID token's claims once its signature, issuer, audience, expiry and nonce hold."""
        keys = await self._key_set()
        try:
            try:
                token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
            except (JoseError, ValueError):
                # Perhaps a key we have not seen: the provider may have rolled its keys since we read them.
                token = jwt.decode(id_token, await self._key_set(refresh=True), algorithms=ALGORITHMS)
            registry = jwt.JWTClaimsRegistry(
                now=int(now.timestamp()),
                leeway=self.config.leeway_seconds,
                iss={"essential": True, "value": self.config.issuer},
                aud={"essential": True, "value": self.config.client_id},
                sub={"essential": True},
                exp={"essential": True},
                nonce={"essential": True, "value": nonce},
            )
            registry.validate(token.claims)
        except ExpiredTokenError as exc:
            raise SsoRefused("The ID token has expired.", reason=SsoReason.EXPIRED) from exc
        except (JoseError, ValueError, KeyError) as exc:
            raise SsoRefused("The ID token was refused.", reason=SsoReason.FORGED) from exc
        return dict(token.claims)

    async def identity_for_access_token(self, access_token: str) -> FederatedIdentity:
        endpoint = (await self.metadata()).get("userinfo_endpoint")
        if not endpoint:
            raise SsoRefused("The provider has no userinfo endpoint.", reason=SsoReason.NOT_CONFIGURED)
        request = urllib.request.Request(  # noqa: S310 - the provider's own https URL from its discovery document
            str(endpoint), headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        )
        try:
            claims = await asyncio.to_thread(self._fetch_json, request)
        except urllib.error.HTTPError as exc:
            if exc.code in {400, 401, 403}:
                raise SsoRefused("The provider refused the access token.", reason=SsoReason.EXPIRED) from exc
            raise ServiceUnavailable("The identity provider does not answer.") from exc
        return self._identity(claims, method="oidc_access_token")

    async def logout_url(self, *, post_logout_redirect_uri: str) -> str | None:
        endpoint = (await self.metadata()).get("end_session_endpoint")
        if not endpoint:
            return None
        query = urllib.parse.urlencode(
            {"client_id": self.config.client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
        )
        return str(endpoint) + ("&" if "?" in str(endpoint) else "?") + query

    async def check(self) -> str:
        """For `ess directory check`: discovery, the keys, and the endpoints ESS needs."""
        metadata = await self.metadata()
        missing = [name for name in ("authorization_endpoint", "token_endpoint", "jwks_uri") if name not in metadata]
        if missing:
            raise ServiceUnavailable(f"The discovery document lacks {', '.join(missing)}")
        keys = await self._key_set()
        return f"issuer {metadata['issuer']}, {len(keys.keys)} signing keys"

    def _identity(self, claims: dict[str, Any], *, method: str) -> FederatedIdentity:
        login = claims.get(self.config.login_claim)
        if not isinstance(login, str) or not login:
            raise SsoRefused(f"The provider sent no {self.config.login_claim} claim.", reason=SsoReason.UNKNOWN_ACCOUNT)
        groups: tuple[str, ...] = ()
        if self.config.groups_claim:
            raw = claims.get(self.config.groups_claim) or []
            groups = tuple(str(g) for g in raw) if isinstance(raw, list) else (str(raw),)
        # A UPN or e-mail address names the account by its local part (alice@corp.example -> alice).
        if "@" in login and self.config.login_claim in {"upn", "email", "unique_name"}:
            login = login.split("@", 1)[0]
        return FederatedIdentity(method=method, login=login, subject=str(claims.get("sub", "")), groups=groups)

    async def _key_set(self, *, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            document = await self._get_json(str((await self.metadata())["jwks_uri"]))
            self._keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        return self._keys

    async def _get_json(self, url: str) -> dict[str, Any]:
        request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - configured URL
        try:
            return await asyncio.to_thread(self._fetch_json, request)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ServiceUnavailable("The identity provider does not answer.") from exc

    async def _post_form(self, url: str, body: dict[str, str]) -> dict[str, Any]:
        credentials = f"{_quote(self.config.client_id)}:{_quote(self.config.client_secret)}"
        request = urllib.request.Request(  # noqa: S310 - the provider's URL from its discovery document
            url,
            data=urllib.parse.urlencode(body).encode("ascii"),
            headers={
                "Authorization": "Basic " + base64.b64encode(credentials.encode("utf-8")).decode("ascii"),
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            method="POST",
        )
        try:
            return await asyncio.to_thread(self._fetch_json, request)
        except urllib.error.HTTPError:
            raise
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ServiceUnavailable("The identity provider does not answer.") from exc

    def _fetch_json(self, request: urllib.request.Request) -> dict[str, Any]:
        with urllib.request.urlopen(request, timeout=self.config.timeout_seconds) as response:  # noqa: S310
            document = json.loads(response.read(MAX_RESPONSE_BYTES))
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
        return document


def _quote(value: str) -> str:
    """RFC 6749 2.3.1: client id and secret are form-encoded before HTTP Basic."""
    return urllib.parse.quote(value, safe="")
