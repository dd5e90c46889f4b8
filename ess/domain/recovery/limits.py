"""Counting recovery attempts: anonymous requests are counted before any directory, database or mail work, keyed by
what was typed, so known and unknown accounts are throttled alike; a success takes its place back."""

from __future__ import annotations

import hashlib

from ess.domain.audit import Outcome
from ess.domain.errors import Throttled
from ess.domain.recovery.ports import RecoveryDeps
from ess.domain.recovery.records import ANONYMOUS, audit


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


async def is_over(deps: RecoveryDeps, key: str, limit: int, window_seconds: int) -> bool:
    return await deps.attempts.hit(key, window_seconds) > limit


async def count_failure(deps: RecoveryDeps, client: str, login: str = "", *, password: bool = False) -> None:
    """Counted before the work, for every attempt; a success takes its place back. Password checks have their
    own, lower limit per account: it must stay below the directory's lockout threshold."""
    policy = deps.policy
    window = int(policy.failure_window.total_seconds())
    over = await is_over(deps, "recovery-fail-client:" + client, policy.failures_per_client, window)
    if login:
        key, limit = (
            ("recovery-pw-account:", policy.failures_per_account)
            if password
            else ("recovery-fail-account:", policy.code_failures_per_account)
        )
        over = await is_over(deps, key + digest(login), limit, window) or over
    if over:
        await audit(deps, login or ANONYMOUS, "recovery.throttled", Outcome.DENIED, login, client)
        raise Throttled("Too many attempts. Please wait a few minutes.", retry_after_seconds=window)


async def refund(deps: RecoveryDeps, client: str, login: str = "", *, password: bool = False) -> None:
    await deps.attempts.release("recovery-fail-client:" + client)
    if login:
        prefix = "recovery-pw-account:" if password else "recovery-fail-account:"
        await deps.attempts.release(prefix + digest(login))
