"""Timeouts and a circuit breaker around any directory adapter: while the directory hangs or is down, calls that need
it fail fast with ServiceUnavailable (and a Retry-After) instead of every request waiting for socket timeouts."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, TypeVar

from ess.domain.directory.model import AccountStatus, AuthOutcome, DirectoryAccount
from ess.domain.directory.ports import Directory
from ess.domain.errors import ServiceUnavailable

logger = logging.getLogger("ess.directory")
T = TypeVar("T")

# (operation, seconds, outcome) for the metrics: outcome "ok" (the directory answered, also "no such account"),
# "error" (it refused or could not be reached), "timeout", "circuit_open" (not asked: the breaker is open).
DirectoryObserver = Callable[[str, float, str], None]
_NOT_ASKED: Final = 0.0


class BreakerState(StrEnum):
    CLOSED = "closed"  # calls go through
    OPEN = "open"  # calls fail at once until `open_seconds` have passed
    HALF_OPEN = "half_open"  # one trial call goes through; its outcome closes or opens the breaker again


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    # A call that has not finished by then fails (the blocking call may go on in its thread until its socket times out).
    call_timeout_seconds: float = 1.0
    # Consecutive failures (timeouts, unreachable) that open the breaker.
    failure_threshold: int = 3
    # How long an open breaker refuses calls before it lets one trial through; also the Retry-After given.
    open_seconds: float = 10.0


class CircuitBreaker:
    """Counts consecutive failures; thread-safe (one per process, shared by all requests)."""

    def __init__(self, policy: BreakerPolicy, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state()

    def _state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self._policy.open_seconds:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def retry_after(self) -> int:
        """Whole seconds until the breaker lets a trial through (at least 1); after a failure while closed, the time
        it would stay open (a failure usually means an outage)."""
        with self._lock:
            if self._opened_at is None:
                return max(1, round(self._policy.open_seconds))
            left = self._policy.open_seconds - (self._clock() - self._opened_at)
            return max(1, round(left + 0.5))

    def admit(self) -> bool:
        """Whether a call may go to the directory now; in the half-open state only one trial at a time."""
        with self._lock:
            state = self._state()
            if state is BreakerState.CLOSED:
                return True
            if state is BreakerState.HALF_OPEN and not self._trial_running:
                self._trial_running = True
                return True
            return False

    def succeeded(self) -> None:
        with self._lock:
            if self._opened_at is not None:
                logger.info("The directory answers again: circuit closed")
            self._failures = 0
            self._opened_at = None
            self._trial_running = False

    def failed(self) -> None:
        with self._lock:
            self._failures += 1
            trial, self._trial_running = self._trial_running, False
            if trial or (self._opened_at is None and self._failures >= self._policy.failure_threshold):
                if self._opened_at is None:
                    logger.warning(
                        "The directory failed %s times in a row: circuit open for %ss",
                        self._failures,
                        self._policy.open_seconds,
                    )
                self._opened_at = self._clock()

    def abandoned(self) -> None:
        """A call ended without an outcome (the caller went away): let the next trial through."""
        with self._lock:
            self._trial_running = False


class GuardedDirectory:
    """Implements the Directory port around another directory: each call bounded by the policy's timeout, and a
    circuit breaker that stops asking a directory that does not answer. Answers (no such account, wrong password,
    policy rejections) count as the directory working."""

    def __init__(
        self,
        inner: Directory,
        policy: BreakerPolicy,
        *,
        observer: DirectoryObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.breaker = CircuitBreaker(policy, clock=clock)
        self._policy = policy
        self.observer = observer

    def _observe(self, operation: str, seconds: float, outcome: str) -> None:
        if self.observer is not None:
            self.observer(operation, seconds, outcome)

    async def _call(self, operation: str, call: Callable[[], Awaitable[T]]) -> T:
        if not self.breaker.admit():
            self._observe(operation, _NOT_ASKED, "circuit_open")
            raise ServiceUnavailable(
                "The directory is not available right now.", retry_after_seconds=self.breaker.retry_after()
            )
        started = time.perf_counter()
        outcome = "abandoned"
        try:
            result = await asyncio.wait_for(call(), timeout=self._policy.call_timeout_seconds)
        except TimeoutError:
            outcome = "timeout"
            self.breaker.failed()
            raise ServiceUnavailable(
                "The directory did not answer in time.", retry_after_seconds=self.breaker.retry_after()
            ) from None
        except ServiceUnavailable as exc:
            outcome = "error"
            self.breaker.failed()
            exc.retry_after_seconds = exc.retry_after_seconds or self.breaker.retry_after()
            raise
        except Exception:
            outcome = "ok"  # an answer: no such account, wrong password, a policy rejection
            self.breaker.succeeded()
            raise
        else:
            outcome = "ok"
            self.breaker.succeeded()
            return result
        finally:
            if outcome == "abandoned":
                self.breaker.abandoned()
            self._observe(operation, time.perf_counter() - started, outcome)

    async def authenticate(self, login: str, password: str) -> AuthOutcome:
        return await self._call("authenticate", lambda: self.inner.authenticate(login, password))

    async def find_account(self, login_or_email: str) -> DirectoryAccount | None:
        return await self._call("find_account", lambda: self.inner.find_account(login_or_email))

    async def account_status(self, login: str) -> AccountStatus:
        return await self._call("account_status", lambda: self.inner.account_status(login))

    async def change_password(self, login: str, current: str, new: str) -> None:
        await self._call("change_password", lambda: self.inner.change_password(login, current, new))

    async def reset_password(self, login: str, new: str) -> None:
        await self._call("reset_password", lambda: self.inner.reset_password(login, new))

    async def unlock(self, login: str) -> None:
        await self._call("unlock", lambda: self.inner.unlock(login))

    async def groups(self, login: str) -> frozenset[str]:
        return await self._call("groups", lambda: self.inner.groups(login))

    async def read_attributes(self, login: str, fields: Sequence[str]) -> dict[str, str]:
        return await self._call("read_attributes", lambda: self.inner.read_attributes(login, fields))

    async def write_attributes(self, login: str, values: Mapping[str, str]) -> None:
        await self._call("write_attributes", lambda: self.inner.write_attributes(login, values))

    async def ping(self) -> None:
        await self._call("ping", self.inner.ping)
