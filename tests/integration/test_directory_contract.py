"""One contract for the Directory port, run against the local directory, a real slapd and a real Samba AD DC."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ess.adapters.ldap.connections import ConnectionSettings, DirectoryConnector
from ess.adapters.ldap.directory import LdapDirectory
from ess.adapters.local_directory import HashingCost, LocalDirectory
from ess.adapters.sql.database import create_engine, create_session_factory
from ess.domain.directory.model import AuthOutcome, DirectoryPasswordRejected, DirectoryRejection
from ess.domain.directory.ports import Directory
from ess.domain.errors import AuthenticationFailed, NotFound, ServiceUnavailable
from tests.conftest import migrate
from tests.fakes import FixedClock
from tests.harness.directory import DirectoryEndpoint, DirectoryServer

PASSWORD = "Startpasswort 2026"
UNICODE_PASSWORD = "Grüße aus Zürich 🔑 2026"
ATTRIBUTES = {"work_phone": "telephoneNumber", "mobile_phone": "mobile", "display_name": "displayName"}
INJECTIONS = ["*", "*)(uid=*", "admin)(|(a=*", "x\x00", "*)(sAMAccountName=*", "anna*", "(cn=*)"]
# The lockout threshold of every directory under test (slapd: pwdMaxFailure, Samba: lockout threshold).
LOCKOUT_AFTER = 5


def ldap_directory(
    endpoint: DirectoryEndpoint, *, uris: Sequence[str] | None = None, ca_file: str | None = None
) -> LdapDirectory:
    connector = DirectoryConnector(
        ConnectionSettings(
            uris=tuple(uris or endpoint.uris),
            start_tls=endpoint.start_tls,
            ca_file=ca_file or str(endpoint.ca_file),
            verify_tls=True,
            connect_timeout=2.0,
            operation_timeout=5.0,
            bind_dn=endpoint.bind_dn,
            bind_password=endpoint.bind_password,
            pool_size=2,
        )
    )
    return LdapDirectory(
        connector,
        flavour=endpoint.kind,
        user_base_dn=endpoint.user_base_dn,
        user_filter=endpoint.user_filter,
        login_attribute=endpoint.login_attribute,
        email_attribute=endpoint.email_attribute,
        group_base_dn=endpoint.group_base_dn,
        attributes=ATTRIBUTES,
        default_policy_dn="cn=default,ou=policies,dc=example,dc=test" if endpoint.kind == "openldap" else "",
    )


@dataclass
class Subject:
    """A directory under test and a way to create accounts in it."""

    kind: str
    directory: Directory
    server: DirectoryServer | None
    local: LocalDirectory | None = None
    created: list[str] = field(default_factory=list)

    async def account(self, login: str, *, groups: Sequence[str] = (), password: str = PASSWORD) -> str:
        mail = f"{login}@example-ess.test"
        if self.server is not None:
            await asyncio.to_thread(
                self.server.add_user, login, password, given_name="Test", surname=login, mail=mail, groups=groups
            )
        else:
            assert self.local is not None
            await self.local.provision(login, password=password, email=mail, display_name=login, groups=groups)
        return login


_counter = iter(range(1, 10_000))


def unique(prefix: str = "ct") -> str:
    return f"{prefix}{next(_counter)}"


@pytest.fixture(params=["local", "openldap", "activedirectory"])
async def subject(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Subject]:
    if request.param == "local":
        url = f"sqlite+aiosqlite:///{tmp_path / 'ess.db'}"
        await asyncio.to_thread(migrate, url)  # Alembic runs its own event loop
        engine = create_engine(url)
        local = LocalDirectory(
            create_session_factory(engine),
            FixedClock(datetime.now(UTC)),
            hashing=HashingCost(memory_kib=1024, time_cost=1, parallelism=1),
            lockout_threshold=LOCKOUT_AFTER,
        )
        yield Subject("local", local, None, local=local)
        await engine.dispose()
        return
    server: DirectoryServer = request.getfixturevalue("slapd" if request.param == "openldap" else "samba")
    directory = ldap_directory(server.endpoint)
    yield Subject(request.param, directory, server)
    directory.close()


ldap_only = pytest.mark.parametrize("subject", ["openldap", "activedirectory"], indirect=True)


async def test_authenticate_tells_right_from_wrong(subject: Subject) -> None:
    login = await subject.account(unique())
    directory = subject.directory
    assert await directory.authenticate(login, PASSWORD) is AuthOutcome.OK
    assert await directory.authenticate(login, PASSWORD + "x") is AuthOutcome.INVALID_CREDENTIALS
    assert await directory.authenticate(login, "") is AuthOutcome.INVALID_CREDENTIALS
    assert await directory.authenticate(unique("ghost"), PASSWORD) is AuthOutcome.INVALID_CREDENTIALS


async def test_a_unicode_password_can_be_set_changed_and_used(subject: Subject) -> None:
    login = await subject.account(unique())
    directory = subject.directory
    await directory.reset_password(login, UNICODE_PASSWORD)
    assert await directory.authenticate(login, UNICODE_PASSWORD) is AuthOutcome.OK
    assert (await directory.account_status(login)).must_change is False
    await directory.change_password(login, UNICODE_PASSWORD, "Neue Grüße aus Wien ☕ 2026")
    assert await directory.authenticate(login, "Neue Grüße aus Wien ☕ 2026") is AuthOutcome.OK
    assert await directory.authenticate(login, UNICODE_PASSWORD) is AuthOutcome.INVALID_CREDENTIALS


async def test_changing_needs_the_current_password(subject: Subject) -> None:
    login = await subject.account(unique())
    with pytest.raises(AuthenticationFailed):
        await subject.directory.change_password(login, "not the password", "Something new 2026")
    with pytest.raises(AuthenticationFailed):
        await subject.directory.change_password(unique("ghost"), PASSWORD, "Something new 2026")
    assert await subject.directory.authenticate(login, PASSWORD) is AuthOutcome.OK


async def test_failed_logins_lock_and_unlock_releases(subject: Subject) -> None:
    login = await subject.account(unique())
    directory = subject.directory
    for _ in range(LOCKOUT_AFTER):
        await directory.authenticate(login, "wrong password")
    assert await directory.authenticate(login, PASSWORD) is AuthOutcome.LOCKED
    assert (await directory.account_status(login)).locked
    await directory.unlock(login)
    assert not (await directory.account_status(login)).locked
    assert await directory.authenticate(login, PASSWORD) is AuthOutcome.OK


async def test_find_account_by_login_or_email_and_nothing_for_injections(subject: Subject) -> None:
    login = await subject.account(unique("finder"))
    by_login = await subject.directory.find_account(login)
    by_mail = await subject.directory.find_account(f"{login}@example-ess.test")
    assert by_login is not None
    assert by_login.login == login
    assert by_mail == by_login
    for needle in INJECTIONS:
        assert await subject.directory.find_account(needle) is None, needle
        assert await subject.directory.authenticate(needle, PASSWORD) is AuthOutcome.INVALID_CREDENTIALS


async def test_account_status_of_a_fresh_account(subject: Subject) -> None:
    login = await subject.account(unique())
    status = await subject.directory.account_status(login)
    assert (status.locked, status.disabled, status.password_expired, status.must_change) == (False, False, False, False)
    with pytest.raises(NotFound):
        await subject.directory.account_status(unique("ghost"))


async def test_groups_are_reported_by_name(subject: Subject) -> None:
    login = await subject.account(unique(), groups=["ess-hr"])
    assert "ess-hr" in await subject.directory.groups(login)
    assert await subject.directory.groups(unique("ghost")) == frozenset()


async def test_mapped_attributes_are_written_and_read(subject: Subject) -> None:
    login = await subject.account(unique())
    directory = subject.directory
    await directory.write_attributes(login, {"work_phone": "+49 89 123456", "mobile_phone": "+49 170 1234567"})
    values = await directory.read_attributes(login, ["work_phone", "mobile_phone"])
    assert values == {"work_phone": "+49 89 123456", "mobile_phone": "+49 170 1234567"}
    await directory.write_attributes(login, {"mobile_phone": ""})
    assert await directory.read_attributes(login, ["mobile_phone"]) == {"mobile_phone": ""}
    with pytest.raises(NotFound):
        await directory.read_attributes(unique("ghost"), ["work_phone"])


async def test_no_secret_reaches_the_logs(subject: Subject, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    login = await subject.account(unique())
    canary = "Kanarienvogel-Passwort-4711"
    await subject.directory.authenticate(login, canary)
    with pytest.raises(AuthenticationFailed):
        await subject.directory.change_password(login, canary, canary + "!")
    await subject.directory.reset_password(login, canary)
    assert await subject.directory.authenticate(login, canary) is AuthOutcome.OK
    assert canary not in caplog.text
    assert PASSWORD not in caplog.text


@ldap_only
async def test_the_directorys_own_policy_is_explained(subject: Subject) -> None:
    login = await subject.account(unique())
    with pytest.raises(DirectoryPasswordRejected) as too_short:
        await subject.directory.reset_password(login, "kurz")
    expected_short = DirectoryRejection.TOO_SHORT if subject.kind == "openldap" else DirectoryRejection.POLICY
    assert too_short.value.reason is expected_short
    await subject.directory.reset_password(login, "Erstes neues Passwort 1")
    await subject.directory.reset_password(login, "Zweites neues Passwort 2")
    if subject.kind == "openldap":
        # ppolicy applies the history to resets too. (AD does with the policy-hints control, which ESS sends;
        # Samba 4.17 ignores it, so on Samba only the user's own change below is checked.)
        with pytest.raises(DirectoryPasswordRejected) as reused:
            await subject.directory.reset_password(login, "Erstes neues Passwort 1")
        assert reused.value.reason is DirectoryRejection.IN_HISTORY
    with pytest.raises(DirectoryPasswordRejected) as changed_back:
        await subject.directory.change_password(login, "Zweites neues Passwort 2", "Erstes neues Passwort 1")
    assert changed_back.value.reason in (DirectoryRejection.IN_HISTORY, DirectoryRejection.POLICY)


@ldap_only
async def test_failover_to_the_next_uri(subject: Subject) -> None:
    assert subject.server is not None
    endpoint = subject.server.endpoint
    dead = "ldaps://127.0.0.1:9" if endpoint.uris[0].startswith("ldaps") else "ldap://127.0.0.1:9"
    directory = ldap_directory(endpoint, uris=[dead, *endpoint.uris])
    try:
        login = await subject.account(unique())
        assert await directory.authenticate(login, PASSWORD) is AuthOutcome.OK
    finally:
        directory.close()


@ldap_only
async def test_a_certificate_from_an_unknown_ca_is_refused(subject: Subject, tmp_path: Path) -> None:
    from tests.harness.tls import make_certificates  # noqa: PLC0415

    assert subject.server is not None
    other_ca = make_certificates(tmp_path / "other").ca_file
    directory = ldap_directory(subject.server.endpoint, ca_file=str(other_ca))
    try:
        with pytest.raises(ServiceUnavailable):
            await directory.ping()
    finally:
        directory.close()


@ldap_only
async def test_an_outage_is_reported_and_the_adapter_recovers_after_a_restart(subject: Subject) -> None:
    assert subject.server is not None
    login = await subject.account(unique())
    directory = subject.directory
    await directory.ping()  # a pooled service connection now exists
    await asyncio.to_thread(subject.server.stop)
    try:
        with pytest.raises(ServiceUnavailable):
            await directory.ping()
        with pytest.raises(ServiceUnavailable):
            await directory.authenticate(login, PASSWORD)
    finally:
        await asyncio.to_thread(subject.server.start)
    await directory.ping()
    assert await directory.authenticate(login, PASSWORD) is AuthOutcome.OK


@ldap_only
async def test_an_expired_or_must_change_password_can_still_be_changed(subject: Subject) -> None:
    login = await subject.account(unique())
    directory = subject.directory
    assert subject.server is not None
    await asyncio.to_thread(subject.server.force_must_change, login)
    assert await directory.authenticate(login, PASSWORD) is AuthOutcome.MUST_CHANGE
    assert (await directory.account_status(login)).must_change
    await directory.change_password(login, PASSWORD, "Selbst gewählt 2026")
    assert await directory.authenticate(login, "Selbst gewählt 2026") is AuthOutcome.OK
    assert not (await directory.account_status(login)).must_change


def test_filetime_and_generalized_time() -> None:
    from ess.adapters.ldap.directory import filetime, generalized_time  # noqa: PLC0415

    assert filetime("0") is None
    assert filetime("9223372036854775807") is None
    assert filetime("133000000000000000") == datetime(2022, 6, 18, 4, 26, 40, tzinfo=UTC)
    assert generalized_time("20261122101500Z") == datetime(2026, 11, 22, 10, 15, tzinfo=UTC)
    assert generalized_time("20261122101500.123456Z") == datetime(2026, 11, 22, 10, 15, tzinfo=UTC)
    assert generalized_time("000001010000Z") is None
