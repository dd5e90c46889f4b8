"""Typed settings: config/*.toml overlaid with ESS_* environment variables, checked once at start-up."""

from __future__ import annotations

import ipaddress
import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from ess.domain.hr.model import ASSIGNABLE_ROLES, Role

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config" / "ess.toml"

# Values that mean "nobody chose a secret yet". Refused outside demo mode.
PLACEHOLDER_SECRETS = frozenset(
    {"", "change-me", "changeme", "change_me", "secret", "password", "demo", "demo-secret-not-for-production", "xxx"}
)
MIN_SECRET_LENGTH = 32

# Short environment names for the settings people change most.
ENV_ALIASES: Mapping[str, tuple[str, str]] = {
    "ESS_HOST": ("server", "host"),
    "ESS_PORT": ("server", "port"),
    "ESS_BASE_URL": ("server", "base_url"),
    "ESS_DATABASE_URL": ("database", "url"),
    "ESS_SECRET_KEY": ("security", "secret_key"),
}


class SettingsError(Exception):
    """The configuration cannot be used; the message says what to fix."""


class Secret(str):
    """A string that never shows its value in repr() or logs."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('**********')" if self else "Secret('')"

    def reveal(self) -> str:
        return str.__str__(self)


_SECRET_FIELDS = frozenset(
    {"secret_key", "bind_password", "smtp_password", "password", "token", "secret", "client_secret"}
)


class _Redacted:
    """repr() and rich's pretty printer show secret fields as stars (msgspec's defaults would print them)."""

    __struct_fields__: tuple[str, ...]

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        return [(name, _shown(name, getattr(self, name))) for name in self.__struct_fields__]

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.__rich_repr__())
        return f"{type(self).__name__}({fields})"


def _shown(name: str, value: Any) -> Any:
    if name in _SECRET_FIELDS and value:
        return "**********"
    return _redact_url(value) if name == "url" and isinstance(value, str) else value


class ServerSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8000
    # Links in mails are built from this, never from the request's Host header. Left empty, it follows host and
    # port (see derived_base_url), so `ESS_PORT=8080 make demo` mails links to :8080; behind a proxy set it.
    base_url: str = ""
    # Client addresses are taken from X-Forwarded-For only when the direct peer is one of these.
    trusted_proxies: list[str] = msgspec.field(default_factory=list)
    # Server processes on this host (`ess serve --workers N`); more than one needs sessions.store = "redis".
    workers: int = 1
    # On SIGTERM: stop accepting, let requests in flight finish for up to this long, then stop the background work.
    graceful_shutdown_seconds: float = 30.0

    def __post_init__(self) -> None:
        if not self.base_url.strip():
            self.base_url = derived_base_url(self.host, self.port)

    @property
    def served_over_tls(self) -> bool:
        return self.base_url.startswith("https://")


def derived_base_url(host: str, port: int) -> str:
    """The URL a browser on this machine reaches `ess serve` at, for a configuration that names no base_url.

    A wildcard listen address is no address to link to: it is replaced by the loopback address of its family.
    """
    name = host.strip()
    if name in {"", "0.0.0.0"}:  # noqa: S104 - the wildcard is compared against, not bound to
        name = "127.0.0.1"
    elif name == "::":
        name = "::1"
    if ":" in name:  # an IPv6 literal
        name = f"[{name}]"
    return f"http://{name}:{port}"


class DatabaseSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    url: str = "sqlite+aiosqlite:///var/ess.db"
    echo: bool = False
    # How long a statement waits for a lock (SQLite: the write lock) or for a free pooled connection before the
    # request is answered 503 with Retry-After instead of hanging.
    lock_timeout_seconds: float = 10.0
    # PostgreSQL: a statement running longer is cancelled (503 too); 0 = no limit.
    statement_timeout_seconds: float = 30.0

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        return [
            (name, _redact_url(self.url) if name == "url" else getattr(self, name)) for name in self.__struct_fields__
        ]

    def __repr__(self) -> str:
        return f"DatabaseSettings({', '.join(f'{name}={value!r}' for name, value in self.__rich_repr__())})"


class SecuritySettings(_Redacted, msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    secret_key: str = ""
    session_idle_minutes: int = 30
    session_absolute_hours: int = 10
    api_token_hours: int = 12
    # How long the roles of a session or API token are trusted before HR data and the directory are asked again
    # (a disabled account or a changed role takes effect within this); logout, password changes and revoked
    # tokens end access at once whatever it is.
    principal_cache_seconds: int = 60
    # Login throttling (docs/security.md, "No victim lockout"): the wrong passwords of one login the directory may
    # see per window (below its lockout threshold), of which the owner's known devices keep a share; tries per
    # login from one client address; failures per client address over all logins.
    login_failures_per_account: int = 5
    login_known_device_failures: int = 2
    login_known_device_days: int = 90
    login_failures_per_login_and_client: int = 10
    login_failures_per_client: int = 30
    login_window_minutes: int = 15
    # Second factor at login (docs/security.md): roles whose accounts must use one (e.g. ["hr", "helpdesk",
    # "admin"]; they set it up right after the password step), how long "remember this device" lasts (0: never
    # offered), and wrong codes or passkeys per account and 15 minutes.
    second_factor_roles: list[str] = msgspec.field(default_factory=list)
    second_factor_remember_days: int = 30
    second_factor_failures_per_account: int = 5


class SessionSettings(_Redacted, msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Where browser sessions, login and recovery counters and revocation markers live."""

    # "file": a folder on this host for ONE ESS process (the embedded default; its counters are exact only within a
    # process); "memory": tests; "redis": Redis or Valkey, shared by every process and host (needed for workers > 1).
    store: Literal["file", "memory", "redis"] = "file"
    path: str = "var/sessions"
    # redis://host:6379/0, rediss://host:6380/0 (TLS) or unix:///run/redis/redis.sock; no password in the URL:
    # set `password` (ESS_SESSIONS__PASSWORD) and, with Redis ACLs, `username`.
    url: str = ""
    username: str = ""
    password: str = ""
    # rediss:// only: the CA that signed the server's certificate (empty: the system's CAs), and a client
    # certificate and key when the server asks for one (tls-auth-clients yes).
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    # Every key ESS writes starts with this, so several ESS installations can share one Redis database.
    key_prefix: str = "ess:"
    connect_timeout_seconds: float = 2.0
    operation_timeout_seconds: float = 2.0
    # Connections per ESS process; more concurrent requests wait for a free one.
    max_connections: int = 50


class PasswordHashSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # argon2id cost; the defaults follow OWASP's password storage cheat sheet (m=19 MiB, t=2, p=1).
    memory_kib: int = 19456
    time_cost: int = 2
    parallelism: int = 1


class LocalDirectorySettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    lockout_threshold: int = 10
    lockout_minutes: int = 15
    hashing: PasswordHashSettings = msgspec.field(default_factory=PasswordHashSettings)


class LdapSettings(_Redacted, msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Connection to OpenLDAP or Active Directory (see config/*.example.toml)."""

    # Tried in order: the first that answers is used (failover).
    uris: list[str] = msgspec.field(default_factory=list)
    start_tls: bool = True
    ca_file: str = ""
    # Only in test mode may certificate validation be switched off.
    verify_tls: bool = True
    connect_timeout_seconds: float = 5.0
    operation_timeout_seconds: float = 10.0
    bind_dn: str = ""
    bind_password: str = ""
    user_base_dn: str = ""
    user_filter: str = "(objectClass=inetOrgPerson)"
    login_attribute: str = "uid"
    email_attribute: str = "mail"
    group_base_dn: str = ""
    # OpenLDAP: the ppolicy entry for accounts without their own pwdPolicySubentry (expiry and lockout duration).
    default_policy_dn: str = ""
    pool_size: int = 5
    # HR field -> directory attribute, for the profile write-back.
    attributes: dict[str, str] = msgspec.field(default_factory=dict)


class DirectoryBreakerSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Timeouts and the circuit breaker around the directory (docs/operations.md, "When the directory hangs")."""

    # A directory call (search, bind, password change) that has not finished by then fails with 503.
    call_timeout_seconds: float = 1.0
    # The embedded directory is the database (its own lock timeouts apply) and hashes passwords: more time.
    local_call_timeout_seconds: float = 15.0
    # Consecutive failures that open the breaker; while open, calls fail at once (503, Retry-After).
    failure_threshold: int = 3
    # How long the breaker stays open before one trial call goes through.
    open_seconds: float = 10.0


class DirectorySettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    kind: Literal["local", "openldap", "activedirectory"] = "local"
    local: LocalDirectorySettings = msgspec.field(default_factory=LocalDirectorySettings)
    ldap: LdapSettings = msgspec.field(default_factory=LdapSettings)
    breaker: DirectoryBreakerSettings = msgspec.field(default_factory=DirectoryBreakerSettings)
    # Directory group name -> ESS role (hr, helpdesk, admin).
    group_roles: dict[str, str] = msgspec.field(default_factory=dict)


class ContactSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: str
    email: str
    phone: str = ""
    hours: str = ""


class MailQueueSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The mail queue: every mail is committed to the database first and sent by the workers of every process."""

    poll_seconds: float = 15.0
    # Wait after the n-th failed attempt: backoff_base_seconds * 2**(n-1), at most backoff_max_seconds.
    backoff_base_seconds: float = 10.0
    backoff_max_seconds: float = 900.0
    # Give a mail up (status failed, `ess mail retry` sends it again) after this many attempts; 0 = never.
    max_attempts: int = 12
    batch_size: int = 20
    # A worker owns the mails it took this long (longer than the SMTP timeout); then another takes them over.
    claim_seconds: float = 120.0


class MailSettings(_Redacted, msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # "file" writes each mail as an .eml file into `folder` (the demo); "smtp" delivers.
    backend: Literal["file", "smtp"] = "file"
    folder: str = "var/mail"
    from_address: str = "ESS <ess@example-ess.test>"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: str = ""
    timeout_seconds: float = 10.0
    queue: MailQueueSettings = msgspec.field(default_factory=MailQueueSettings)


class VacationSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # 24 and 31 December are no statutory holidays in DE/AT/CH; many contracts give the afternoon off.
    half_days: list[str] = msgspec.field(default_factory=list)  # "MM-DD", e.g. ["12-24", "12-31"]
    company_days_off: dict[str, str] = msgspec.field(default_factory=dict)  # "YYYY-MM-DD" -> name
    # Extra holiday categories of the `holidays` package per location, e.g. {"DE-BY" = ["public", "catholic"]}.
    categories: dict[str, list[str]] = msgspec.field(default_factory=dict)
    allow_overdraft_days: float = 0.0
    # How many days back an employee may still request leave (e.g. 14; older leave: HR books it). Unset: any past
    # leave of an open year may be requested; the page warns that it lies in the past.
    backdate_days: int | None = None
    remind_after_days: int = 3  # `ess vacation remind` (daily): the manager is reminded of a request this old
    # ... and one this old goes to the manager's deputy of the day; without one HR is told (HR decides all)
    escalate_after_days: int = 7


class ProfileSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # Field -> read_only | self_service | notify_hr | approval. Fields not named keep their defaults: contact data
    # self_service, address notify_hr, bank_account and legal_name approval (see docs/profile.md).
    policies: dict[str, str] = msgspec.field(default_factory=dict)
    # Who hears of notify-HR changes and new change requests; empty: everyone with the HR role.
    hr_notify_to: list[str] = msgspec.field(default_factory=list)


HexColour = Annotated[str, msgspec.Meta(pattern=r"^#[0-9a-fA-F]{6}$")]


class CompanySettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: str = "Beispiel GmbH"
    # The header's logo: an SVG or PNG file on the server (empty: the shipped ESS mark), and the brand colours
    # (text on them is white: choose colours with a contrast of at least 4.5:1 to white, WCAG AA).
    logo_file: str = ""
    colour: HexColour = "#0b4f8a"
    colour_dark: HexColour = "#083a66"
    hr_contact: ContactSettings = msgspec.field(
        default_factory=lambda: ContactSettings(name="Personalabteilung", email="hr@example-ess.test")
    )
    it_contact: ContactSettings = msgspec.field(
        default_factory=lambda: ContactSettings(name="IT-Servicedesk", email="it@example-ess.test")
    )


class I18nSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    default_locale: str = "de"
    locales: list[str] = msgspec.field(default_factory=lambda: ["de", "en"])


class OutboxSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The directory write-back outbox: how often it is polled and how it backs off while the directory is away."""

    poll_seconds: float = 30.0
    # Wait after the n-th failed attempt: backoff_base_seconds * 2**(n-1), at most backoff_max_seconds.
    backoff_base_seconds: float = 10.0
    backoff_max_seconds: float = 900.0
    # Give an entry up (status failed) after this many attempts while the directory is unreachable; 0 = never.
    max_attempts: int = 0
    batch_size: int = 50
    # A worker owns the entries it took this long; longer than any directory timeout.
    claim_seconds: float = 300.0


class PasswordSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The password policy (NIST SP 800-63B, ASVS V2.1): length, lists and breach check, never composition rules."""

    # NIST SP 800-63B: at least 8 (15 when the password is the only factor); ASVS 4.0.3 2.1.1: 12.
    min_length: int = 12
    # ASVS asks for at least 64 and NIST for no truncation; ESS allows up to this many characters.
    max_length: int = 1024
    # The offline list of 237,682 common passwords and words shipped with ESS (docs/security.md).
    blocklist: bool = True
    # Words besides the company name (settings.company.name) that no password may contain, e.g. product names.
    organisation_words: list[str] = msgspec.field(default_factory=list)
    # Have I Been Pwned (k-anonymity range API: only 5 hex characters of the SHA-1 are sent). Off by default; when
    # the service does not answer within the timeout the change goes on with the offline checks only.
    hibp_enabled: bool = False
    hibp_url: str = "https://api.pwnedpasswords.com/range/"
    hibp_timeout_seconds: float = 2.0
    # `ess password remind`: mail an account this many days before its password expires, once per offset.
    remind_offsets_days: list[int] = msgspec.field(default_factory=lambda: [14, 7, 3, 1])


class SmsHttpSettings(_Redacted, msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """`[recovery.sms_http]`: a text-message gateway spoken to over HTTP (used when `sms_gateway = "http"`)."""

    url: str = ""
    method: Literal["POST", "PUT"] = "POST"
    # "basic" (username, password), "bearer" (token) or "header" (token in the header `header_name`).
    auth: Literal["none", "basic", "bearer", "header"] = "none"
    username: str = ""
    password: str = ""
    token: str = ""
    header_name: str = ""
    # {number} (E.164) and {text}, escaped for content_type: JSON string content, form encoding, or as is.
    body_template: str = '{"to": "{number}", "text": "{text}"}'
    content_type: str = "application/json"
    timeout_seconds: float = 5.0


class RecoverySettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Forgotten password, unlock and recovery channels. Links are built from server.base_url."""

    token_minutes: int = 15
    # Silently, at most this many links or codes per account and hour (no mail or SMS bombing).
    mails_per_account_per_hour: int = 3
    requests_per_client_per_hour: int = 30
    requests_per_hour: int = 1000
    # Wrong links, codes or passwords per 15 minutes; per account it stays below the directory's lockout.
    failures_per_client: int = 20
    failures_per_account: int = 3
    code_attempts_per_link: int = 5
    # Text messages: "none" (default), "http" (a gateway configured in [recovery.sms_http]) or "memory" (tests).
    sms_gateway: Literal["none", "memory", "http"] = "none"
    sms_http: SmsHttpSettings = msgspec.field(default_factory=SmsHttpSettings)
    sms_code_minutes: int = 10
    # Shown in authenticator apps; empty: the company name.
    totp_issuer: str = ""

    @property
    def sms_enabled(self) -> bool:
        return self.sms_gateway != "none"


class HelpTopicSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One topic of `[[help_requests.topics]]`: its key, team ("hr" or "it"), labels, and an optional handover."""

    key: str
    team: Literal["hr", "it"]
    label_en: str
    label_de: str
    handover: str = ""


class HandoverSettings(_Redacted, msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """`[help_requests.handover.<name>]`: forward requests of a topic to an existing helpdesk tool, by mail (with the
    reference in the subject, as Zammad or OTOBO take mail in) or as a JSON webhook signed with HMAC-SHA256."""

    kind: Literal["mail", "webhook"]
    address: str = ""
    url: str = ""
    # The webhook's signing key (ESS_HELP_REQUESTS__HANDOVER__<NAME>__SECRET); the receiver checks X-ESS-Signature.
    secret: str = ""
    timeout_seconds: float = 5.0


class HelpRequestSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Requests to HR and IT ("Ich brauche Hilfe")."""

    # A request waiting on a team longer than this reminds the team's mailbox (once per period).
    remind_after_hours: int = 24
    # Requests from the login page (logged out): per client address and in total, per hour.
    anonymous_per_client_per_hour: int = 5
    anonymous_per_hour: int = 100
    # Mails to the person only say there is news; IT mails may name the subject with this (HR mails never do).
    subject_in_it_mails: bool = False
    # Empty: the built-in topics (leave, personal data, other HR; login, other IT).
    topics: list[HelpTopicSettings] = msgspec.field(default_factory=list)
    handover: dict[str, HandoverSettings] = msgspec.field(default_factory=dict)


class MetricsSettings(_Redacted, msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Prometheus `/metrics`: who may read it. Anyone else gets a 404."""

    enabled: bool = True
    # Client addresses (after server.trusted_proxies) allowed without a token.
    allow: list[str] = msgspec.field(default_factory=lambda: ["127.0.0.1/32", "::1/128"])
    # Or a bearer token (ESS_METRICS__TOKEN), for a Prometheus elsewhere: Authorization: Bearer <token>.
    token: str = ""


class AnalyticsSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Self-service analytics (docs/analytics.md): what the works agreement fixes."""

    # A figure resting on fewer journeys than this is suppressed.
    k: int = 5
    # A journey started and not completed within this time counts as abandoned.
    abandon_after_minutes: int = 60
    # A help request on the same topic within this time after a journey's last step escalates it.
    escalation_hours: int = 48
    # Minutes a call or ticket takes per flow (flow name -> minutes); flows not named take `default_minutes`.
    minutes_per_flow: dict[str, float] = msgspec.field(
        default_factory=lambda: {
            "password_reset": 10.0, "unlock": 5.0, "password_change": 5.0, "recovery_enrolment": 10.0,
            "leave_request": 5.0, "bank_change": 10.0, "search": 1.5, "help_article": 1.5,
        }
    )  # fmt: skip
    default_minutes: float = 5.0
    cost_per_hour: float = 30.0
    currency: str = "CHF"


class LoggingSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # "text" for a terminal (the demo), "json" for log collectors: one object per line with the request id.
    format: Literal["text", "json"] = "text"
    level: Literal["debug", "info", "warning", "error"] = "info"


class RetentionSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """How long each kind of data is kept before `ess retention run` deletes it (docs/privacy.md names each key, its
    reason and what must be kept longer). 0 keeps that kind for ever."""

    audit_events_days: int = 1095
    profile_history_days: int = 1095
    leavers_years: int = 10
    expired_links_days: int = 30
    mail_days: int = 30
    help_requests_days: int = 365
    deputies_days: int = 365
    # A year to compare plus a month (docs/analytics.md); also what `ess analytics purge` applies.
    analytics_events_days: int = 395


class OidcSettings(_Redacted, msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """`[sso.oidc]`: sign in through an OpenID Connect provider (docs/sso.md). Empty issuer: off."""

    # The provider's issuer URL exactly as its discovery document names it, e.g.
    # https://login.microsoftonline.com/<tenant>/v2.0 or https://keycloak.example/realms/company.
    issuer: str = ""
    client_id: str = ""
    # ESS_SSO__OIDC__CLIENT_SECRET.
    client_secret: str = ""
    scopes: list[str] = msgspec.field(default_factory=lambda: ["openid", "profile", "email"])
    # The claim that names the ESS login (preferred_username, upn, email: a UPN or address counts by its local part).
    login_claim: str = "preferred_username"
    # A claim listing group names, mapped to roles like directory groups (directory.group_roles); empty: off.
    groups_claim: str = ""
    # The button on the login page, e.g. "Sign in with Microsoft"; empty: "Sign in with single sign-on".
    button_label: str = ""
    timeout_seconds: float = 5.0
    # Clock difference tolerated when checking the ID token's times.
    leeway_seconds: int = 60

    @property
    def enabled(self) -> bool:
        return bool(self.issuer.strip())


class KerberosSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """`[sso.kerberos]`: Windows integrated login (Kerberos through SPNEGO) on /login. Empty keytab: off."""

    # The keytab with the key of the service principal HTTP/<ESS host name> (docs/sso.md); readable by ESS only.
    keytab: str = ""
    # e.g. "HTTP/ess.corp.example@CORP.EXAMPLE"; empty: any key in the keytab.
    service_principal: str = ""
    # Realms whose users may sign in, e.g. ["CORP.EXAMPLE"]; empty: any realm the key accepts tickets from.
    realms: list[str] = msgspec.field(default_factory=list)

    @property
    def enabled(self) -> bool:
        return bool(self.keytab.strip())


class SsoSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Single sign-on beside the password form (docs/sso.md)."""

    oidc: OidcSettings = msgspec.field(default_factory=OidcSettings)
    kerberos: KerberosSettings = msgspec.field(default_factory=KerberosSettings)
    # Once single sign-on is configured, these roles may no longer log in with the password form (e.g. ["hr"]: HR
    # signs in through the provider and its second factor). Forgotten password and unlock keep working for all.
    sso_only_roles: list[str] = msgspec.field(default_factory=list)


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    mode: Literal["demo", "production", "test"] = "production"
    server: ServerSettings = msgspec.field(default_factory=ServerSettings)
    database: DatabaseSettings = msgspec.field(default_factory=DatabaseSettings)
    security: SecuritySettings = msgspec.field(default_factory=SecuritySettings)
    sessions: SessionSettings = msgspec.field(default_factory=SessionSettings)
    directory: DirectorySettings = msgspec.field(default_factory=DirectorySettings)
    company: CompanySettings = msgspec.field(default_factory=CompanySettings)
    mail: MailSettings = msgspec.field(default_factory=MailSettings)
    vacation: VacationSettings = msgspec.field(default_factory=VacationSettings)
    profile: ProfileSettings = msgspec.field(default_factory=ProfileSettings)
    i18n: I18nSettings = msgspec.field(default_factory=I18nSettings)
    outbox: OutboxSettings = msgspec.field(default_factory=OutboxSettings)
    passwords: PasswordSettings = msgspec.field(default_factory=PasswordSettings)
    recovery: RecoverySettings = msgspec.field(default_factory=RecoverySettings)
    help_requests: HelpRequestSettings = msgspec.field(default_factory=HelpRequestSettings)
    metrics: MetricsSettings = msgspec.field(default_factory=MetricsSettings)
    logging: LoggingSettings = msgspec.field(default_factory=LoggingSettings)
    retention: RetentionSettings = msgspec.field(default_factory=RetentionSettings)
    analytics: AnalyticsSettings = msgspec.field(default_factory=AnalyticsSettings)
    sso: SsoSettings = msgspec.field(default_factory=SsoSettings)

    @property
    def secret_key(self) -> Secret:
        return Secret(self.security.secret_key)

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        return [(name, getattr(self, name)) for name in self.__struct_fields__]

    def __repr__(self) -> str:
        return f"Settings({', '.join(f'{name}={value!r}' for name, value in self.__rich_repr__())})"


def _redact_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        creds, _, host = rest.rpartition("@")
        user = creds.split(":", 1)[0]
        return f"{scheme}{sep}{user}:***@{host}"
    return url


def _overlay_env(data: dict[str, Any], environ: Mapping[str, str]) -> None:
    """Apply ESS_* variables: the aliases above and ESS_SECTION__KEY[__SUBKEY] for everything else."""
    for name, value in environ.items():
        if not name.startswith("ESS_") or name == "ESS_CONFIG":
            continue
        if name in ENV_ALIASES:
            path: tuple[str, ...] = ENV_ALIASES[name]
        elif name == "ESS_MODE":
            path = ("mode",)
        elif "__" in name:
            path = tuple(part.lower() for part in name[4:].split("__"))
        else:
            continue
        node = data
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise SettingsError(f"{name}: '{part}' is not a section")
            node = child
        # Lists and tables come as JSON: ESS_DIRECTORY__LDAP__URIS='["ldaps://dc1:636", "ldaps://dc2:636"]'.
        node[path[-1]] = _json_or_text(value)


def _json_or_text(value: str) -> Any:
    if value.lstrip().startswith(("[", "{")):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise SettingsError(f"not valid JSON: {value[:40]}...") from exc
    return value


def load_settings(
    config_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read the TOML file (ESS_CONFIG or config/ess.toml), overlay ESS_* variables and validate."""
    env = os.environ if environ is None else environ
    path = Path(config_file or env.get("ESS_CONFIG") or DEFAULT_CONFIG)
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SettingsError(f"Configuration file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"Configuration file {path} is not valid TOML: {exc}") from exc
    _overlay_env(data, env)
    for key, value in (overrides or {}).items():
        _set_dotted(data, key, value)
    try:
        settings = msgspec.convert(data, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(f"Invalid configuration ({path}): {exc}") from exc
    check_settings(settings)
    return settings


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    node = data
    *parents, leaf = dotted.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def _is_placeholder(value: str) -> bool:
    lowered = value.strip().lower()
    return lowered in PLACEHOLDER_SECRETS or lowered.startswith(("change", "demo", "<"))


def _queue_problems(name: str, queue: OutboxSettings | MailQueueSettings) -> list[str]:
    """The retry settings of a queue (the directory outbox, the mail queue)."""
    problems = []
    if min(queue.poll_seconds, queue.backoff_base_seconds, queue.claim_seconds) <= 0 or queue.batch_size < 1:
        problems.append(f"{name}: poll_seconds, backoff_base_seconds, claim_seconds and batch_size must be positive")
    if queue.backoff_max_seconds < queue.backoff_base_seconds or queue.max_attempts < 0:
        problems.append(f"{name}: backoff_max_seconds must be >= backoff_base_seconds and max_attempts >= 0")
    return problems


def _help_request_problems(help_requests: HelpRequestSettings) -> list[str]:
    """Positive periods, topics with unique keys naming configured handovers, webhooks with a real signing key."""
    problems = []
    if help_requests.remind_after_hours < 1:
        problems.append("help_requests: remind_after_hours must be at least 1")
    keys = [topic.key for topic in help_requests.topics]
    if len(keys) != len(set(keys)):
        problems.append("help_requests.topics: every key must be unique")
    for topic in help_requests.topics:
        if topic.handover and topic.handover not in help_requests.handover:
            problems.append(f"help_requests.topics: {topic.key} names the unknown handover {topic.handover!r}")
    for name, target in help_requests.handover.items():
        if target.kind == "mail" and "@" not in target.address:
            problems.append(f"help_requests.handover.{name}: a mail handover needs an address")
        if target.kind == "webhook" and (not target.url.startswith(("https://", "http://")) or len(target.secret) < 16):
            problems.append(
                f"help_requests.handover.{name}: a webhook needs a URL and a secret of 16 characters or more"
            )
    return problems


def check_settings(settings: Settings) -> None:
    """Refuse configurations that are unsafe outside the demo: placeholder secrets, unknown roles."""
    problems = [*_secret_problems(settings), *_directory_problems(settings)]
    problems += _help_request_problems(settings.help_requests)
    if not 1 <= settings.vacation.remind_after_days < settings.vacation.escalate_after_days:
        problems.append("vacation: remind_after_days must be at least 1 and below escalate_after_days")
    problems += _queue_problems("outbox", settings.outbox) + _queue_problems("mail.queue", settings.mail.queue)
    breaker = settings.directory.breaker
    if min(breaker.call_timeout_seconds, breaker.local_call_timeout_seconds, breaker.open_seconds) <= 0:
        problems.append("directory.breaker: call_timeout_seconds, local_call_timeout_seconds, open_seconds must be > 0")
    if breaker.failure_threshold < 1:
        problems.append("directory.breaker.failure_threshold must be at least 1")
    if settings.database.lock_timeout_seconds <= 0 or settings.database.statement_timeout_seconds < 0:
        problems.append("database: lock_timeout_seconds must be positive, statement_timeout_seconds 0 or more")
    if settings.i18n.default_locale not in settings.i18n.locales:
        problems.append("i18n.default_locale must be one of i18n.locales")
    problems += _password_problems(settings)
    security = settings.security
    if not 0 <= security.login_known_device_failures < security.login_failures_per_account:
        problems.append("security.login_known_device_failures must be >= 0 and below login_failures_per_account")
    if min(security.login_window_minutes, security.login_failures_per_login_and_client) < 1:
        problems.append("security.login_window_minutes and login_failures_per_login_and_client must be positive")
    problems += [
        f"security.second_factor_roles: unknown role {role!r}"
        for role in security.second_factor_roles
        if role not in {r.value for r in Role}
    ]
    if security.second_factor_remember_days < 0 or security.second_factor_failures_per_account < 1:
        problems.append("security.second_factor_remember_days must be >= 0, second_factor_failures_per_account >= 1")
    problems += _session_problems(settings)
    problems += _metrics_problems(settings)
    problems += _sms_problems(settings)
    problems += _sso_problems(settings)
    if problems:
        raise SettingsError("ESS refuses to start:\n  - " + "\n  - ".join(problems))


def _secret_problems(settings: Settings) -> list[str]:
    key = settings.security.secret_key
    # Only the demo may run on the published demo key; tests bring their own key like production does.
    if settings.mode == "demo":
        if len(key) < MIN_SECRET_LENGTH:
            return [f"security.secret_key must be at least {MIN_SECRET_LENGTH} characters, even in {settings.mode}"]
        return []
    problems = []
    if _is_placeholder(key):
        problems.append(
            "security.secret_key (ESS_SECRET_KEY) is missing or a placeholder; "
            'set a random value, e.g. python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )
    elif len(key) < MIN_SECRET_LENGTH:
        problems.append(f"security.secret_key (ESS_SECRET_KEY) must be at least {MIN_SECRET_LENGTH} characters")
    if any(marker in settings.database.url for marker in ("change-me", "changeme")):
        problems.append("database.url (ESS_DATABASE_URL) still contains a placeholder password")
    return problems


def _directory_problems(settings: Settings) -> list[str]:
    directory = settings.directory
    problems = [
        f"directory.group_roles: group {group!r} maps to unknown role {role!r}"
        for group, role in directory.group_roles.items()
        if role not in {r.value for r in ASSIGNABLE_ROLES}
    ]
    if directory.kind != "local":
        ldap = directory.ldap
        if not ldap.uris:
            problems.append("directory.ldap.uris must list at least one ldap:// or ldaps:// URI")
        if settings.mode != "demo" and _is_placeholder(ldap.bind_password):
            problems.append(
                "directory.ldap.bind_password (ESS_DIRECTORY__LDAP__BIND_PASSWORD) is missing or a placeholder"
            )
        if not ldap.verify_tls and settings.mode != "test":
            problems.append("directory.ldap.verify_tls = false is only allowed in test mode")
    return problems


def _password_problems(settings: Settings) -> list[str]:
    passwords = settings.passwords
    problems = []
    if passwords.min_length < 8:  # NIST SP 800-63B's floor
        problems.append("passwords.min_length must be at least 8 (NIST SP 800-63B)")
    if passwords.max_length < max(64, passwords.min_length):
        problems.append("passwords.max_length must be at least 64 and at least passwords.min_length")
    if any(days < 1 for days in passwords.remind_offsets_days):
        problems.append("passwords.remind_offsets_days must be whole days of 1 or more")
    if passwords.hibp_enabled and not passwords.hibp_url.startswith("https://") and settings.mode != "test":
        problems.append("passwords.hibp_url must use https (plain http only in test mode, for a local fake)")
    return problems


def _session_problems(settings: Settings) -> list[str]:
    sessions, server = settings.sessions, settings.server
    problems = []
    if sessions.store == "redis":
        if not sessions.url.startswith(("redis://", "rediss://", "unix://")):
            problems.append('sessions.url must be a redis://, rediss:// or unix:// URL when sessions.store = "redis"')
        if "@" in sessions.url.partition("://")[2] and settings.mode == "production":
            problems.append("sessions.url must not carry credentials: set sessions.password (ESS_SESSIONS__PASSWORD)")
        if sessions.password and settings.mode != "demo" and _is_placeholder(sessions.password):
            problems.append("sessions.password (ESS_SESSIONS__PASSWORD) is a placeholder")
        if (sessions.ca_file or sessions.cert_file) and not sessions.url.startswith("rediss://"):
            problems.append("sessions.ca_file and cert_file need a rediss:// URL (TLS)")
        if min(sessions.connect_timeout_seconds, sessions.operation_timeout_seconds, sessions.max_connections) <= 0:
            problems.append("sessions: the timeouts and max_connections must be positive")
    if server.workers < 1 or server.graceful_shutdown_seconds < 0:
        problems.append("server.workers must be 1 or more and server.graceful_shutdown_seconds not negative")
    elif server.workers > 1 and sessions.store != "redis":
        problems.append(
            f'server.workers = {server.workers} needs sessions.store = "redis": the {sessions.store} store is not '
            "shared between processes, so sessions would not be seen and login limits would not hold"
        )
    return problems


def _sms_problems(settings: Settings) -> list[str]:
    if settings.recovery.sms_gateway != "http":
        return []
    sms = settings.recovery.sms_http
    problems = []
    if not sms.url.startswith("https://") and settings.mode != "test":
        problems.append("recovery.sms_http.url must use https (plain http only in test mode, for a local stand-in)")
    if "{text}" not in sms.body_template:
        problems.append("recovery.sms_http.body_template must contain {text}")
    secret = {"basic": sms.password, "bearer": sms.token, "header": sms.token}.get(sms.auth)
    if secret is not None and (not secret or (settings.mode == "production" and _is_placeholder(secret))):
        problems.append(f"recovery.sms_http: auth = {sms.auth!r} needs a real password or token")
    if sms.auth == "header" and not sms.header_name:
        problems.append('recovery.sms_http.header_name is needed with auth = "header"')
    if sms.timeout_seconds <= 0:
        problems.append("recovery.sms_http.timeout_seconds must be positive")
    return problems


def _sso_problems(settings: Settings) -> list[str]:
    sso, oidc = settings.sso, settings.sso.oidc
    roles = {r.value for r in Role}
    problems = [f"sso.sso_only_roles: unknown role {role!r}" for role in sso.sso_only_roles if role not in roles]
    if not oidc.enabled:
        return problems
    if not oidc.issuer.startswith("https://") and settings.mode == "production":
        problems.append("sso.oidc.issuer must use https (plain http only in demo and test mode, for a local provider)")
    if not oidc.client_id or not oidc.client_secret:
        problems.append("sso.oidc: client_id and client_secret (ESS_SSO__OIDC__CLIENT_SECRET) are needed")
    elif settings.mode == "production" and _is_placeholder(oidc.client_secret):
        problems.append("sso.oidc.client_secret is a placeholder")
    if "openid" not in oidc.scopes or not oidc.login_claim:
        problems.append('sso.oidc.scopes must include "openid" and login_claim must name a claim')
    if oidc.timeout_seconds <= 0 or oidc.leeway_seconds < 0:
        problems.append("sso.oidc: timeout_seconds must be positive and leeway_seconds not negative")
    return problems


def _metrics_problems(settings: Settings) -> list[str]:
    metrics = settings.metrics
    problems = []
    for network in metrics.allow:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            problems.append(f"metrics.allow: {network!r} is not an address or network")
    if metrics.token and (_is_placeholder(metrics.token) or len(metrics.token) < 24) and settings.mode != "demo":
        problems.append("metrics.token (ESS_METRICS__TOKEN) must be a random value of at least 24 characters")
    return problems


_SECRET_PARTS = ("password", "secret", "token", "key", "credential")


def overview_lines(settings: Settings) -> list[tuple[str, str]]:
    """Every effective setting as (dotted key, value) for the operator console, with every secret left out (its
    value shown as set or not set) and passwords in URLs replaced."""
    lines: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, msgspec.Struct):
            for name in value.__struct_fields__:
                walk(f"{prefix}{name}.", getattr(value, name))
            return
        key = prefix.rstrip(".")
        leaf = key.rsplit(".", 1)[-1]
        if leaf in _SECRET_FIELDS or any(part in leaf.lower() for part in _SECRET_PARTS):
            lines.append((key, "(set)" if value else "(not set)"))
        elif isinstance(value, dict):
            lines.append((key, ", ".join(f"{k} = {v}" for k, v in value.items()) or "-"))
        else:
            lines.append((key, str(_shown(leaf, value))))

    walk("", settings)
    return lines
