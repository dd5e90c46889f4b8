"""The composition root: builds every adapter from the settings and wires each area's dependencies (`AuthDeps`,
`VacationDeps`, ...) once; the edge hands each handler only its area's."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

import msgspec
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ess.adapters.blocklist import ShippedBlocklist
from ess.adapters.clock import SystemClock
from ess.adapters.directory_guard import BreakerPolicy, GuardedDirectory
from ess.adapters.handover import ConfiguredHandover, HandoverTarget
from ess.adapters.holidays_calendar import HolidaysCalendar
from ess.adapters.hr_files import read_hr_bytes
from ess.adapters.local_directory import HashingCost, LocalDirectory
from ess.adapters.mail import Mailer, MailFolderArea, build_mailer
from ess.adapters.markdown import SafeMarkdown
from ess.adapters.notifications import MailNotifier
from ess.adapters.passkeys import WebauthnPasskeys
from ess.adapters.pwned_passwords import PwnedPasswordsRange
from ess.adapters.recovery import (
    BackgroundJobs,
    DisabledSmsGateway,
    FernetSecretBox,
    MemorySmsGateway,
    PyotpAuthenticator,
)
from ess.adapters.regions import HolidaysRegions
from ess.adapters.sms import HttpSmsConfig, HttpSmsGateway
from ess.adapters.sql.database import create_engine, create_session_factory
from ess.adapters.sql.privacy import sql_data_areas
from ess.adapters.sql.reports import SqlLeaveReport
from ess.adapters.sql.unit_of_work import SqlUnitOfWork
from ess.adapters.stores import LocalFileStore, SessionsArea, StoreAttemptCounter, StoreSessions
from ess.domain.analytics.model import AnalyticsPolicy, Flow
from ess.domain.analytics.ports import AnalyticsDeps, AnalyticsUnitOfWork
from ess.domain.auth.model import AuthPolicy
from ess.domain.auth.ports import AttemptCounter, AuthDeps, SessionStore, TicketAcceptor
from ess.domain.console.ports import ConsoleDeps, DirectoryCheck
from ess.domain.directory.ports import Directory
from ess.domain.help.ports import HelpDeps, HelpUnitOfWork
from ess.domain.help_requests.model import DEFAULT_TOPICS, HelpRequestPolicy, Team, Topic
from ess.domain.help_requests.ports import HelpRequestsDeps, HelpRequestsUnitOfWork
from ess.domain.home.ports import HomeDeps
from ess.domain.hr.model import Role
from ess.domain.hr_import.ports import HrImportDeps, HrImportUnitOfWork, Regions
from ess.domain.mail.delivery import send_due
from ess.domain.mail.ports import MailDeps, MailUnitOfWork
from ess.domain.mail.queue import QueuedNotifier
from ess.domain.mfa.model import MfaPolicy
from ess.domain.mfa.ports import MfaDeps, MfaUnitOfWork
from ess.domain.outbox.model import RetryPolicy
from ess.domain.outbox.ports import OutboxDeps, OutboxUnitOfWork
from ess.domain.passwords.model import PasswordPolicy
from ess.domain.passwords.ports import BreachedPasswords, PasswordDeps, PasswordsUnitOfWork
from ess.domain.privacy.model import RetentionPolicy
from ess.domain.privacy.ports import DataArea, PrivacyDeps, PrivacyUnitOfWork
from ess.domain.profile.model import ProfilePolicies
from ess.domain.profile.ports import ProfileDeps, ProfileUnitOfWork
from ess.domain.recovery.model import RecoveryPolicy
from ess.domain.recovery.ports import Jobs, RecoveryDeps, RecoveryUnitOfWork, SmsGateway
from ess.domain.shared import Clock, Notifier
from ess.domain.vacation.model import VacationPolicy
from ess.domain.vacation.ports import HolidayCalendar, LeaveReport, VacationDeps, VacationUnitOfWork
from ess.routes.links import PageLinks
from ess.settings import Settings, SettingsError, overview_lines

if TYPE_CHECKING:
    from ess.adapters.ldap.directory import LdapDirectory
    from ess.adapters.oidc import OidcClient
    from ess.adapters.redis_store import SharedRedis


class AppUnitOfWork(
    MfaUnitOfWork,
    RecoveryUnitOfWork,
    PasswordsUnitOfWork,
    VacationUnitOfWork,
    ProfileUnitOfWork,
    OutboxUnitOfWork,
    HrImportUnitOfWork,
    MailUnitOfWork,
    HelpUnitOfWork,
    PrivacyUnitOfWork,
    AnalyticsUnitOfWork,
    HelpRequestsUnitOfWork,
    Protocol,
):
    """Every area's unit of work at once: what the one SQL adapter (and the tests' fake) provides."""


@dataclass
class Container:
    """Everything built from the settings: each area's dependencies, the shared adapters they are made of (for the
    CLI and tests), and what must be swept now and then and closed at shutdown."""

    settings: Settings
    clock: Clock
    new_uow: Callable[[], AppUnitOfWork]
    directory: Directory
    links: PageLinks
    auth: AuthDeps
    passwords: PasswordDeps
    vacation: VacationDeps
    profile: ProfileDeps
    recovery: RecoveryDeps
    mfa: MfaDeps
    outbox: OutboxDeps
    hr_import: HrImportDeps
    mail: MailDeps
    help: HelpDeps
    privacy: PrivacyDeps
    console: ConsoleDeps
    analytics: AnalyticsDeps
    help_requests: HelpRequestsDeps
    home: HomeDeps
    engine: AsyncEngine | None = None
    stores: list[Store] = field(default_factory=list)
    local_directory: LocalDirectory | None = None
    ldap_directory: LdapDirectory | None = None
    # The timeouts and circuit breaker every directory call goes through (None with a fake directory in tests).
    directory_guard: GuardedDirectory | None = None
    jobs: BackgroundJobs | None = None
    shared_redis: SharedRedis | None = None

    async def check_shared_store(self) -> None:
        """At start-up: a configured Redis must answer (SharedStoreUnreachable says what to check)."""
        if self.shared_redis is not None:
            await self.shared_redis.check()

    async def sweep(self) -> None:
        """Drop expired sessions and counters; a file store keeps them on disk until asked."""
        for store in self.stores:
            delete_expired = getattr(store, "delete_expired", None)
            if delete_expired is not None:
                await delete_expired()

    async def close(self) -> None:
        """Release everything, after one bounded round of the mail queue (a CLI job's mails go out before it ends)."""
        if self.jobs is not None:
            await self.jobs.drain()  # recovery mails already promised go out before the loop ends
        await self.send_queued_mail()

    async def send_queued_mail(self) -> None:
        """One round of the mail queue, bounded in time: a CLI job's mails go out before it exits; what does not
        stays queued for the servers' workers."""
        try:
            await asyncio.wait_for(send_due(deps=self.mail), timeout=MAIL_ROUND_SECONDS)
        except Exception:  # the mails stay queued; closing must go on
            logging.getLogger("ess.mail").warning("Queued mails not sent at shutdown stay queued for the workers")
        if self.ldap_directory is not None:
            self.ldap_directory.close()
        if self.engine is not None:
            await self.engine.dispose()
        if self.shared_redis is not None:
            await self.shared_redis.close()


# How long closing the container (the end of a CLI job) spends sending queued mail.
# A retention of 0 days keeps data for ever; for a cutoff that means a thousand years back.
KEEP_FOR_EVER_DAYS = 365_000

MAIL_ROUND_SECONDS = 30.0


def build_stores(settings: Settings) -> tuple[Store, Store]:
    """The session store and the attempt-counter store of the file or memory kind, each in its own namespace."""
    if settings.sessions.store == "memory":
        return MemoryStore(), MemoryStore()
    root = Path(settings.sessions.path)
    for namespace in ("sessions", "attempts"):
        (root / namespace).mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)  # session files are credentials-adjacent: owner only
    base = LocalFileStore(root, create_directories=True)
    return base.with_namespace("sessions"), base.with_namespace("attempts")


def build_shared_redis(settings: Settings) -> SharedRedis:
    # The Redis client is imported only when the shared store is configured (cold start, docs/performance.md).
    from ess.adapters.redis_store import RedisConnection, SharedRedis  # noqa: PLC0415

    sessions = settings.sessions
    return SharedRedis(
        RedisConnection(
            url=sessions.url,
            username=sessions.username,
            password=sessions.password,
            ca_file=sessions.ca_file,
            cert_file=sessions.cert_file,
            key_file=sessions.key_file,
            connect_timeout=sessions.connect_timeout_seconds,
            operation_timeout=sessions.operation_timeout_seconds,
            max_connections=sessions.max_connections,
        ),
        prefix=sessions.key_prefix,
        max_session_seconds=settings.security.session_absolute_hours * 3600,
    )


def build_state(settings: Settings) -> tuple[SessionStore, AttemptCounter, list[Store], SharedRedis | None]:
    """Sessions and counters: in Redis when configured (every process and host), else a file or memory store."""
    if settings.sessions.store == "redis":
        shared = build_shared_redis(settings)
        return shared.sessions, shared.attempts, [], shared
    session_store, attempt_store = build_stores(settings)
    max_session_seconds = settings.security.session_absolute_hours * 3600
    sessions = StoreSessions(session_store, max_session_seconds=max_session_seconds)
    return sessions, StoreAttemptCounter(attempt_store), [session_store, attempt_store], None


def auth_policy(settings: Settings) -> AuthPolicy:
    security = settings.security
    return AuthPolicy(
        failures_per_account=security.login_failures_per_account,
        failures_per_client=security.login_failures_per_client,
        window=timedelta(minutes=security.login_window_minutes),
        failures_per_login_and_client=security.login_failures_per_login_and_client,
        known_device_failures=security.login_known_device_failures,
        known_device_lifetime=timedelta(days=security.login_known_device_days),
        device_key=hmac.new(security.secret_key.encode("utf-8"), b"ess known devices v1", hashlib.sha256).digest(),
        session_idle=timedelta(minutes=security.session_idle_minutes),
        session_absolute=timedelta(hours=security.session_absolute_hours),
        token_lifetime=timedelta(hours=security.api_token_hours),
        principal_cache=timedelta(seconds=max(security.principal_cache_seconds, 0)),
        group_roles={group: Role(role) for group, role in settings.directory.group_roles.items()},
        sso_only_roles=frozenset(Role(role) for role in settings.sso.sso_only_roles),
    )


def build_kerberos(settings: Settings) -> TicketAcceptor | None:
    kerberos = settings.sso.kerberos
    if not kerberos.enabled:
        return None
    # Imported only when configured: python-gssapi needs MIT Kerberos's libraries (the "kerberos" extra).
    from ess.adapters.kerberos import GssapiTickets, KerberosConfig  # noqa: PLC0415

    return GssapiTickets(
        KerberosConfig(
            keytab=kerberos.keytab.strip(),
            service_principal=kerberos.service_principal,
            realms=tuple(realm.upper() for realm in kerberos.realms),
        )
    )


def build_oidc(settings: Settings) -> OidcClient | None:
    oidc = settings.sso.oidc
    if not oidc.enabled:
        return None
    # Imported only when configured: joserfc and its key types are a noticeable part of a cold start.
    from ess.adapters.oidc import OidcClient, OidcConfig  # noqa: PLC0415

    return OidcClient(
        OidcConfig(
            issuer=oidc.issuer.strip(),
            client_id=oidc.client_id,
            client_secret=oidc.client_secret,
            scopes=tuple(oidc.scopes),
            login_claim=oidc.login_claim,
            groups_claim=oidc.groups_claim,
            timeout_seconds=oidc.timeout_seconds,
            leeway_seconds=oidc.leeway_seconds,
        )
    )


def password_policy(settings: Settings) -> PasswordPolicy:
    passwords = settings.passwords
    return PasswordPolicy(
        min_length=passwords.min_length,
        max_length=passwords.max_length,
        blocklist=ShippedBlocklist() if passwords.blocklist else None,
        organisation_words=(settings.company.name, *passwords.organisation_words),
    )


def breached_passwords(settings: Settings) -> BreachedPasswords | None:
    passwords = settings.passwords
    if not passwords.hibp_enabled:
        return None
    return PwnedPasswordsRange(passwords.hibp_url, timeout_seconds=passwords.hibp_timeout_seconds)


def build_calendar(settings: Settings) -> HolidaysCalendar:
    vacation = settings.vacation
    half_days = [(int(md[:2]), int(md[3:])) for md in vacation.half_days]
    days_off = {date.fromisoformat(day): name for day, name in vacation.company_days_off.items()}
    return HolidaysCalendar(half_days=half_days, company_days_off=days_off, categories_by_location=vacation.categories)


def retry_policy(settings: Settings) -> RetryPolicy:
    outbox = settings.outbox
    return RetryPolicy(
        poll_seconds=outbox.poll_seconds,
        backoff_base_seconds=outbox.backoff_base_seconds,
        backoff_max_seconds=outbox.backoff_max_seconds,
        max_attempts=outbox.max_attempts,
        batch_size=outbox.batch_size,
        claim_seconds=outbox.claim_seconds,
    )


def breaker_policy(settings: Settings) -> BreakerPolicy:
    breaker = settings.directory.breaker
    local = settings.directory.kind == "local"
    return BreakerPolicy(
        call_timeout_seconds=breaker.local_call_timeout_seconds if local else breaker.call_timeout_seconds,
        failure_threshold=breaker.failure_threshold,
        open_seconds=breaker.open_seconds,
    )


def build_directory(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession], clock: Clock
) -> LocalDirectory | LdapDirectory:
    if settings.directory.kind == "local":
        local = settings.directory.local
        return LocalDirectory(
            session_factory,
            clock,
            hashing=HashingCost(local.hashing.memory_kib, local.hashing.time_cost, local.hashing.parallelism),
            lockout_threshold=local.lockout_threshold,
            lockout_duration=timedelta(minutes=local.lockout_minutes),
        )
    # Imported only when a directory server is configured: ldap3 is a noticeable part of a cold start.
    from ess.adapters.ldap.connections import ConnectionSettings, DirectoryConnector  # noqa: PLC0415
    from ess.adapters.ldap.directory import LdapDirectory  # noqa: PLC0415

    ldap = settings.directory.ldap
    connector = DirectoryConnector(
        ConnectionSettings(
            uris=tuple(ldap.uris),
            start_tls=ldap.start_tls,
            ca_file=ldap.ca_file,
            verify_tls=ldap.verify_tls,
            connect_timeout=ldap.connect_timeout_seconds,
            operation_timeout=ldap.operation_timeout_seconds,
            bind_dn=ldap.bind_dn,
            bind_password=ldap.bind_password,
            pool_size=ldap.pool_size,
        )
    )
    return LdapDirectory(
        connector,
        flavour=settings.directory.kind,
        user_base_dn=ldap.user_base_dn,
        user_filter=ldap.user_filter,
        login_attribute=ldap.login_attribute,
        email_attribute=ldap.email_attribute,
        group_base_dn=ldap.group_base_dn,
        attributes=ldap.attributes,
        default_policy_dn=ldap.default_policy_dn,
        clock=clock.now,
    )


def profile_policies(settings: Settings) -> ProfilePolicies:
    try:
        return ProfilePolicies.from_config(settings.profile.policies)
    except ValueError as exc:
        raise SettingsError(str(exc)) from exc


def recovery_policy(settings: Settings) -> RecoveryPolicy:
    recovery = settings.recovery
    return RecoveryPolicy(
        token_lifetime=timedelta(minutes=recovery.token_minutes),
        mails_per_account=recovery.mails_per_account_per_hour,
        requests_per_client=recovery.requests_per_client_per_hour,
        requests_global=recovery.requests_per_hour,
        failures_per_client=recovery.failures_per_client,
        failures_per_account=recovery.failures_per_account,
        code_attempts_per_token=recovery.code_attempts_per_link,
        sms_enabled=recovery.sms_enabled,
        sms_code_lifetime=timedelta(minutes=recovery.sms_code_minutes),
        totp_issuer=recovery.totp_issuer or settings.company.name,
    )


def build_sms_gateway(settings: Settings) -> SmsGateway:
    """The configured gateway; another one plugs in here: any object with `async send(number, text)` that raises
    ServiceUnavailable."""
    if settings.recovery.sms_gateway == "memory":
        return MemorySmsGateway()
    if settings.recovery.sms_gateway == "http":
        sms = settings.recovery.sms_http
        config = HttpSmsConfig(
            url=sms.url,
            method=sms.method,
            auth=sms.auth,
            username=sms.username,
            password=sms.password,
            token=sms.token,
            header_name=sms.header_name,
            body_template=sms.body_template,
            content_type=sms.content_type,
            timeout_seconds=sms.timeout_seconds,
        )
        try:
            return HttpSmsGateway(config, allow_plain_http_on_loopback=settings.mode == "test")
        except ValueError as exc:
            raise SettingsError(str(exc)) from exc
    return DisabledSmsGateway()


@dataclass(frozen=True)
class Adapters:
    """The outside systems every area is wired from: the real ones (`build_container`) or fakes (tests)."""

    clock: Clock
    new_uow: Callable[[], AppUnitOfWork]
    directory: Directory
    sessions: SessionStore
    attempts: AttemptCounter
    mailer: Mailer
    calendar: HolidayCalendar
    report: LeaveReport
    regions: Regions
    jobs: Jobs
    breached: BreachedPasswords | None = None
    # The areas that hold personal data (export and retention); help requests and analytics plug in here.
    data_areas: Sequence[DataArea] = ()
    # The operator console's directory check (`ess directory check`); None: the console says it cannot tell.
    check_directory: Callable[[], Awaitable[list[DirectoryCheck]]] | None = None


def wire(settings: Settings, adapters: Adapters) -> Container:
    """Each area's dependencies from the settings and the adapters, built once. Long because it is the one place
    every area is wired, in the order in which they depend on each other."""
    clock, new_uow, directory = adapters.clock, adapters.new_uow, adapters.directory
    links = PageLinks()
    mail = mail_deps(settings, adapters, links)
    notifier = QueuedNotifier(mail)
    outbox = OutboxDeps(
        new_uow=new_uow,
        directory=directory,
        clock=clock,
        policy=retry_policy(settings),
        wake=asyncio.Event(),
        notifier=notifier,
        hr_recipients=(settings.company.hr_contact.email,),
    )
    passwords = PasswordDeps(
        new_uow=new_uow,
        directory=directory,
        sessions=adapters.sessions,
        attempts=adapters.attempts,
        clock=clock,
        notifier=notifier,
        auth_policy=auth_policy(settings),
        policy=password_policy(settings),
        breached=adapters.breached,
    )
    recovery = recovery_deps(settings, adapters, notifier=notifier, mail=mail, password_policy=passwords.policy)
    vacation = vacation_deps(settings, adapters, notifier=notifier)
    profile = profile_deps(settings, adapters, notifier=notifier, directory_changed=outbox.wake.set)
    hr_import = HrImportDeps(new_uow, clock, adapters.regions, notifier, (settings.company.hr_contact.email,))
    privacy = privacy_deps(settings, adapters)
    return Container(
        settings=settings,
        clock=clock,
        new_uow=new_uow,
        directory=directory,
        links=links,
        auth=auth_deps(settings, adapters),
        passwords=passwords,
        vacation=vacation,
        profile=profile,
        recovery=recovery,
        mfa=mfa_deps(settings, adapters, recovery=recovery),
        outbox=outbox,
        hr_import=hr_import,
        mail=mail,
        help=help_deps(settings, adapters, vacation=vacation, profile=profile),
        privacy=privacy,
        console=ConsoleDeps(
            outbox,
            mail,
            hr_import,
            privacy,
            adapters.check_directory or _cannot_tell,
            read_hr_bytes,
            overview_lines(settings),
        ),
        analytics=AnalyticsDeps(new_uow=new_uow, clock=clock, policy=analytics_policy(settings)),
        help_requests=help_requests_deps(settings, adapters, notifier=notifier),
        home=HomeDeps(clock=clock, vacation=vacation, profile=profile, recovery=recovery),
    )


def help_requests_deps(settings: Settings, adapters: Adapters, *, notifier: Notifier) -> HelpRequestsDeps:
    """Requests to HR and IT: the configured topics (or the built-in ones), limits, team mailboxes and handovers."""
    config = settings.help_requests
    topics = tuple(Topic(t.key, Team(t.team), t.label_en, t.label_de, t.handover) for t in config.topics)
    targets = {
        name: HandoverTarget(t.kind, t.address, t.url, t.secret, t.timeout_seconds)
        for name, t in config.handover.items()
    }
    return HelpRequestsDeps(
        new_uow=adapters.new_uow,
        clock=adapters.clock,
        notifier=notifier,
        attempts=adapters.attempts,
        handover=ConfiguredHandover(targets, notifier=notifier, clock=adapters.clock),
        topics=topics or DEFAULT_TOPICS,
        policy=HelpRequestPolicy(
            retention=timedelta(days=settings.retention.help_requests_days or KEEP_FOR_EVER_DAYS),
            remind_after=timedelta(hours=config.remind_after_hours),
            anonymous_per_client_per_hour=config.anonymous_per_client_per_hour,
            anonymous_per_hour=config.anonymous_per_hour,
            subject_in_it_mails=config.subject_in_it_mails,
        ),
        team_addresses={
            Team.HR: (settings.company.hr_contact.email,),
            Team.IT: (settings.company.it_contact.email,),
        },
    )


def analytics_policy(settings: Settings) -> AnalyticsPolicy:
    """k, the windows, retention and the savings' inputs from `[analytics]`; an unknown flow name is refused."""
    analytics = settings.analytics
    if analytics.k < 2:
        raise SettingsError("analytics.k must be 2 or more (a figure on one journey points to a person)")
    try:
        minutes = {Flow(name): Decimal(str(value)) for name, value in analytics.minutes_per_flow.items()}
    except ValueError as exc:
        raise SettingsError(f"analytics.minutes_per_flow: unknown flow ({exc})") from exc
    return AnalyticsPolicy(
        k=analytics.k,
        abandon_after=timedelta(minutes=analytics.abandon_after_minutes),
        escalation_window=timedelta(hours=analytics.escalation_hours),
        # [retention] analytics_events_days, as for every other kind of data; 0 keeps them for ever.
        retention=timedelta(days=settings.retention.analytics_events_days or KEEP_FOR_EVER_DAYS),
        minutes_per_flow=minutes,
        default_minutes=Decimal(str(analytics.default_minutes)),
        cost_per_hour=Decimal(str(analytics.cost_per_hour)),
        currency=analytics.currency,
    )


def auth_deps(settings: Settings, adapters: Adapters) -> AuthDeps:
    return AuthDeps(
        adapters.new_uow,
        adapters.directory,
        adapters.sessions,
        adapters.attempts,
        adapters.clock,
        auth_policy(settings),
        oidc=build_oidc(settings),
        kerberos=build_kerberos(settings),
    )


def help_deps(settings: Settings, adapters: Adapters, *, vacation: VacationDeps, profile: ProfileDeps) -> HelpDeps:
    """The help center reads personal answers through the leave and profile use cases and the directory."""
    return HelpDeps(
        new_uow=adapters.new_uow,
        clock=adapters.clock,
        renderer=SafeMarkdown(),
        vacation=vacation,
        profile=profile,
        directory=adapters.directory,
        values=company_values(settings),
    )


def company_values(settings: Settings) -> dict[str, str]:
    """The configured values help articles may show as {name}: the company and how to reach HR and IT."""
    company = settings.company
    values = {"company": company.name}
    for prefix, contact in (("hr", company.hr_contact), ("it", company.it_contact)):
        values |= {
            f"{prefix}_name": contact.name,
            f"{prefix}_email": contact.email,
            f"{prefix}_phone": contact.phone or contact.email,
            f"{prefix}_hours": contact.hours or "-",
        }
    return values


def profile_deps(
    settings: Settings, adapters: Adapters, *, notifier: Notifier, directory_changed: Callable[[], None]
) -> ProfileDeps:
    """The profile use cases' ports; `directory_changed` wakes the outbox worker after a directory field changed."""
    return ProfileDeps(
        new_uow=adapters.new_uow,
        clock=adapters.clock,
        directory=adapters.directory,
        notifier=notifier,
        policies=profile_policies(settings),
        directory_changed=directory_changed,
        hr_recipients=tuple(settings.profile.hr_notify_to),
        attempts=adapters.attempts,
    )


def vacation_deps(settings: Settings, adapters: Adapters, *, notifier: Notifier) -> VacationDeps:
    """The leave use cases' ports; HR hears of leave that a change of the HR data made overdrawn."""
    return VacationDeps(
        new_uow=adapters.new_uow,
        clock=adapters.clock,
        calendar=adapters.calendar,
        notifier=notifier,
        report=adapters.report,
        policy=VacationPolicy(
            allow_overdraft_days=Decimal(str(settings.vacation.allow_overdraft_days)),
            backdate_days=settings.vacation.backdate_days,
            remind_after_days=settings.vacation.remind_after_days,
            escalate_after_days=settings.vacation.escalate_after_days,
        ),
        hr_recipients=(settings.company.hr_contact.email,),
    )


def mail_deps(settings: Settings, adapters: Adapters, links: PageLinks) -> MailDeps:
    """The mail queue and its workers: notices become mails committed to the queue, sent at once and retried."""
    return MailDeps(
        new_uow=adapters.new_uow,
        postman=build_postman(settings, adapters.mailer, links),
        clock=adapters.clock,
        policy=mail_retry_policy(settings),
        wake=asyncio.Event(),
    )


def mail_retry_policy(settings: Settings) -> RetryPolicy:
    queue = settings.mail.queue
    return RetryPolicy(
        poll_seconds=queue.poll_seconds,
        backoff_base_seconds=queue.backoff_base_seconds,
        backoff_max_seconds=queue.backoff_max_seconds,
        max_attempts=queue.max_attempts,
        batch_size=queue.batch_size,
        claim_seconds=queue.claim_seconds,
    )


def build_postman(settings: Settings, mailer: Mailer, links: PageLinks) -> MailNotifier:
    """Notices as mails in the company's language, linking to pages by route name under the configured address;
    queued sealed with a key of their own derived from the application secret."""
    return MailNotifier(
        mailer,
        sealer=FernetSecretBox(settings.secret_key.reveal(), purpose=b"ess mail queue"),
        locale=settings.i18n.default_locale,
        company=settings.company.name,
        base_url=settings.server.base_url,
        links=links,
    )


def recovery_deps(
    settings: Settings, adapters: Adapters, *, notifier: Notifier, mail: MailDeps, password_policy: PasswordPolicy
) -> RecoveryDeps:
    """The recovery use cases' ports; `password_policy` is the one every other password path uses."""
    secret = settings.secret_key.reveal()
    return RecoveryDeps(
        directory=adapters.directory,
        new_uow=adapters.new_uow,
        sessions=adapters.sessions,
        attempts=adapters.attempts,
        clock=adapters.clock,
        notifier=notifier,
        jobs=adapters.jobs,
        sms=build_sms_gateway(settings),
        authenticator=PyotpAuthenticator(),
        box=FernetSecretBox(secret),
        policy=recovery_policy(settings),
        password_policy=password_policy,
        # Its own key for the HMAC of SMS codes, derived from the application secret.
        code_key=hashlib.sha256(b"ess recovery codes\0" + secret.encode("utf-8")).hexdigest(),
        mail=mail,
        breached=adapters.breached,
    )


def mfa_policy(settings: Settings) -> MfaPolicy:
    security = settings.security
    return MfaPolicy(
        required_roles=frozenset(Role(role) for role in security.second_factor_roles),
        remember_lifetime=timedelta(days=security.second_factor_remember_days),
        failures_per_account=security.second_factor_failures_per_account,
        failures_per_client=security.login_failures_per_client,
        issuer=settings.recovery.totp_issuer or settings.company.name,
        key=hmac.new(security.secret_key.encode("utf-8"), b"ess second factor v1", hashlib.sha256).digest(),
    )


def build_passkeys(settings: Settings) -> WebauthnPasskeys:
    """The relying party is the configured address: passkeys work only when the browser sees ESS under it."""
    address = urlsplit(settings.server.base_url)
    return WebauthnPasskeys(
        rp_id=address.hostname or "localhost",
        rp_name=settings.company.name,
        origin=f"{address.scheme}://{address.netloc}",
    )


def mfa_deps(settings: Settings, adapters: Adapters, *, recovery: RecoveryDeps) -> MfaDeps:
    secret = settings.secret_key.reveal()
    return MfaDeps(
        new_uow=adapters.new_uow,
        clock=adapters.clock,
        attempts=adapters.attempts,
        authenticator=recovery.authenticator,
        box=recovery.box,
        passkeys=build_passkeys(settings),
        policy=mfa_policy(settings),
        # Its own key for the HMAC of recovery codes, derived from the application secret.
        code_key=hashlib.sha256(b"ess login recovery codes\0" + secret.encode("utf-8")).hexdigest(),
        recovery=recovery,
    )


def build_container(settings: Settings, *, clock: Clock | None = None) -> Container:
    """The real adapters from the settings, wired."""
    clock = clock or SystemClock()
    database = settings.database
    engine = create_engine(
        database.url,
        echo=database.echo,
        lock_timeout_seconds=database.lock_timeout_seconds,
        statement_timeout_seconds=database.statement_timeout_seconds,
    )
    session_factory = create_session_factory(engine)
    sessions, attempts, stores, shared_redis = build_state(settings)
    inner = build_directory(settings, session_factory, clock)
    local_directory = inner if isinstance(inner, LocalDirectory) else None
    ldap_directory = None if isinstance(inner, LocalDirectory) else inner
    directory = GuardedDirectory(inner, breaker_policy(settings))

    def new_uow() -> AppUnitOfWork:
        return SqlUnitOfWork(session_factory, clock)

    jobs = BackgroundJobs()
    container = wire(
        settings,
        Adapters(
            clock=clock,
            new_uow=new_uow,
            directory=directory,
            sessions=sessions,
            attempts=attempts,
            mailer=build_mailer(settings.mail),
            calendar=build_calendar(settings),
            report=SqlLeaveReport(session_factory),
            regions=HolidaysRegions(),
            jobs=jobs,
            breached=breached_passwords(settings),
            data_areas=(*data_areas(settings), SessionsArea(sessions)),
            check_directory=directory_checker(local_directory, ldap_directory),
        ),
    )
    container.engine = engine
    container.stores = stores
    container.shared_redis = shared_redis
    container.local_directory = local_directory
    container.ldap_directory = ldap_directory
    container.directory_guard = directory
    container.jobs = jobs
    return container


def data_areas(settings: Settings) -> tuple[DataArea, ...]:
    """Every area that holds personal data: each exports what it holds about a person and deletes what its
    retention says is due. A new area (help requests, analytics) adds its own here."""
    folder = (MailFolderArea(settings.mail.folder),) if settings.mail.backend == "file" else ()
    return (*sql_data_areas(), *folder)


def privacy_deps(settings: Settings, adapters: Adapters) -> PrivacyDeps:
    return PrivacyDeps(
        new_uow=adapters.new_uow,
        clock=adapters.clock,
        retention=RetentionPolicy.from_settings(msgspec.structs.asdict(settings.retention)),
        areas=tuple(adapters.data_areas),
    )


async def _cannot_tell() -> list[DirectoryCheck]:
    return [DirectoryCheck("directory", ok=None, detail="no check for this directory")]


def directory_checker(
    local: LocalDirectory | None, ldap: LdapDirectory | None
) -> Callable[[], Awaitable[list[DirectoryCheck]]]:
    """The checks of `ess directory check`, for the console."""

    async def check() -> list[DirectoryCheck]:
        if ldap is None:
            count = len(await local.logins()) if local is not None else 0
            return [DirectoryCheck("local directory (accounts in the ESS database)", True, f"{count} accounts")]
        from ess.adapters.ldap.directory import diagnose  # noqa: PLC0415 - only with a directory server

        found = await asyncio.to_thread(diagnose, ldap, None)
        return [DirectoryCheck(c.name, c.ok, c.detail) for c in found]

    return check
