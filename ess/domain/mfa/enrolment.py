"""Use cases: set up an authenticator app or a passkey as the login's second factor, issue recovery codes, remove a
factor. Right after the password step (a role that needs a factor) or later from the security page."""

from __future__ import annotations

from dataclasses import dataclass

from ess.domain.audit import Outcome
from ess.domain.auth.model import Principal
from ess.domain.errors import NotFound
from ess.domain.mfa import tickets
from ess.domain.mfa.model import (
    Factor,
    FactorKind,
    LastFactorNeeded,
    NoFactorYet,
    SecondFactorWrong,
    clean_label,
    hash_code,
    new_recovery_codes,
)
from ess.domain.mfa.ports import MfaDeps
from ess.domain.mfa.records import audit, confirmed_factors, count_failure, event, refund, tell_owner
from ess.domain.recovery.enrolment import confirm_password


@dataclass(frozen=True, slots=True)
class TotpSetup:
    secret: str
    uri: str


@dataclass(frozen=True, slots=True)
class FactorsView:
    factors: list[Factor]
    recovery_codes_left: int
    required: bool


async def factors_view(principal: Principal, *, deps: MfaDeps) -> FactorsView:
    async with deps.new_uow() as uow:
        factors = [f for f in await uow.factors.factors(principal.login) if f.confirmed]
        left = await uow.factors.recovery_codes_left(principal.login)
    return FactorsView(factors, left, deps.policy.required_for(principal.roles))


async def start_totp(login: str, *, deps: MfaDeps) -> TotpSetup:
    """A secret waiting for its first code (the same one until it is confirmed, so reloading the page keeps the QR
    code the app may have scanned already)."""
    async with deps.new_uow() as uow:
        pending = [f for f in await uow.factors.factors(login) if f.kind is FactorKind.TOTP and not f.confirmed]
        if pending:
            secret = deps.box.open(pending[-1].secret)
        else:
            secret = deps.authenticator.new_secret()
            await uow.factors.add(
                Factor(login, FactorKind.TOTP, "", deps.box.seal(secret), deps.clock.now(), confirmed=False)
            )
            await uow.commit()
    uri = deps.authenticator.provisioning_uri(secret, account=login, issuer=deps.policy.issuer)
    return TotpSetup(secret=secret, uri=uri)


async def confirm_totp(login: str, code: str, label: str, *, client: str, deps: MfaDeps) -> list[str]:
    """The first code proves the app holds the secret. Returns new recovery codes when this is the first factor
    (shown once), else an empty list."""
    await count_failure(login, client, deps=deps)
    now = deps.clock.now()
    async with deps.new_uow() as uow:
        pending = [f for f in await uow.factors.factors(login) if f.kind is FactorKind.TOTP and not f.confirmed]
    factor = pending[-1] if pending else None
    step = None
    if factor is not None and factor.id is not None:
        step = deps.authenticator.matching_step(deps.box.open(factor.secret), code.replace(" ", ""), now)
    if factor is None or factor.id is None or step is None:
        await audit(deps, login, "mfa.enrolled", Outcome.FAILURE, login, client, kind="totp", reason="wrong_code")
        raise SecondFactorWrong("The code is not correct.", fields={"code": "The code is not correct."})
    await refund(login, client, deps=deps)
    return await _enrolled(login, factor.id, step, clean_label(label, "Authenticator app"), client=client, deps=deps)


async def _enrolled(login: str, factor_id: int, step: int, label: str, *, client: str, deps: MfaDeps) -> list[str]:
    now = deps.clock.now()
    codes: list[str] = []
    async with deps.new_uow() as uow:
        first = not [f for f in await uow.factors.factors(login) if f.confirmed]
        await uow.factors.confirm(factor_id, step, now)
        await uow.factors.rename(factor_id, label)
        if first:
            codes = new_recovery_codes()
            await uow.factors.replace_recovery_codes(login, [hash_code(deps.code_key, c) for c in codes], now)
        await uow.audit.add(event(deps, login, "mfa.enrolled", Outcome.SUCCESS, login, client, factor=factor_id))
        await uow.commit()
    await tell_owner(deps, login, "enrolled")
    return codes


async def start_passkey(login: str, display_name: str, *, deps: MfaDeps) -> tuple[str, str]:
    """WebAuthn creation options (its existing passkeys excluded) and the signed challenge the browser keeps."""
    existing = [f.credential_id for f in await confirmed_factors(login, deps=deps) if f.kind is FactorKind.PASSKEY]
    challenge = tickets.new_challenge()
    options = deps.passkeys.registration_options(
        login=login,
        display_name=display_name,
        user_handle=tickets.user_handle(login, key=deps.policy.key),
        challenge=challenge,
        exclude=existing,
    )
    return options, tickets.challenge_ticket(login, challenge, key=deps.policy.key, now=deps.clock.now())


async def finish_passkey(
    login: str, challenge: str, response: str, label: str, *, client: str, deps: MfaDeps
) -> list[str]:
    """Store the new passkey when the browser's answer is genuine; recovery codes as with `confirm_totp`."""
    await count_failure(login, client, deps=deps)
    policy, now = deps.policy, deps.clock.now()
    found = tickets.read(tickets.CHALLENGE, challenge, key=policy.key, now=now, lifetime=policy.step_lifetime)
    try:
        if found is None or found.login != login:
            raise SecondFactorWrong("The passkey could not be set up. Please try again.")
        registration = deps.passkeys.verify_registration(response, challenge=tickets.challenge_of(found))
    except SecondFactorWrong:
        await audit(deps, login, "mfa.enrolled", Outcome.FAILURE, login, client, kind="passkey", reason="invalid")
        raise
    await refund(login, client, deps=deps)
    factor = Factor(
        login,
        FactorKind.PASSKEY,
        "",
        registration.public_key,
        now,
        confirmed=False,
        credential_id=registration.credential_id,
        sign_count=registration.sign_count,
    )
    async with deps.new_uow() as uow:
        factor_id = await uow.factors.add(factor)
        await uow.commit()
    return await _enrolled(login, factor_id, 0, clean_label(label, "Passkey"), client=client, deps=deps)


async def renew_recovery_codes(principal: Principal, password: str, *, client: str, deps: MfaDeps) -> list[str]:
    """A fresh set of recovery codes (the password first); every earlier code stops working."""
    login = principal.login
    await confirm_password(deps.recovery, principal, password, client, "mfa.recovery_codes")
    if not await confirmed_factors(login, deps=deps):
        raise NoFactorYet("Set up an authenticator app or a passkey first.")
    codes = new_recovery_codes()
    now = deps.clock.now()
    async with deps.new_uow() as uow:
        await uow.factors.replace_recovery_codes(login, [hash_code(deps.code_key, c) for c in codes], now)
        await uow.audit.add(event(deps, login, "mfa.recovery_codes", Outcome.SUCCESS, login, client))
        await uow.commit()
    await tell_owner(deps, login, "codes")
    return codes


async def remove_factor(principal: Principal, factor_id: int, password: str, *, client: str, deps: MfaDeps) -> None:
    """Remove one factor (the password first). The last one stays while the account's role needs a factor."""
    login = principal.login
    await confirm_password(deps.recovery, principal, password, client, "mfa.removed")
    factors = await confirmed_factors(login, deps=deps)
    if not any(f.id == factor_id for f in factors):
        raise NotFound("No such second factor.")
    if len(factors) == 1 and deps.policy.required_for(principal.roles):
        raise LastFactorNeeded("Your role needs a second factor: set up another one before you remove this one.")
    async with deps.new_uow() as uow:
        await uow.factors.remove(login, factor_id)
        if len(factors) == 1:
            await uow.factors.replace_recovery_codes(login, [], deps.clock.now())
        await uow.audit.add(event(deps, login, "mfa.removed", Outcome.SUCCESS, login, client, factor=factor_id))
        await uow.commit()
    await tell_owner(deps, login, "removed")
