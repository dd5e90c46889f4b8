"""The password policy and changing one's own password, with a fake directory."""

from __future__ import annotations

import unicodedata

import pytest

from ess.adapters.blocklist import ShippedBlocklist
from ess.bootstrap import breached_passwords, password_policy
from ess.domain.audit import Outcome
from ess.domain.auth.model import AuthPolicy, Principal
from ess.domain.directory.model import AuthOutcome, normalise_password
from ess.domain.errors import AuthenticationFailed, ServiceUnavailable, Throttled
from ess.domain.hr.model import Role
from ess.domain.passwords.change import ChangeExpiredPassword, ChangePassword, change_expired_password, change_password
from ess.domain.passwords.checks import PasswordRejected, check_new_password
from ess.domain.passwords.model import PasswordPolicy, PasswordProblem
from ess.domain.passwords.ports import PasswordDeps
from ess.settings import SettingsError
from tests.conftest import make_settings
from tests.factories import employee
from tests.fakes import FakeAttemptCounter, FakeDirectory, FakeNotifier, FakeSessions, FakeUnitOfWork, FixedClock

BLOCKLIST = ShippedBlocklist()
POLICY = PasswordPolicy(blocklist=BLOCKLIST, organisation_words=("Beispiel GmbH",))
CURRENT = "the current passphrase"
PASSPHRASE_64 = "lower case words only in a row of sixty four characters total ok"
LONG_1024 = ("Lange Passphrase mit Zahlen 7; " * 40)[:1024]


@pytest.mark.parametrize(
    ("password", "problems"),
    [
        ("elevenchars", [PasswordProblem.TOO_SHORT]),
        ("twelve chars", []),
        (LONG_1024, []),
        (LONG_1024 + "z", [PasswordProblem.TOO_LONG]),
        ("Grüße aus Zürich 🔑 2026", []),
        ("an apple a day keeps erika away", [PasswordProblem.CONTAINS_CONTEXT]),
        ("my name is MUSTERMANN really", [PasswordProblem.CONTAINS_CONTEXT]),
        ("ERIKA.MUSTERMANN2026", [PasswordProblem.CONTAINS_CONTEXT]),
        (PASSPHRASE_64, []),
        # The acceptance examples: a classic "complex" password, the own login, eleven characters.
        ("Password1!", [PasswordProblem.TOO_SHORT, PasswordProblem.BLOCKLISTED]),
        ("erika.mustermann", [PasswordProblem.CONTAINS_CONTEXT]),
        ("abcdefghijk", [PasswordProblem.TOO_SHORT, PasswordProblem.REPETITIVE]),
        # Common passwords and words of the shipped list, also with digits and symbols around them.
        ("Sommer2024!!", [PasswordProblem.BLOCKLISTED]),
        ("PASSWORT12345", [PasswordProblem.BLOCKLISTED]),
        ("1234567890123", [PasswordProblem.REPETITIVE]),
        ("Schmetterling", [PasswordProblem.BLOCKLISTED]),
        ("  Sonnenschein 2026!", [PasswordProblem.BLOCKLISTED]),
        ("aaaaaaaaaaaaaaaa", [PasswordProblem.REPETITIVE]),
        ("abababababab", [PasswordProblem.REPETITIVE]),
        ("qwertzuiopü", [PasswordProblem.TOO_SHORT, PasswordProblem.REPETITIVE]),
        # The company name is context for everybody.
        ("wir lieben die beispiel gmbh", [PasswordProblem.CONTAINS_CONTEXT]),
    ],
)
def test_the_policy_names_every_problem(password: str, problems: list[PasswordProblem]) -> None:
    context = ["erika.mustermann", "Erika", "Mustermann", "erika.mustermann@example-ess.test", "li"]
    assert POLICY.problems(password, context=context) == problems


def test_no_composition_rules_and_no_truncation() -> None:
    assert POLICY.problems("only lower case words here") == []
    assert POLICY.problems(LONG_1024[:128]) == []
    assert len(normalise_password(LONG_1024)) == 1024  # nothing is cut off


def test_length_counts_characters_not_bytes() -> None:
    assert POLICY.problems("äöüßéèàçñõ€¥") == []  # 12 characters, 26 bytes
    assert POLICY.problems("🔑🗝🔒🔓🛡🔐🧩🎲🎯🎹🎻") == [PasswordProblem.TOO_SHORT]  # 11 characters


def test_one_normalisation_rule_nfc() -> None:
    composed, decomposed = "Café au lait 2026", "Cafe\u0301 au lait 2026"
    assert composed != decomposed
    assert normalise_password(decomposed) == normalise_password(composed) == composed
    assert unicodedata.is_normalized("NFC", normalise_password(decomposed))
    # Nothing beyond NFC: no case folding, no space collapsing, compatibility characters stay.
    assert normalise_password("  Zwei  Leerzeichen ① ") == "  Zwei  Leerzeichen ① "


def test_the_shipped_blocklist_has_at_least_100000_entries_and_matches_case_insensitively() -> None:
    assert len(BLOCKLIST) >= 100_000
    assert "password" in BLOCKLIST
    assert "passwort" in BLOCKLIST
    assert POLICY.is_blocklisted("PaSsWoRt")
    assert POLICY.is_blocklisted("!!Hallo123!!")
    assert not POLICY.is_blocklisted("Grüße aus Zürich 🔑 2026")


class FakeBreaches:
    """The breach corpus as a set; `available = False` behaves like a service that does not answer."""

    def __init__(self, *passwords: str) -> None:
        self.passwords = set(passwords)
        self.available = True
        self.asked = 0

    async def times_seen(self, password: str) -> int:
        self.asked += 1
        if not self.available:
            raise ServiceUnavailable("no answer")
        return 42 if password in self.passwords else 0


async def test_a_breached_password_is_refused_and_an_outage_does_not_block() -> None:
    breaches = FakeBreaches("a breached but long passphrase")
    problems, check = await check_new_password("a breached but long passphrase", policy=POLICY, breached=breaches)
    assert (problems, check) == ([PasswordProblem.BREACHED], "ok")
    breaches.available = False
    problems, check = await check_new_password("a breached but long passphrase", policy=POLICY, breached=breaches)
    assert (problems, check) == ([], "unavailable")


async def test_the_breach_service_is_not_asked_for_passwords_the_offline_rules_refuse() -> None:
    breaches = FakeBreaches()
    problems, _ = await check_new_password("Password1!", policy=POLICY, breached=breaches)
    assert PasswordProblem.BLOCKLISTED in problems
    assert breaches.asked == 0


class World:
    def __init__(self) -> None:
        self.directory = FakeDirectory()
        self.directory.add("erika.mustermann", CURRENT)
        self.uow = FakeUnitOfWork()
        self.sessions = FakeSessions()
        self.clock = FixedClock()
        self.principal = Principal("erika.mustermann", "Erika Mustermann", frozenset({Role.EMPLOYEE}))

        self.attempts = FakeAttemptCounter(self.clock)
        self.auth_policy = AuthPolicy()

    @property
    def deps(self) -> PasswordDeps:
        return PasswordDeps(
            new_uow=lambda: self.uow,
            directory=self.directory,
            sessions=self.sessions,
            attempts=self.attempts,
            clock=self.clock,
            notifier=FakeNotifier(),
            auth_policy=self.auth_policy,
            policy=POLICY,
        )

    async def change(self, current: str, new: str, repeat: str | None = None) -> None:
        await change_password(
            ChangePassword(self.principal, current, new, new if repeat is None else repeat, "10.0.0.1"), deps=self.deps
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
        PasswordProblem.BLOCKLISTED,
        PasswordProblem.MISMATCH,
    ]
    assert world.directory.accounts["erika.mustermann"].password == CURRENT
    assert world.uow.committed.audit[-1].details == {
        "breach_check": "off",
        "problems": "too_short,contains_context,blocklisted,mismatch",
        "reason": "policy",
    }


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
    assert (event.outcome, event.details) == (
        Outcome.FAILURE,
        {"breach_check": "off", "reason": "wrong_current_password"},
    )
    assert "a brand new passphrase" not in repr(world.uow.committed.audit)


async def test_the_directory_gets_the_nfc_form_so_set_and_bind_agree(world: World) -> None:
    await world.change(CURRENT, "Cafe\u0301 au lait mit Zucker")
    assert world.directory.accounts["erika.mustermann"].password == "Café au lait mit Zucker"


# --- An expired or must-change password, from the login page -------------------------------------------------------


class ExpiredWorld(World):
    def __init__(self) -> None:
        super().__init__()
        self.auth_policy = AuthPolicy(failures_per_account=4, known_device_failures=0, failures_per_client=30)

    async def change_expired(self, login: str, current: str, new: str, repeat: str | None = None) -> None:
        await change_expired_password(
            ChangeExpiredPassword(login, current, new, new if repeat is None else repeat, "10.0.0.9"), deps=self.deps
        )


@pytest.fixture
async def expired() -> ExpiredWorld:
    w = ExpiredWorld()
    w.directory.accounts["erika.mustermann"].outcome_override = AuthOutcome.MUST_CHANGE
    async with w.uow as uow:
        await uow.employees.save_all([employee()])
        await uow.commit()
    return w


async def test_an_expired_password_is_changed_after_the_current_one_is_confirmed(expired: ExpiredWorld) -> None:
    await expired.change_expired("Erika.Mustermann ", CURRENT, "ein ganz neuer Satz")
    assert expired.directory.accounts["erika.mustermann"].password == "ein ganz neuer Satz"
    assert expired.sessions.revocations["erika.mustermann"] == expired.clock.now()
    event = expired.uow.committed.audit[-1]
    assert (event.action, event.outcome, event.details["state"]) == (
        "password.change_expired",
        Outcome.SUCCESS,
        "must_change",
    )


async def test_a_wrong_current_password_on_the_expired_step_is_a_counted_login_failure(expired: ExpiredWorld) -> None:
    for _ in range(2):  # the strangers' first half of 4 per window
        with pytest.raises(AuthenticationFailed):
            await expired.change_expired("erika.mustermann", "wrong", "ein ganz neuer Satz")
    calls = len(expired.directory.authenticate_calls)
    with pytest.raises(Throttled):
        await expired.change_expired("erika.mustermann", CURRENT, "ein ganz neuer Satz")
    assert len(expired.directory.authenticate_calls) == calls  # counted before any directory work
    assert expired.directory.accounts["erika.mustermann"].password == CURRENT


async def test_unknown_accounts_fail_like_wrong_passwords_on_the_expired_step(expired: ExpiredWorld) -> None:
    with pytest.raises(AuthenticationFailed) as unknown:
        await expired.change_expired("nobody", CURRENT, "ein ganz neuer Satz")
    with pytest.raises(AuthenticationFailed) as wrong:
        await expired.change_expired("erika.mustermann", "wrong", "ein ganz neuer Satz")
    assert (type(unknown.value), unknown.value.message) == (type(wrong.value), wrong.value.message)


async def test_the_policy_applies_on_the_expired_step_and_nothing_changes(expired: ExpiredWorld) -> None:
    with pytest.raises(PasswordRejected) as caught:
        await expired.change_expired("erika.mustermann", CURRENT, "Password1!", "Password1?")
    assert caught.value.problems == [
        PasswordProblem.TOO_SHORT,
        PasswordProblem.BLOCKLISTED,
        PasswordProblem.MISMATCH,
    ]
    assert expired.directory.accounts["erika.mustermann"].password == CURRENT


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"ESS_PASSWORDS__MIN_LENGTH": "7"}, "passwords.min_length must be at least 8"),
        ({"ESS_PASSWORDS__MAX_LENGTH": "63"}, "passwords.max_length must be at least 64"),
        ({"ESS_PASSWORDS__REMIND_OFFSETS_DAYS": "[14, 0]"}, "remind_offsets_days"),
    ],
)
def test_settings_refuse_a_weaker_policy_than_nist_allows(env: dict[str, str], complaint: str) -> None:
    with pytest.raises(SettingsError, match=complaint):
        make_settings("sqlite+aiosqlite:///unused.db", **env)


def test_the_policy_is_built_from_the_passwords_section() -> None:
    settings = make_settings(
        "sqlite+aiosqlite:///unused.db",
        ESS_PASSWORDS__MIN_LENGTH="15",
        ESS_PASSWORDS__BLOCKLIST="false",
        ESS_PASSWORDS__ORGANISATION_WORDS='["Zeiterfassung"]',
    )
    policy = password_policy(settings)
    assert (policy.min_length, policy.blocklist) == (15, None)
    assert policy.problems("meine zeiterfassung ist toll") == [PasswordProblem.CONTAINS_CONTEXT]
    assert policy.problems("die beispiel gmbh ist toll") == [PasswordProblem.CONTAINS_CONTEXT]
    assert breached_passwords(settings) is None
