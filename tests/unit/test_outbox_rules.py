"""The outbox's rules: what is written, what is a conflict, the backoff schedule, and the delivery with fakes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ess.bootstrap import retry_policy
from ess.domain.errors import Conflict, InvalidInput, NotFound
from ess.domain.outbox.delivery import deliver_due, run_worker
from ess.domain.outbox.model import DirectoryChange, OutboxStatus, RetryPolicy, changed_fields, decide, same_value
from ess.domain.outbox.ports import OutboxDeps
from ess.domain.outbox.queue import pending_fields, record_directory_change
from ess.domain.outbox.retry import retry
from ess.domain.types import EmployeeId
from ess.settings import SettingsError, load_settings
from tests.fakes import FakeDirectory, FakeUnitOfWork, FixedClock, _Data

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
ANNA = EmployeeId(7)


def change(values: dict[str, str], expected: dict[str, str], *, forced_by: str = "") -> DirectoryChange:
    return DirectoryChange(
        id=1,
        employee_id=ANNA,
        login="anna.schmidt",
        values=values,
        expected=expected,
        status=OutboxStatus.PENDING,
        created_at=NOW,
        forced_by=forced_by,
    )


@pytest.mark.parametrize(
    ("directory", "to_write", "already", "conflicts"),
    [
        ({"mobile_phone": "+491701"}, {"mobile_phone": "+491702"}, [], {}),  # holds the old value: write
        ({"mobile_phone": "+491702"}, {}, ["mobile_phone"], {}),  # holds the new value already
        ({"mobile_phone": "+49 170-2"}, {}, ["mobile_phone"], {}),  # the same number with separators
        ({"mobile_phone": "+491709"}, {}, [], {"mobile_phone": "+491709"}),  # somebody else's value: conflict
        ({}, {}, [], {}),  # the directory does not keep the field (unmapped): nothing to do
    ],
)
def test_decide_per_field(
    directory: dict[str, str], to_write: dict[str, str], already: list[str], conflicts: dict[str, str]
) -> None:
    decision = decide(change({"mobile_phone": "+491702"}, {"mobile_phone": "+491701"}), directory)
    assert (decision.to_write, decision.already_there, decision.conflicts) == (to_write, already, conflicts)


def test_one_conflicting_field_makes_the_entry_a_conflict_and_force_overwrites() -> None:
    entry = change({"city": "Köln", "street": "Ring 2"}, {"city": "München", "street": "Weg 1"})
    current = {"city": "Berlin", "street": "Weg 1"}
    decision = decide(entry, current)
    assert decision.is_conflict
    assert decision.conflicts == {"city": "Berlin"}
    forced = decide(change(entry.values, entry.expected, forced_by="cli:hr"), current)
    assert not forced.is_conflict
    assert forced.to_write == {"city": "Köln", "street": "Ring 2"}


def test_clearing_a_value_and_blanks() -> None:
    assert decide(change({"mobile_phone": ""}, {"mobile_phone": "+491701"}), {"mobile_phone": "+491701"}).to_write == {
        "mobile_phone": ""
    }
    assert same_value("display_name", " Anna  Schmidt ", "Anna Schmidt")
    assert not same_value("display_name", "anna schmidt", "Anna Schmidt")
    assert not same_value("city", "Koeln", "Köln")


def test_changed_fields_only() -> None:
    old = {"mobile_phone": "+491701", "city": "München"}
    assert changed_fields(old, {"mobile_phone": "+491701", "city": "Köln", "street": ""}) == {"city": "Köln"}
    assert changed_fields(old, {"street": "Weg 1"}) == {"street": "Weg 1"}
    assert changed_fields(old, dict(old)) == {}


def test_backoff_doubles_up_to_the_cap_and_max_attempts() -> None:
    policy = RetryPolicy(backoff_base_seconds=10, backoff_max_seconds=60, max_attempts=5)
    assert [policy.backoff(n).total_seconds() for n in range(1, 7)] == [10, 20, 40, 60, 60, 60]
    assert policy.backoff(10_000) == timedelta(seconds=60)
    assert [policy.gives_up_after(n) for n in (4, 5)] == [False, True]
    assert not RetryPolicy(max_attempts=0).gives_up_after(1_000_000)


class World:
    def __init__(self, **policy: float) -> None:
        self.data = _Data()
        self.clock = FixedClock(NOW)
        self.directory = FakeDirectory()
        self.directory.add("anna.schmidt", "pw")
        self.directory.attributes["anna.schmidt"] = {"mobile_phone": "+491701", "city": "München"}
        self.outbox = OutboxDeps(
            new_uow=self.uow,
            directory=self.directory,
            clock=self.clock,
            policy=RetryPolicy(**{"backoff_base_seconds": 10, "backoff_max_seconds": 40, **policy}),  # type: ignore[arg-type]
            wake=asyncio.Event(),
        )

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.data)

    async def queue(self, old: dict[str, str], new: dict[str, str], login: str = "anna.schmidt") -> int:
        async with self.uow() as uow:
            queued = await record_directory_change(
                uow, employee_id=ANNA, login=login, old=old, new=new, now=self.clock.now(), actor="anna.schmidt"
            )
            await uow.commit()
        assert queued is not None
        assert queued.id is not None
        return queued.id

    def entry(self, change_id: int) -> DirectoryChange:
        return self.data.outbox[change_id]

    def actions(self) -> list[str]:
        return [event.action for event in self.data.audit]


async def test_nothing_changed_queues_nothing_and_a_rollback_drops_the_entry() -> None:
    world = World()
    async with world.uow() as uow:
        same = {"mobile_phone": "+491701"}
        assert (
            await record_directory_change(
                uow, employee_id=ANNA, login="anna.schmidt", old=same, new=same, now=NOW, actor="anna.schmidt"
            )
            is None
        )
        await record_directory_change(
            uow, employee_id=ANNA, login="anna.schmidt", old=same, new={"mobile_phone": "+4917"}, now=NOW, actor="a"
        )
        # no commit: the HR change failed, so the directory change must not exist either
    assert world.data.outbox == {}
    assert world.data.audit == []


async def test_an_entry_lands_and_is_audited() -> None:
    world = World()
    change_id = await world.queue({"mobile_phone": "+491701", "city": "München"}, {"mobile_phone": "+491702"})
    assert world.entry(change_id).expected == {"mobile_phone": "+491701"}
    async with world.uow() as uow:
        assert await pending_fields(uow, ANNA) == {"mobile_phone"}
    report = await deliver_due(deps=world.outbox)
    assert report.applied == [change_id]
    assert world.directory.attributes["anna.schmidt"] == {"mobile_phone": "+491702", "city": "München"}
    assert world.entry(change_id).status is OutboxStatus.APPLIED
    assert world.entry(change_id).applied_at == NOW
    async with world.uow() as uow:
        assert await pending_fields(uow, ANNA) == set()
    assert world.actions() == ["directory_change_queued", "directory_change_applied"]
    assert (await deliver_due(deps=world.outbox)).handled == 0


async def test_a_conflict_writes_nothing_until_hr_forces_it() -> None:
    world = World()
    world.directory.attributes["anna.schmidt"]["mobile_phone"] = "+491709"  # changed by IT in the directory
    change_id = await world.queue({"mobile_phone": "+491701"}, {"mobile_phone": "+491702"})
    report = await deliver_due(deps=world.outbox)
    assert report.conflicts == [change_id]
    assert world.directory.writes == []
    assert world.entry(change_id).status is OutboxStatus.CONFLICT
    assert world.entry(change_id).conflicts == {"mobile_phone": "+491709"}
    assert world.data.audit[-1].action == "directory_change_conflict"
    # A plain retry decides again and finds the same conflict
    assert await retry(change_id, deps=world.outbox, actor="cli:hr") == 1
    assert (await deliver_due(deps=world.outbox)).conflicts == [change_id]
    assert world.directory.writes == []
    with pytest.raises(InvalidInput):
        await retry(None, deps=world.outbox, force=True, actor="cli:hr")
    await retry(change_id, deps=world.outbox, force=True, actor="cli:hr")
    assert (await deliver_due(deps=world.outbox)).applied == [change_id]
    assert world.directory.attributes["anna.schmidt"]["mobile_phone"] == "+491702"
    forced = [e for e in world.data.audit if e.action == "directory_change_forced"]
    assert [(e.actor, e.details["conflicts"]) for e in forced] == [("cli:hr", "mobile_phone")]
    with pytest.raises(Conflict):
        await retry(change_id, deps=world.outbox)
    with pytest.raises(NotFound):
        await retry(999, deps=world.outbox)


async def test_an_unreachable_directory_defers_with_growing_backoff_then_lands() -> None:
    world = World()
    world.directory.available = False
    first = await world.queue({"mobile_phone": "+491701"}, {"mobile_phone": "+491702"})
    second = await world.queue({"mobile_phone": "+491702"}, {"mobile_phone": "+491703"})
    waits = []
    for _ in range(4):
        report = await deliver_due(deps=world.outbox)
        assert report.deferred == [first]  # the later entry of the same account never overtakes the first
        entry = world.entry(first)
        assert entry.status is OutboxStatus.PENDING
        assert entry.next_attempt_at is not None
        waits.append((entry.next_attempt_at - world.clock.now()).total_seconds())
        assert (await deliver_due(deps=world.outbox)).handled == 0  # not due before the backoff has passed
        world.clock.advance(entry.next_attempt_at - world.clock.now())
    assert waits == [10, 20, 40, 40]
    assert world.entry(first).attempts == 4
    assert world.actions().count("directory_change_deferred") == 1
    world.directory.available = True
    assert (await deliver_due(deps=world.outbox)).applied == [first]
    assert (await deliver_due(deps=world.outbox)).applied == [second]
    assert world.directory.attributes["anna.schmidt"]["mobile_phone"] == "+491703"


async def test_the_others_wait_with_the_first_that_found_the_directory_away() -> None:
    world = World()
    world.directory.add("bob", "pw")
    world.directory.available = False
    first = await world.queue({"city": "München"}, {"city": "Köln"})
    other = await world.queue({"city": ""}, {"city": "Wien"}, login="bob")
    report = await deliver_due(deps=world.outbox)
    assert (report.deferred, world.entry(first).attempts, world.entry(other).attempts) == ([first, other], 1, 0)
    assert world.entry(other).next_attempt_at == world.entry(first).next_attempt_at


async def test_giving_up_and_a_missing_account_fail_and_retry_all_brings_them_back() -> None:
    world = World(max_attempts=2)
    world.directory.available = False
    change_id = await world.queue({"city": "München"}, {"city": "Köln"})
    ghost = await world.queue({"city": ""}, {"city": "Graz"}, login="ghost")
    await deliver_due(deps=world.outbox)
    world.clock.advance(timedelta(minutes=5))
    report = await deliver_due(deps=world.outbox)
    assert report.failed == [change_id]
    assert "Gave up after 2 attempts" in world.entry(change_id).last_error
    world.directory.available = True
    world.clock.advance(timedelta(minutes=5))
    assert (await deliver_due(deps=world.outbox)).failed == [ghost]
    assert world.entry(ghost).last_error == "The account does not exist in the directory."
    assert await retry(None, deps=world.outbox, actor="cli:hr") == 2
    report = await deliver_due(deps=world.outbox)
    assert (report.applied, report.failed) == ([change_id], [ghost])
    assert world.directory.attributes["anna.schmidt"]["city"] == "Köln"


async def test_the_worker_applies_after_a_kick_and_stops_when_asked() -> None:
    world = World(poll_seconds=3600)  # only the kick can wake it in this test
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(stop, deps=world.outbox))
    await asyncio.sleep(0)
    change_id = await world.queue({"city": "München"}, {"city": "Köln"})
    world.outbox.wake.set()
    for _ in range(1000):
        if world.entry(change_id).status is OutboxStatus.APPLIED:
            break
        await asyncio.sleep(0)
    assert world.entry(change_id).status is OutboxStatus.APPLIED
    stop.set()
    await asyncio.wait_for(worker, timeout=10)


def test_outbox_settings_load_from_file_and_environment_and_refuse_nonsense() -> None:
    production = Path(__file__).resolve().parents[2] / "config" / "production.example.toml"
    secret = {
        "ESS_SECRET_KEY": "k3Jx9-very-random-and-long-enough-secret-value-42",
        "ESS_DATABASE_URL": "postgresql+asyncpg://ess:s3cret@db/ess",
    }
    settings = load_settings(production, environ={**secret, "ESS_OUTBOX__BACKOFF_BASE_SECONDS": "2.5"})
    assert (settings.outbox.poll_seconds, settings.outbox.backoff_base_seconds) == (30, 2.5)
    assert retry_policy(settings).backoff(3) == timedelta(seconds=10)
    with pytest.raises(SettingsError, match="outbox"):
        load_settings(production, environ={**secret, "ESS_OUTBOX__POLL_SECONDS": "0"})
    with pytest.raises(SettingsError, match="outbox"):
        load_settings(production, environ={**secret, "ESS_OUTBOX__BACKOFF_MAX_SECONDS": "1"})


async def test_an_old_conflict_cannot_be_forced_over_a_later_change_of_the_same_field() -> None:
    world = World()
    world.directory.attributes["anna.schmidt"]["mobile_phone"] = "+491709"
    first = await world.queue({"mobile_phone": "+491701"}, {"mobile_phone": "+491702"})
    assert (await deliver_due(deps=world.outbox)).conflicts == [first]
    later = await world.queue({"mobile_phone": "+491702"}, {"mobile_phone": "+491703"})
    assert (await deliver_due(deps=world.outbox)).conflicts == [later]
    with pytest.raises(Conflict, match=f"entry {later} changes the same fields later"):
        await retry(first, deps=world.outbox, force=True, actor="cli:hr")
    await retry(later, deps=world.outbox, force=True, actor="cli:hr")
    assert (await deliver_due(deps=world.outbox)).applied == [later]
    assert world.directory.attributes["anna.schmidt"]["mobile_phone"] == "+491703"
