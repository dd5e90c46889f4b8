"""Logging in, sessions and API tokens, with fakes for the directory, the database and the store."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from datetime import date, timedelta

import pytest

from ess.domain.audit import Outcome
from ess.domain.auth.login import LogIn, PasswordChangeRequired, log_in, remember_device
from ess.domain.auth.model import AuthPolicy, Principal, SessionRecord, hash_token
from ess.domain.auth.ports import AuthDeps
from ess.domain.auth.sessions import open_session, resume_session, revoke_access
from ess.domain.auth.throttle import is_known_device
from ess.domain.auth.tokens import issue_api_token, principal_for_token, revoke_api_token
from ess.domain.directory.model import AuthOutcome
from ess.domain.errors import AuthenticationFailed, ServiceUnavailable, Throttled
from ess.domain.hr.model import Role
from tests.factories import employee
from tests.fakes import FakeAttemptCounter, FakeDirectory, FakeSessions, FakeUnitOfWork, FixedClock

PASSWORD = "correct horse battery staple"


class World:
    def __init__(self) -> None:
        self.clock = FixedClock()
        self.directory = FakeDirectory()
        self.uow = FakeUnitOfWork()
        self.attempts = FakeAttemptCounter(self.clock)
        self.sessions = FakeSessions(self.clock)
        self.policy = AuthPolicy(
            failures_per_account=5,
            known_device_failures=2,
            failures_per_client=10,
            device_key=b"k" * 32,
            group_roles={"ess-admins": Role.ADMIN},
        )

    async def hire(self, **changes: object) -> None:
        async with self.uow as uow:
            await uow.employees.save_all([employee(**changes)])
            await uow.commit()

    @property
    def deps(self) -> AuthDeps:
        return AuthDeps(
            new_uow=lambda: self.uow,
            directory=self.directory,
            sessions=self.sessions,
            attempts=self.attempts,
            clock=self.clock,
            policy=self.policy,
        )

    async def resume(self, session_id: str) -> Principal | None:
        return await resume_session(session_id, deps=self.deps)

    async def holder(self, token: str) -> Principal | None:
        return await principal_for_token(token, deps=self.deps)

    async def log_in(self, login: str, password: str, client: str = "10.0.0.1", device: str = "") -> Principal:
        return await log_in(LogIn(login=login, password=password, client=client, device=device), deps=self.deps)


@pytest.fixture
async def world() -> World:
    w = World()
    await w.hire(
        personnel_number="P1", login="anna", first_name="Anna", last_name="Schmidt", manager_personnel_number="P2"
    )
    await w.hire(
        personnel_number="P2", login="markus", first_name="Markus", last_name="Weber", roles=frozenset({Role.HR})
    )
    w.directory.add("anna", PASSWORD)
    w.directory.add("markus", PASSWORD)
    w.directory.add("root", PASSWORD, groups=frozenset({"ess-admins"}))
    w.directory.add("nobody-in-hr", PASSWORD)
    return w


async def test_a_correct_password_yields_the_principal_with_derived_roles(world: World) -> None:
    anna = await world.log_in("  Anna ", PASSWORD)
    assert anna.login == "anna"
    assert anna.display_name == "Anna Schmidt"
    assert anna.roles == frozenset({Role.EMPLOYEE})
    markus = await world.log_in("markus", PASSWORD)
    assert markus.roles == frozenset({Role.EMPLOYEE, Role.MANAGER, Role.HR})
    root = await world.log_in("root", PASSWORD)
    assert root.roles == frozenset({Role.ADMIN})
    assert root.employee_id is None
    events = world.uow.committed.audit
    assert [(e.action, e.outcome, e.actor) for e in events][-1] == ("auth.login", Outcome.SUCCESS, "root")


async def test_wrong_password_unknown_login_and_no_access_fail_identically(world: World) -> None:
    failures = []
    for login, password in [("anna", "wrong"), ("ghost", PASSWORD), ("nobody-in-hr", PASSWORD)]:
        with pytest.raises(AuthenticationFailed) as caught:
            await world.log_in(login, password)
        failures.append((type(caught.value), caught.value.message, caught.value.code))
    assert len(set(failures)) == 1
    reasons = [e.details.get("reason") for e in world.uow.committed.audit]
    assert reasons == ["invalid_credentials", "invalid_credentials", "no_access"]


async def test_an_empty_password_never_reaches_the_directory(world: World) -> None:
    with pytest.raises(AuthenticationFailed):
        await world.log_in("anna", "")
    # An LDAP bind with an empty password is an anonymous bind that "succeeds": it must never be attempted.
    assert world.directory.authenticate_calls == []


async def test_throttling_counts_per_typed_login_the_same_for_unknown_accounts(world: World) -> None:
    # Of the 5 failures the directory may see per 15 minutes, strangers share 3: 2 at once, the third after half the
    # window; the owner's known devices keep 2.
    for login in ("anna", "ghost"):
        for _ in range(2):
            with pytest.raises(AuthenticationFailed):
                await world.log_in(login, "wrong")
        failures_before = world.directory.accounts["anna"].failed_attempts
        with pytest.raises(Throttled) as caught:
            await world.log_in(login, "wrong")
        assert caught.value.retry_after_seconds == 450
        # Throttled before any directory work: the directory's own lockout counter did not move.
        assert world.directory.accounts["anna"].failed_attempts == failures_before
    with pytest.raises(Throttled):
        await world.log_in("anna", PASSWORD)  # a stranger's browser waits, even with the right password
    world.clock.advance(timedelta(minutes=7, seconds=30))
    assert (await world.log_in("anna", PASSWORD)).login == "anna"


async def test_strangers_never_lock_the_owner_out_of_a_known_device(world: World) -> None:
    device = remember_device(await world.log_in("anna", PASSWORD), deps=world.deps)
    assert device is not None
    for minute in range(60):
        for client in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
            with pytest.raises((AuthenticationFailed, Throttled)):
                await world.log_in("anna", "guess", client=client)
        # The owner mistypes once and then gets in, every few minutes of the attack.
        if minute % 5 == 0:
            with pytest.raises(AuthenticationFailed):
                await world.log_in("anna", "typo", client="198.51.100.7", device=device)
            assert (await world.log_in("anna", PASSWORD, client="198.51.100.7", device=device)).login == "anna"
        world.clock.advance(timedelta(minutes=1))
    # A device value is bound to its login, and forged or foreign ones count as strangers.
    for value in (device + "x", device.replace(".", ".1", 1), "", "a.b.c"):
        assert not is_known_device(value, "anna", policy=world.policy, now=world.clock.now())
    assert not is_known_device(device, "markus", policy=world.policy, now=world.clock.now())
    world.clock.advance(timedelta(days=91))
    assert not is_known_device(device, "anna", policy=world.policy, now=world.clock.now())


async def test_the_directory_never_sees_more_failures_per_window_than_configured(world: World) -> None:
    device = remember_device(await world.log_in("anna", PASSWORD), deps=world.deps)
    assert device is not None
    window_start = world.clock.now()
    failures_at_start = world.directory.accounts["anna"].failed_attempts
    per_window = []
    for second in range(0, 3 * 900, 20):
        for client in (f"203.0.113.{second % 250}", "203.0.113.250"):
            with contextlib.suppress(AuthenticationFailed, Throttled):
                await world.log_in("anna", "guess", client=client)
        with contextlib.suppress(AuthenticationFailed, Throttled):
            await world.log_in("anna", "typo", client="198.51.100.7", device=device)
        world.clock.advance(timedelta(seconds=20))
        if world.clock.now() - window_start >= timedelta(minutes=15):
            failures = world.directory.accounts["anna"].failed_attempts
            per_window.append(failures - failures_at_start)
            window_start, failures_at_start = world.clock.now(), failures
    assert per_window == [5, 5, 5]


async def test_one_hammering_client_is_blocked_and_stops_taking_the_strangers_tries(world: World) -> None:
    for _ in range(10):
        with contextlib.suppress(AuthenticationFailed, Throttled):
            await world.log_in("anna", "guess", client="203.0.113.9")
    world.clock.advance(timedelta(minutes=7, seconds=30))
    failures = world.directory.accounts["anna"].failed_attempts
    with pytest.raises(Throttled):
        await world.log_in("anna", "guess", client="203.0.113.9")
    assert world.directory.accounts["anna"].failed_attempts == failures
    # The third strangers' try of the window is still there for the owner on a new device.
    assert (await world.log_in("anna", PASSWORD, client="198.51.100.7")).login == "anna"


async def test_throttling_per_client_address(world: World) -> None:
    for i in range(10):
        with pytest.raises(AuthenticationFailed):
            await world.log_in(f"user{i}", "wrong", client="192.0.2.9")
    with pytest.raises(Throttled):
        await world.log_in("anna", PASSWORD, client="192.0.2.9")
    assert (await world.log_in("anna", PASSWORD, client="192.0.2.10")).login == "anna"


async def test_a_success_clears_the_account_counter(world: World) -> None:
    device = remember_device(await world.log_in("anna", PASSWORD), deps=world.deps)
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            await world.log_in("anna", "wrong", device=device or "")
    await world.log_in("anna", PASSWORD, device=device or "")
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            await world.log_in("anna", "wrong", device=device or "")
    assert (await world.log_in("anna", PASSWORD, device=device or "")).login == "anna"


async def test_an_expired_password_is_only_revealed_after_the_right_password(world: World) -> None:
    world.directory.accounts["anna"].outcome_override = AuthOutcome.PASSWORD_EXPIRED
    with pytest.raises(AuthenticationFailed):
        await world.log_in("anna", "wrong")
    with pytest.raises(PasswordChangeRequired):
        await world.log_in("anna", PASSWORD)


async def test_a_directory_outage_is_reported_and_audited(world: World) -> None:
    world.directory.available = False
    with pytest.raises(ServiceUnavailable):
        await world.log_in("anna", PASSWORD)
    assert world.uow.committed.audit[-1].details["reason"] == "directory_unavailable"


async def test_people_who_left_lose_the_employee_role(world: World) -> None:
    await world.hire(personnel_number="P3", login="gone", exit_date=date(2026, 10, 31))
    world.directory.add("gone", PASSWORD)
    with pytest.raises(AuthenticationFailed):
        await world.log_in("gone", PASSWORD)


async def test_sessions_end_after_idle_and_absolute_timeouts(world: World) -> None:
    anna = await world.log_in("anna", PASSWORD)
    sid = await open_session(anna, deps=world.deps)
    other = await open_session(anna, deps=world.deps)
    assert sid != other  # every login gets a fresh id

    async def resume(session_id: str) -> object:
        return await world.resume(session_id)

    # Active use keeps it alive up to the absolute limit of 10 hours.
    for _ in range(9 * 4):
        world.clock.advance(timedelta(minutes=15))
        assert await resume(sid) == anna
    world.clock.advance(timedelta(minutes=60))
    assert await resume(sid) is None
    assert sid not in world.sessions.records
    # Idle for 30 minutes ends it too.
    fresh = await open_session(anna, deps=world.deps)
    world.clock.advance(timedelta(minutes=29))
    assert await resume(fresh) == anna
    world.clock.advance(timedelta(minutes=30))
    assert await resume(fresh) is None


async def test_api_tokens_are_stored_hashed_expire_and_can_be_revoked(world: World) -> None:
    anna = await world.log_in("anna", PASSWORD)
    token, expires_at = await issue_api_token(anna, deps=world.deps, client="x")
    assert len(token) > 40
    assert token not in world.uow.committed.tokens
    assert hash_token(token) in world.uow.committed.tokens
    assert expires_at == world.clock.now() + timedelta(hours=12)

    holder = world.holder

    assert await holder(token) == anna
    assert await holder(token + "x") is None
    await revoke_api_token(token, anna, deps=world.deps, client="x")
    assert await holder(token) is None
    second, _ = await issue_api_token(anna, deps=world.deps, client="x")
    world.clock.advance(timedelta(hours=12))
    assert await holder(second) is None
    assert not any(token in str(e.details) for e in world.uow.committed.audit)


async def test_parallel_attempts_cannot_slip_past_the_limit(world: World) -> None:
    results = await asyncio.gather(*(world.log_in("anna", "wrong") for _ in range(20)), return_exceptions=True)
    assert sum(isinstance(r, AuthenticationFailed) and not isinstance(r, Throttled) for r in results) == 2
    assert sum(isinstance(r, Throttled) for r in results) == 18
    assert world.directory.accounts["anna"].failed_attempts == 2


async def test_successful_logins_from_one_office_address_do_not_add_up(world: World) -> None:
    for _ in range(25):
        assert (await world.log_in("anna", PASSWORD, client="198.51.100.1")).login == "anna"


async def test_revoking_access_ends_sessions_and_tokens_but_not_later_ones(world: World) -> None:
    anna = await world.log_in("anna", PASSWORD)
    sid = await open_session(anna, deps=world.deps)
    token, _ = await issue_api_token(anna, deps=world.deps, client="x")
    world.clock.advance(timedelta(seconds=1))
    async with world.uow as uow:
        await revoke_access("anna", uow, sessions=world.sessions, now=world.clock.now())
        await uow.commit()
    assert await world.resume(sid) is None
    assert await world.holder(token) is None
    fresh = await open_session(anna, deps=world.deps)
    assert await world.resume(fresh) == anna
    assert world.uow.committed.audit[-1].details == {"revoked": 1}


async def test_sessions_follow_role_changes_and_end_for_disabled_accounts(world: World) -> None:
    anna = await world.log_in("anna", PASSWORD)
    sid = await open_session(anna, deps=world.deps)
    token, _ = await issue_api_token(anna, deps=world.deps, client="x")
    await world.hire(
        personnel_number="P1", login="anna", first_name="Anna", last_name="Schmidt", roles=frozenset({Role.HR})
    )
    world.clock.advance(timedelta(seconds=30))
    assert await world.resume(sid) == anna  # within the refresh interval the stored roles are used
    world.clock.advance(timedelta(seconds=31))
    refreshed = await world.resume(sid)
    assert refreshed is not None
    assert refreshed.roles == frozenset({Role.EMPLOYEE, Role.HR})
    world.directory.accounts["anna"].disabled = True
    assert await world.holder(token) is None
    world.clock.advance(timedelta(seconds=61))
    assert await world.resume(sid) is None


async def test_a_directory_outage_keeps_tokens_working_with_hr_roles_only(world: World) -> None:
    await world.hire(personnel_number="P3", login="root", work_email="root@example.test")
    root = await world.log_in("root", PASSWORD)
    assert Role.ADMIN in root.roles
    token, _ = await issue_api_token(root, deps=world.deps, client="x")

    world.directory.available = False
    during = await world.holder(token)
    assert during is not None  # nobody is logged out by an outage ...
    assert Role.ADMIN not in during.roles and Role.EMPLOYEE in during.roles  # ... nor keeps group roles meanwhile

    world.directory.available = True
    after = await world.holder(token)
    assert after is not None and Role.ADMIN in after.roles


async def test_a_tokens_principal_is_kept_for_the_cache_lifetime_then_checked_again(world: World) -> None:
    anna = await world.log_in("anna", PASSWORD)
    token, _ = await issue_api_token(anna, deps=world.deps, client="x")
    assert await world.holder(token) == anna
    world.directory.accounts["anna"].disabled = True  # in the directory, which ESS is not told about
    world.clock.advance(timedelta(seconds=59))
    assert await world.holder(token) == anna  # still the kept answer
    world.clock.advance(timedelta(seconds=2))
    assert await world.holder(token) is None  # asked again after principal_cache (60 s)


async def test_without_a_cache_lifetime_every_request_checks_the_account(world: World) -> None:
    world.policy = replace(world.policy, principal_cache=timedelta(0))
    anna = await world.log_in("anna", PASSWORD)
    token, _ = await issue_api_token(anna, deps=world.deps, client="x")
    assert await world.holder(token) == anna
    world.directory.accounts["anna"].disabled = True
    assert await world.holder(token) is None


async def test_revoking_ends_a_kept_token_at_once_and_a_late_check_cannot_keep_it(world: World) -> None:
    anna = await world.log_in("anna", PASSWORD)
    token, _ = await issue_api_token(anna, deps=world.deps, client="x")
    other, _ = await issue_api_token(anna, deps=world.deps, client="x")
    assert await world.holder(token) == anna
    assert await world.holder(other) == anna
    await revoke_api_token(token, anna, deps=world.deps, client="x")
    assert await world.holder(token) is None
    # A request that found the token valid just before the revocation tries to keep it afterwards: nothing is kept.
    late = SessionRecord(principal=anna, created_at=world.clock.now(), last_seen_at=world.clock.now())
    await world.sessions.remember_token(hash_token(token), late, 60)
    assert await world.holder(token) is None
    assert await world.holder(other) == anna  # the account's other token is not affected


async def test_a_password_change_ends_every_kept_token_of_the_account_at_once(world: World) -> None:
    anna = await world.log_in("anna", PASSWORD)
    token, _ = await issue_api_token(anna, deps=world.deps, client="x")
    assert await world.holder(token) == anna
    world.clock.advance(timedelta(seconds=1))
    async with world.uow as uow:
        await revoke_access("anna", uow, sessions=world.sessions, now=world.clock.now())
        await uow.commit()
    assert await world.holder(token) is None
