"""The directory guard: calls bounded by a timeout, a circuit breaker that stops asking a directory that does not
answer (and lets one trial through later), answers that count as the directory working, and what it reports."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ess.adapters.directory_guard import BreakerPolicy, BreakerState, GuardedDirectory
from ess.bootstrap import breaker_policy, mail_retry_policy
from ess.domain.directory.model import AuthOutcome
from ess.domain.errors import NotFound, ServiceUnavailable
from ess.settings import SettingsError, load_settings
from tests.fakes import FakeDirectory

POLICY = BreakerPolicy(call_timeout_seconds=0.05, failure_threshold=2, open_seconds=10)


class HangingDirectory(FakeDirectory):
    """A directory whose calls never return while `hanging` (like slapd after SIGSTOP)."""

    def __init__(self) -> None:
        super().__init__()
        self.hanging = False
        self.calls = 0

    async def authenticate(self, login: str, password: str) -> AuthOutcome:
        self.calls += 1
        if self.hanging:
            await asyncio.Event().wait()
        return await super().authenticate(login, password)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def world() -> tuple[HangingDirectory, GuardedDirectory, Clock, list[tuple[str, str]]]:
    inner = HangingDirectory()
    inner.add("anna", "pw")
    clock = Clock()
    seen: list[tuple[str, str]] = []
    guard = GuardedDirectory(inner, POLICY, clock=clock, observer=lambda op, _s, outcome: seen.append((op, outcome)))
    return inner, guard, clock, seen


async def test_a_hanging_directory_fails_in_time_then_is_not_asked_until_a_trial_succeeds(
    world: tuple[HangingDirectory, GuardedDirectory, Clock, list[tuple[str, str]]],
) -> None:
    inner, guard, clock, seen = world
    inner.hanging = True
    for _ in range(POLICY.failure_threshold):
        with pytest.raises(ServiceUnavailable) as timed_out:
            await guard.authenticate("anna", "pw")
        assert timed_out.value.retry_after_seconds == 10
    assert guard.breaker.state is BreakerState.OPEN
    clock.now += 4
    with pytest.raises(ServiceUnavailable) as refused:
        await guard.authenticate("anna", "pw")
    assert refused.value.retry_after_seconds == 6  # until the trial
    assert inner.calls == POLICY.failure_threshold  # the open breaker did not ask
    inner.hanging = False
    clock.now += 6
    assert guard.breaker.state is BreakerState.HALF_OPEN
    assert await guard.authenticate("anna", "pw") is AuthOutcome.OK
    assert guard.breaker.state is BreakerState.CLOSED
    assert seen == [
        ("authenticate", "timeout"),
        ("authenticate", "timeout"),
        ("authenticate", "circuit_open"),
        ("authenticate", "ok"),
    ]


async def test_a_failed_trial_opens_the_breaker_again(
    world: tuple[HangingDirectory, GuardedDirectory, Clock, list[tuple[str, str]]],
) -> None:
    inner, guard, clock, _ = world
    inner.available = False
    for _ in range(POLICY.failure_threshold):
        with pytest.raises(ServiceUnavailable):
            await guard.account_status("anna")
    clock.now += 10
    with pytest.raises(ServiceUnavailable):
        await guard.account_status("anna")  # the trial: still down
    assert guard.breaker.state is BreakerState.OPEN
    assert guard.breaker.retry_after() == 10


async def test_answers_count_as_a_working_directory(
    world: tuple[HangingDirectory, GuardedDirectory, Clock, list[tuple[str, str]]],
) -> None:
    _, guard, _, seen = world
    for _ in range(POLICY.failure_threshold + 1):
        with pytest.raises(NotFound):
            await guard.account_status("nobody")
        assert await guard.authenticate("anna", "wrong") is AuthOutcome.INVALID_CREDENTIALS
    assert guard.breaker.state is BreakerState.CLOSED
    assert {outcome for _, outcome in seen} == {"ok"}


async def test_one_failure_below_the_threshold_is_forgotten_after_an_answer(
    world: tuple[HangingDirectory, GuardedDirectory, Clock, list[tuple[str, str]]],
) -> None:
    inner, guard, _, _ = world
    for _ in range(3):
        inner.available = False
        with pytest.raises(ServiceUnavailable):
            await guard.groups("anna")
        inner.available = True
        assert await guard.groups("anna") == frozenset()
    assert guard.breaker.state is BreakerState.CLOSED


def test_the_production_example_configures_the_breaker_and_the_mail_queue_and_nonsense_is_refused() -> None:
    production = Path(__file__).resolve().parents[2] / "config" / "production.example.toml"
    secret = {
        "ESS_SECRET_KEY": "k3Jx9-very-random-and-long-enough-secret-value-42",
        "ESS_DATABASE_URL": "postgresql+asyncpg://ess:s3cret@db/ess",
    }
    settings = load_settings(production, environ=secret)
    assert breaker_policy(settings) == BreakerPolicy(call_timeout_seconds=15.0, failure_threshold=3, open_seconds=10)
    assert mail_retry_policy(settings).max_attempts == 12
    with pytest.raises(SettingsError, match=r"directory\.breaker"):
        load_settings(production, environ={**secret, "ESS_DIRECTORY__BREAKER__FAILURE_THRESHOLD": "0"})
    with pytest.raises(SettingsError, match=r"mail\.queue"):
        load_settings(production, environ={**secret, "ESS_MAIL__QUEUE__BACKOFF_MAX_SECONDS": "1"})
