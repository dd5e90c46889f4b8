"""The password policy and changing one's own password, with a fake directory."""

from __future__ import annotations

import pytest

from ess.domain.audit import Outcome
from ess.domain.auth.model import Principal
from ess.domain.errors import AuthenticationFailed
from ess.domain.hr.model import Role
from ess.domain.passwords.model import PasswordPolicy, PasswordProblem
from ess.domain.passwords.service import ChangePassword, PasswordRejected, change_password
from tests.factories import employee
from tests.fakes import FakeDirectory, FakeSessions, FakeUnitOfWork, FixedClock

POLICY = PasswordPolicy()
CURRENT = "the current passphrase"


@pytest.mark.parametrize(
    ("password", "problems"),
    [
        ("elevenchars", [PasswordProblem.TOO_SHORT]),
        ("twelve chars", []),
        ("x" * 1024, []),
        ("x" * 1025, [PasswordProblem.TOO_LONG]),
        ("Grüße aus Zürich 🔑 2026", []),
        ("an apple a day keeps erika away", [PasswordProblem.CONTAINS_CONTEXT]),
        ("my name is MUSTERMANN really", [PasswordProblem.CONTAINS_CONTEXT]),
        ("ERIKA.MUSTERMANN2026", [PasswordProblem.CONTAINS_CONTEXT]),
        ("lower case words only in a row of sixty four characters total ok", []),
    ],
)
def test_the_policy_names_every_problem(password: str, problems: list[PasswordProblem]) -> None:
    context = ["erika.mustermann", "Erika", "Mustermann", "erika.mustermann@example-ess.test", "li"]
    assert POLICY.problems(password, context=context) == problems


def test_length_counts_characters_not_bytes() -> None:
    assert POLICY.problems("ääääääääääää") == []  # 12 characters, 24 bytes
    assert POLICY.problems("🔑" * 11) == [PasswordProblem.TOO_SHORT]


class World:
    def __init__(self) -> None:
        self.directory = FakeDirectory()
        self.directory.add("erika.mustermann", CURRENT)
        self.uow = FakeUnitOfWork()
        self.sessions = FakeSessions()
        self.clock = FixedClock()
        self.principal = Principal("erika.mustermann", "Erika Mustermann", frozenset({Role.EMPLOYEE}))

    async def change(self, current: str, new: str, repeat: str | None = None) -> None:
        await change_password(
            ChangePassword(self.principal, current, new, new if repeat is None else repeat, "10.0.0.1"),
            directory=self.directory,
            uow=self.uow,
            sessions=self.sessions,
            clock=self.clock,
            policy=POLICY,
        )


@pytest.fixture
async def world() -> World:
    w = World()
    async with w.uow as uow:
        await uow.employees.save_all([employee(private_email="erika.private@example.org")])
        await uow.commit()
    return w


async def test_a_good_new_password_is_stored_in_the_directory_and_audited(world: World) -> None:
    await world.change(CURRENT, "a brand new passphrase")
    assert world.directory.accounts["erika.mustermann"].password == "a brand new passphrase"
    assert [(e.action, e.outcome) for e in world.uow.committed.audit[-2:]] == [
        ("auth.access_revoked", Outcome.SUCCESS),
        ("password.change", Outcome.SUCCESS),
    ]
    assert world.sessions.revocations["erika.mustermann"] == world.clock.now()


async def test_policy_problems_are_all_reported_before_the_directory_is_asked(world: World) -> None:
    with pytest.raises(PasswordRejected) as caught:
        await world.change("wrong current", "erika", "erika!")
    assert caught.value.problems == [
        PasswordProblem.TOO_SHORT,
        PasswordProblem.CONTAINS_CONTEXT,
        PasswordProblem.MISMATCH,
    ]
    assert world.directory.accounts["erika.mustermann"].password == CURRENT
    assert world.uow.committed.audit[-1].details == {"reason": "policy"}


async def test_the_private_email_counts_as_context(world: World) -> None:
    with pytest.raises(PasswordRejected):
        await world.change(CURRENT, "erika.private is my secret")


async def test_the_same_password_again_is_refused(world: World) -> None:
    with pytest.raises(PasswordRejected) as caught:
        await world.change(CURRENT, CURRENT)
    assert caught.value.problems == [PasswordProblem.SAME_AS_CURRENT]


async def test_a_wrong_current_password_changes_nothing(world: World) -> None:
    with pytest.raises(AuthenticationFailed):
        await world.change("not the current one", "a brand new passphrase")
    assert world.directory.accounts["erika.mustermann"].password == CURRENT
    assert world.sessions.revocations == {}
    event = world.uow.committed.audit[-1]
    assert (event.outcome, event.details) == (Outcome.FAILURE, {"reason": "wrong_current_password"})
    assert "a brand new passphrase" not in repr(world.uow.committed.audit)
