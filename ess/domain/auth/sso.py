"""Use cases of single sign-on: OpenID Connect (code flow with PKCE, state and nonce), the bearer-token exchange
with a provider's access token, and the per-role rule whether the password form stays allowed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.auth.login import normalize_login, resolve_principal
from ess.domain.auth.model import FederatedIdentity, Principal, SsoReason, SsoRefused, is_plausible_login
from ess.domain.auth.ports import AuthDeps, OpenIdProvider
from ess.domain.errors import N_, NotFound, ServiceUnavailable

# What the login page says for each refusal, in plain words (the routes translate it).
REFUSALS: dict[SsoReason, str] = {
    SsoReason.EXPIRED: N_("The sign-in with the identity provider has expired. Please sign in again."),
    SsoReason.FORGED: N_("The identity provider's answer could not be verified (wrong signature, issuer or audience)."),
    SsoReason.STATE: N_("This sign-in link is no longer valid. Please start the sign-in again."),
    SsoReason.PROVIDER: N_("The identity provider did not sign you in."),
    SsoReason.UNKNOWN_ACCOUNT: N_("Your account at the identity provider has no account in ESS."),
    SsoReason.DISABLED: N_("Your account is disabled. Please contact the IT service desk."),
    SsoReason.NO_ACCESS: N_("Your account has no access to ESS."),
    SsoReason.NOT_CONFIGURED: N_("Single sign-on is not set up."),
    SsoReason.UNAVAILABLE: N_("The identity provider or the directory does not answer."),
    SsoReason.CLOCK_SKEW: N_("The clocks of this computer and the server differ too much."),
    SsoReason.TICKET_KEY: N_("The Kerberos ticket was made for another key of the server (keytab out of date)."),
}


@dataclass(frozen=True, slots=True)
class OidcStart:
    """Where to send the browser, and what it must bring back (kept in a signed cookie by the routes)."""

    url: str
    state: str
    nonce: str
    verifier: str


@dataclass(frozen=True, slots=True)
class FinishOidc:
    code: str
    state: str
    expected_state: str
    nonce: str
    verifier: str
    redirect_uri: str
    client: str
    # The provider's `error` parameter (e.g. access_denied), when it did not sign the user in.
    error: str = ""


def refused(reason: SsoReason) -> SsoRefused:
    return SsoRefused(REFUSALS[reason], reason=reason)


def _provider(deps: AuthDeps) -> OpenIdProvider:
    if deps.oidc is None:
        raise refused(SsoReason.NOT_CONFIGURED)
    return deps.oidc


async def start_oidc(redirect_uri: str, *, deps: AuthDeps) -> OidcStart:
    """A fresh state, nonce and PKCE verifier (RFC 7636, S256) for one sign-in, and the provider's URL for it."""
    provider = _provider(deps)
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
    url = await provider.authorization_url(
        redirect_uri=redirect_uri, state=state, nonce=nonce, code_challenge=challenge
    )
    return OidcStart(url=url, state=state, nonce=nonce, verifier=verifier)


async def finish_oidc(cmd: FinishOidc, *, deps: AuthDeps) -> Principal:
    """The provider's answer: the state must be this browser's, the code is redeemed (with the verifier) and the ID
    token checked (signature, issuer, audience, expiry, nonce) by the adapter; then the account must be allowed."""
    provider = _provider(deps)
    if not cmd.expected_state or not hmac.compare_digest(cmd.state.encode(), cmd.expected_state.encode()):
        await _audit_refusal(deps, "(unknown)", SsoReason.STATE, cmd.client, method="oidc")
        raise refused(SsoReason.STATE)
    if cmd.error or not cmd.code:
        await _audit_refusal(deps, "(unknown)", SsoReason.PROVIDER, cmd.client, method="oidc")
        raise refused(SsoReason.PROVIDER)
    try:
        identity = await provider.redeem(
            code=cmd.code, redirect_uri=cmd.redirect_uri, verifier=cmd.verifier, nonce=cmd.nonce, now=deps.clock.now()
        )
    except SsoRefused as exc:
        await _audit_refusal(deps, "(unknown)", exc.reason, cmd.client, method="oidc")
        raise
    return await sign_in_federated(identity, client=cmd.client, channel="web", deps=deps)


async def sign_in_with_ticket(token: bytes, *, client: str, deps: AuthDeps) -> Principal:
    """A browser's Negotiate token (Kerberos through SPNEGO): who the ticket names, if the account may sign in."""
    if deps.kerberos is None:
        raise refused(SsoReason.NOT_CONFIGURED)
    try:
        identity = await deps.kerberos.accept(token)
    except SsoRefused as exc:
        await _audit_refusal(deps, "(unknown)", exc.reason, client, method="kerberos")
        raise
    return await sign_in_federated(identity, client=client, channel="web", deps=deps)


async def principal_for_access_token(access_token: str, *, client: str, deps: AuthDeps) -> Principal:
    """Who holds this access token of the provider (asked at its userinfo endpoint): for the API token exchange."""
    provider = _provider(deps)
    try:
        identity = await provider.identity_for_access_token(access_token)
    except SsoRefused as exc:
        await _audit_refusal(deps, "(unknown)", exc.reason, client, method="oidc_access_token", channel="api")
        raise
    return await sign_in_federated(identity, client=client, channel="api", deps=deps)


async def sign_in_federated(identity: FederatedIdentity, *, client: str, channel: str, deps: AuthDeps) -> Principal:
    """The ESS principal of someone the provider (or the KDC) vouches for: the account must exist in the directory,
    not be disabled, and have business in ESS. Roles come from HR data and directory groups, plus the provider's
    group claim where one is configured (mapped like directory groups). Every outcome is audited with its method."""
    login = normalize_login(identity.login)
    if not is_plausible_login(login):
        await _audit_refusal(deps, "(invalid login)", SsoReason.UNKNOWN_ACCOUNT, client, identity.method, channel)
        raise refused(SsoReason.UNKNOWN_ACCOUNT)
    try:
        status = await deps.directory.account_status(login)
    except NotFound:
        await _audit_refusal(deps, login, SsoReason.UNKNOWN_ACCOUNT, client, identity.method, channel)
        raise refused(SsoReason.UNKNOWN_ACCOUNT) from None
    except ServiceUnavailable:
        await _audit_refusal(deps, login, SsoReason.UNAVAILABLE, client, identity.method, channel)
        raise
    if status.disabled:
        await _audit_refusal(deps, login, SsoReason.DISABLED, client, identity.method, channel)
        raise refused(SsoReason.DISABLED)
    principal = await resolve_principal(login, deps=deps)
    group_roles = deps.policy.group_roles or {}
    claimed = {group_roles[g] for g in identity.groups if g in group_roles}
    if principal is not None and claimed - principal.roles:
        principal = Principal(
            login=principal.login,
            display_name=principal.display_name,
            roles=principal.roles | claimed,
            employee_id=principal.employee_id,
        )
    if principal is None:
        await _audit_refusal(deps, login, SsoReason.NO_ACCESS, client, identity.method, channel)
        raise refused(SsoReason.NO_ACCESS)
    await _audit(deps, login, Outcome.SUCCESS, client, method=identity.method, channel=channel)
    return principal


async def _audit_refusal(  # noqa: PLR0917 - the fields of one audit line
    deps: AuthDeps, login: str, reason: SsoReason, client: str, method: str, channel: str = "web"
) -> None:
    outcome = Outcome.DENIED if reason is SsoReason.DISABLED else Outcome.FAILURE
    await _audit(deps, login, outcome, client, method=method, channel=channel, reason=reason.value)


async def _audit(
    deps: AuthDeps, login: str, outcome: Outcome, client: str, *, method: str, channel: str, reason: str = ""
) -> None:
    async with deps.new_uow() as uow:
        await uow.audit.add(
            AuditEvent(
                occurred_at=deps.clock.now(),
                actor=login,
                action="auth.login",
                outcome=outcome,
                target=login,
                client_address=client,
                details={"channel": channel, "method": method, **({"reason": reason} if reason else {})},
            )
        )
        await uow.commit()
