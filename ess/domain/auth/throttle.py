"""Login throttling that never locks the owner out: limits per login and client, a per-login slow-down, known devices.

OWASP's authentication and credential-stuffing guidance, and the directory's own lockout, pull in two directions:
a hard per-account block lets any stranger lock the owner out, no block at all lets the directory lock the account.
So the wrong passwords the directory may see per login and counting window (`failures_per_account`, kept below the
directory's lockout threshold) are split:

- everybody without a valid known-device cookie for that login ("strangers") may use all but `known_device_failures`
  of them: half of that share at once, the others **spread over the window** (a slow-down), so a guessing stranger
  gets a few tries per window and the owner on a new device waits minutes, not the whole window;
- browsers holding a valid known-device cookie for that login (the owner's) may use all of them, so at least
  `known_device_failures` are always left for the owner whatever strangers do;
- each client address is also limited per login (`failures_per_login_and_client`, refused tries included, so one
  hammering client is blocked and stops taking the slots) and over all logins (`failures_per_client`, known devices
  excepted, so an office behind one address is not shut out by a stranger's credential stuffing).

Every try that reaches the directory is counted on one counter per login and clock-aligned window, so the directory
never sees more than `failures_per_account` wrong passwords of a login per window.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime

from ess.domain.auth.model import AuthPolicy
from ess.domain.auth.ports import AttemptCounter
from ess.domain.errors import N_, Throttled

THROTTLED_MESSAGE = N_("Too many failed logins. Please wait a few minutes.")


def _login_hash(login: str) -> str:
    return hashlib.sha256(login.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Admission:
    """The counters an admitted attempt was counted on; settled after the directory has answered."""

    pair_key: str
    client_key: str | None
    budget_key: str


async def admit(
    login: str, client: str, *, known_device: bool, policy: AuthPolicy, attempts: AttemptCounter, now: datetime
) -> Admission:
    """Count an attempt before the directory sees it; Throttled when a limit is reached. Keyed by what was typed,
    existing or not, so unknown accounts behave the same."""
    window = int(policy.window.total_seconds())
    login_hash = _login_hash(login)
    pair_key = f"login-pair:{login_hash}:{client}"
    client_key = None if known_device else "login-client:" + client
    # Count first, then compare: parallel attempts cannot slip through between check and count.
    by_pair = await attempts.hit(pair_key, window)
    by_client = await attempts.hit(client_key, window) if client_key else 0
    if by_pair > policy.failures_per_login_and_client or by_client > policy.failures_per_client:
        raise Throttled(THROTTLED_MESSAGE, retry_after_seconds=window)

    # One count per login and clock-aligned window of every try that reaches the directory.
    index, elapsed = divmod(int(now.timestamp()), window)
    budget_key = f"login-account:{login_hash}:{index}"
    used = await attempts.hit(budget_key, window)
    share = policy.failures_per_account - policy.known_device_failures
    burst, spread = (share + 1) // 2, share - (share + 1) // 2
    # Known devices may use the whole budget; strangers stop at their share, so the rest stays for the owner.
    allowed = policy.failures_per_account if known_device else burst + min(spread, elapsed * (spread + 1) // window)
    if used > allowed:
        # Refused before the directory: it does not use up the budget.
        await attempts.release(budget_key)
        retry = window - elapsed if known_device else _retry_after(used, burst, spread, elapsed, window)
        raise Throttled(THROTTLED_MESSAGE, retry_after_seconds=retry)
    return Admission(pair_key=pair_key, client_key=client_key, budget_key=budget_key)


def _retry_after(used: int, burst: int, spread: int, elapsed: int, window: int) -> int:
    """Seconds until the used-th try of the strangers' share is let through (the next window once it is spent)."""
    if used > burst + spread:
        return window - elapsed
    return max(1, math.ceil((used - burst) * window / (spread + 1)) - elapsed)


async def settle(admission: Admission, *, right_password: bool, attempts: AttemptCounter) -> None:
    """After the directory answered: a right password refunds the attempt and clears the login's counts (the
    directory clears its failure count on a successful bind too); a wrong one stays counted."""
    if not right_password:
        return
    await attempts.clear(admission.pair_key)
    await attempts.clear(admission.budget_key)
    if admission.client_key:
        await attempts.release(admission.client_key)


async def refund(admission: Admission, *, attempts: AttemptCounter) -> None:
    """The directory could not be asked: the attempt does not count anywhere."""
    for key in (admission.pair_key, admission.budget_key, admission.client_key):
        if key:
            await attempts.release(key)


def new_device_cookie(login: str, *, key: bytes, now: datetime) -> str:
    """A known-device value for this browser and login: random id, issue time, and a MAC binding both to the login."""
    device_id = secrets.token_urlsafe(16)
    issued = str(int(now.timestamp()))
    return f"{device_id}.{issued}.{_device_mac(key, login, device_id, issued)}"


def is_known_device(value: str, login: str, *, policy: AuthPolicy, now: datetime) -> bool:
    """Whether a known-device value was issued by us, for this login, within the configured lifetime."""
    if not policy.device_key or not value:
        return False
    device_id, _, rest = value.partition(".")
    issued, _, mac = rest.partition(".")
    if not device_id or not issued.isdigit() or len(issued) > 12:
        return False
    age = now.timestamp() - int(issued)
    if not 0 <= age <= policy.known_device_lifetime.total_seconds():
        return False
    return hmac.compare_digest(mac, _device_mac(policy.device_key, login, device_id, issued))


def _device_mac(key: bytes, login: str, device_id: str, issued: str) -> str:
    message = "\0".join(("ess known device v1", login, device_id, issued)).encode("utf-8")
    return base64.urlsafe_b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode("ascii").rstrip("=")
