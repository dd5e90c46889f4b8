"""Single sign-on rules with fakes: who a provider or KDC vouches for still needs a directory account that is not
disabled and business in ESS; roles from a groups claim map like directory groups; roles barred from the password
form once SSO is on; every outcome audited with its method."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ess.domain.audit import Outcome
from ess.domain.auth.login import LogIn, log_in
from ess.domain.auth.model import FederatedIdentity, PasswordLoginRefused, SsoReason, SsoRefused
from ess.domain.auth.sso import sign_in_federated, sign_in_with_ticket
from ess.domain.hr.model import Role
from tests.unit.test_auth_service import PASSWORD, World


class Tickets:
    """Stands for the keytab: answers with an identity or a refusal given to it."""

    def __init__(self, answer: FederatedIdentity | SsoRefused) -> None:
        self.answer = answer

    async def accept(self, token: bytes) -> FederatedIdentity:
        if isinstance(self.answer, SsoRefused):
            raise self.answer
        return self.answer


@pytest.fixture
async def world() -> World:
    w = World()
    await w.hire(personnel_number="P1", login="anna", first_name="Anna", last_name="Schmidt")
    await w.hire(
        personnel_number="P2", login="markus", first_name="Markus", last_name="Weber", roles=frozenset({Role.HR})
    )
    w.directory.add("anna", PASSWORD)
    w.directory.add("markus", PASSWORD)
    return w


def refusal_reasons(world: World) -> list[tuple[str, Outcome, object]]:
    return [
        (e.actor, e.outcome, e.details.get("reason")) for e in world.uow.committed.audit if e.action == "auth.login"
    ]


async def test_the_vouched_account_signs_in_with_its_roles_and_groups_claim(world: World) -> None:
    identity = FederatedIdentity(method="oidc", login="Anna", groups=("ess-admins", "unrelated"))
    anna = await sign_in_federated(identity, client="10.0.0.1", channel="web", deps=world.deps)
    assert (anna.login, anna.roles) == ("anna", frozenset({Role.EMPLOYEE, Role.ADMIN}))
    (event,) = [e for e in world.uow.committed.audit if e.action == "auth.login"]
    assert event.details == {"channel": "web", "method": "oidc"}


async def test_unknown_and_disabled_accounts_are_refused_and_audited(world: World) -> None:
    with pytest.raises(SsoRefused) as unknown:
        await sign_in_federated(FederatedIdentity("kerberos", "mallory"), client="c", channel="web", deps=world.deps)
    assert unknown.value.reason is SsoReason.UNKNOWN_ACCOUNT
    world.directory.accounts["anna"].disabled = True
    with pytest.raises(SsoRefused) as disabled:
        await sign_in_with_ticket(
            b"t", client="c", deps=replace(world.deps, kerberos=Tickets(FederatedIdentity("kerberos", "anna")))
        )
    assert disabled.value.reason is SsoReason.DISABLED
    assert refusal_reasons(world) == [
        ("mallory", Outcome.FAILURE, "unknown_account"),
        ("anna", Outcome.DENIED, "disabled"),
    ]


async def test_a_refused_ticket_is_audited_with_its_reason(world: World) -> None:
    deps = replace(world.deps, kerberos=Tickets(SsoRefused("expired", reason=SsoReason.EXPIRED)))
    with pytest.raises(SsoRefused):
        await sign_in_with_ticket(b"t", client="c", deps=deps)
    assert refusal_reasons(world) == [("(unknown)", Outcome.FAILURE, "expired")]


async def test_roles_barred_from_the_password_form_only_once_sso_is_on(world: World) -> None:
    world.policy = replace(world.policy, sso_only_roles=frozenset({Role.HR}))
    assert Role.HR in (await world.log_in("markus", PASSWORD)).roles  # no SSO configured: nothing changes
    deps = replace(world.deps, kerberos=Tickets(FederatedIdentity("kerberos", "markus")))
    with pytest.raises(PasswordLoginRefused):
        await log_in(LogIn(login="markus", password=PASSWORD, client="c"), deps=deps)
    assert (await log_in(LogIn(login="anna", password=PASSWORD, client="c"), deps=deps)).login == "anna"
