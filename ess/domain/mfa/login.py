"""Use cases of the second step of a login: what an account needs after its right password, a code (authenticator
app or recovery code) or a passkey, remembered devices, and the second factor of API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ess.domain.audit import Outcome
from ess.domain.auth.model import Principal
from ess.domain.mfa import tickets
from ess.domain.mfa.model import (
    EnrolmentRequired,
    Factor,
    FactorKind,
    LoginStepExpired,
    SecondFactorRequired,
    SecondFactorWrong,
    hash_code,
    looks_like_totp,
)
from ess.domain.mfa.ports import MfaDeps
from ess.domain.mfa.records import audit, confirmed_factors, count_failure, refund


class Need(StrEnum):
    NOTHING = "nothing"
    VERIFY = "verify"
    ENROL = "enrol"


@dataclass(frozen=True, slots=True)
class LoginStep:
    """What follows the right password: nothing, a factor, or enrolment first; `ticket` carries the password step."""

    need: Need
    ticket: str = ""
    kinds: frozenset[FactorKind] = frozenset()


async def after_password(principal: Principal, *, remembered: str, client: str, deps: MfaDeps) -> LoginStep:
    """Decide the second step. A remembered device counts only for a login with factors, and only if it was
    remembered after the oldest factor it has now was set up (a reset by the helpdesk forgets every device)."""
    login = principal.login
    factors = await confirmed_factors(login, deps=deps)
    if not factors and not deps.policy.required_for(principal.roles):
        return LoginStep(Need.NOTHING)
    now = deps.clock.now()
    if factors and remembered:
        ticket = tickets.read(
            tickets.REMEMBERED, remembered, key=deps.policy.key, now=now, lifetime=deps.policy.remember_lifetime
        )
        oldest = min(f.created_at for f in factors)
        # Remembered after the oldest factor it has now (a reset and a new factor forget every device).
        set_up = oldest.replace(microsecond=oldest.microsecond // 1000 * 1000)
        if ticket is not None and ticket.login == login and ticket.issued_at >= set_up:
            await audit(deps, login, "mfa.verified", Outcome.SUCCESS, login, client, method="remembered_device")
            return LoginStep(Need.NOTHING)
    ticket_value = tickets.issue(tickets.PASSWORD_STEP, login, key=deps.policy.key, now=now)
    if not factors:
        return LoginStep(Need.ENROL, ticket_value)
    return LoginStep(Need.VERIFY, ticket_value, frozenset(f.kind for f in factors))


def pending_login(ticket: str, *, deps: MfaDeps) -> str:
    """The login whose password was right in this browser a moment ago; LoginStepExpired otherwise."""
    found = tickets.read(
        tickets.PASSWORD_STEP, ticket, key=deps.policy.key, now=deps.clock.now(), lifetime=deps.policy.step_lifetime
    )
    if found is None:
        raise LoginStepExpired("The login has expired. Please enter your password again.")
    return found.login


async def verify_code(ticket: str, code: str, *, client: str, deps: MfaDeps) -> str:
    """The second step with a code from the authenticator app or a recovery code; returns the login."""
    login = pending_login(ticket, deps=deps)
    await _check_code(login, code, client=client, deps=deps, channel="web")
    return login


async def require_for_token(principal: Principal, code: str, *, client: str, deps: MfaDeps) -> None:
    """An API token for an account with a second factor, or whose role needs one, needs a code too."""
    login = principal.login
    factors = await confirmed_factors(login, deps=deps)
    if not factors:
        if deps.policy.required_for(principal.roles):
            await audit(
                deps, login, "mfa.verified", Outcome.DENIED, login, client, channel="api", reason="not_enrolled"
            )
            raise EnrolmentRequired("Set up a second factor in the browser first (Security / second factor).")
        return
    if not code:
        await audit(deps, login, "mfa.verified", Outcome.DENIED, login, client, channel="api", reason="missing")
        raise SecondFactorRequired("This account also needs a code from its authenticator app (field totp).")
    await _check_code(login, code, client=client, deps=deps, channel="api")


async def _check_code(login: str, code: str, *, client: str, deps: MfaDeps, channel: str) -> None:
    await count_failure(login, client, deps=deps)
    method = await _matching_method(login, code.strip(), deps=deps)
    if method is None:
        await audit(deps, login, "mfa.verified", Outcome.FAILURE, login, client, channel=channel, reason="wrong_code")
        raise SecondFactorWrong("The code is not correct.", fields={"code": "The code is not correct."})
    await refund(login, client, deps=deps)
    await audit(deps, login, "mfa.verified", Outcome.SUCCESS, login, client, channel=channel, method=method)


async def _matching_method(login: str, code: str, *, deps: MfaDeps) -> str | None:
    """ "totp" or "recovery_code" when the code is right and unused, None otherwise. A TOTP time step counts once."""
    now = deps.clock.now()
    if not code or len(code) > 64:
        return None
    async with deps.new_uow() as uow:
        if looks_like_totp(code):
            for factor in await uow.factors.factors(login):
                step = _totp_step(factor, code.replace(" ", ""), deps=deps)
                if factor.id is not None and step is not None and await uow.factors.advance_step(factor.id, step, now):
                    await uow.commit()
                    return "totp"
            return None
        if await uow.factors.use_recovery_code(login, hash_code(deps.code_key, code), now):
            await uow.commit()
            return "recovery_code"
    return None


def _totp_step(factor: Factor, code: str, *, deps: MfaDeps) -> int | None:
    if factor.kind is not FactorKind.TOTP or not factor.confirmed:
        return None
    step = deps.authenticator.matching_step(deps.box.open(factor.secret), code, deps.clock.now())
    return step if step is not None and step > factor.last_step else None


def remember_device(login: str, *, deps: MfaDeps) -> str | None:
    """A "remember this device" value for the browser that just passed the second factor (None: not offered)."""
    if deps.policy.remember_lifetime.total_seconds() <= 0:
        return None
    return tickets.issue(tickets.REMEMBERED, login, key=deps.policy.key, now=deps.clock.now())


async def passkey_challenge(ticket: str, *, deps: MfaDeps) -> tuple[str, str]:
    """WebAuthn request options for the pending login's passkeys, and the signed challenge the browser keeps."""
    login = pending_login(ticket, deps=deps)
    allow = [f.credential_id for f in await confirmed_factors(login, deps=deps) if f.kind is FactorKind.PASSKEY]
    if not allow:
        raise SecondFactorWrong("This account has no passkey.")
    challenge = tickets.new_challenge()
    now = deps.clock.now()
    options = deps.passkeys.authentication_options(challenge=challenge, allow=allow)
    return options, tickets.challenge_ticket(login, challenge, key=deps.policy.key, now=now)


async def verify_passkey(ticket: str, challenge: str, response: str, *, client: str, deps: MfaDeps) -> str:
    """The second step with a passkey: the assertion must answer this browser's challenge, once; returns the login."""
    login = pending_login(ticket, deps=deps)
    await count_failure(login, client, deps=deps)
    factor, new_count = await _verified_passkey(login, challenge, response, deps=deps)
    if factor is None or factor.id is None:
        await audit(deps, login, "mfa.verified", Outcome.FAILURE, login, client, channel="web", reason="passkey")
        raise SecondFactorWrong("The passkey could not be verified.")
    async with deps.new_uow() as uow:
        await uow.factors.record_passkey_use(factor.id, new_count, deps.clock.now())
        await uow.commit()
    await refund(login, client, deps=deps)
    await audit(deps, login, "mfa.verified", Outcome.SUCCESS, login, client, channel="web", method="passkey")
    return login


async def _verified_passkey(login: str, challenge: str, response: str, *, deps: MfaDeps) -> tuple[Factor | None, int]:
    policy = deps.policy
    found = tickets.read(
        tickets.CHALLENGE, challenge, key=policy.key, now=deps.clock.now(), lifetime=policy.step_lifetime
    )
    if found is None or found.login != login:
        return None, 0
    # A challenge answers once: a replayed assertion finds its challenge spent.
    window = int(policy.step_lifetime.total_seconds()) + 1
    if await deps.attempts.hit("mfa-challenge:" + found.nonce, window) != 1:
        return None, 0
    try:
        credential = deps.passkeys.credential_of(response)
        factors = await confirmed_factors(login, deps=deps)
        factor = next((f for f in factors if f.kind is FactorKind.PASSKEY and f.credential_id == credential), None)
        if factor is None:
            return None, 0
        count = deps.passkeys.verify_authentication(
            response, challenge=tickets.challenge_of(found), public_key=factor.secret, sign_count=factor.sign_count
        )
    except SecondFactorWrong:
        return None, 0
    return factor, count
