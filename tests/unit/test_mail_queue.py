"""Durable mail with fakes: a notice is committed to the queue before anything is sent, sent at once when the mail
server takes it, retried with backoff when not, given up after the maximum, sent once by competing workers, and a
notice that must go out first refuses the change (and is withdrawn) when it cannot be sent."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from ess.domain.errors import Conflict, ServiceUnavailable
from ess.domain.mail.delivery import send_due
from ess.domain.mail.model import ComposedMail, MailStatus, QueuedMail
from ess.domain.mail.ports import MailDeps
from ess.domain.mail.queue import QueuedNotifier
from ess.domain.mail.retry import retry
from ess.domain.outbox.model import RetryPolicy
from ess.domain.shared import Notice
from tests.fakes import FakeUnitOfWork, FixedClock

NOTICE = Notice(kind="leave_requested", to=("markus@example.test",), params={"employee": "Anna"})


@dataclass
class FakePostman:
    """Renders a notice as its kind and params; `down` makes delivery fail like an unreachable mail server."""

    down: bool = False
    sent: list[QueuedMail] = field(default_factory=list)

    def compose(self, notice: Notice) -> ComposedMail:
        return ComposedMail(notice.kind, notice.to, f"About {notice.kind}", f"sealed:{dict(notice.params)}")

    async def deliver(self, mail: QueuedMail) -> None:
        if self.down:
            raise ServiceUnavailable("The mail server cannot take the mail right now.")
        self.sent.append(mail)


@dataclass
class World:
    uow: FakeUnitOfWork
    clock: FixedClock
    postman: FakePostman
    deps: MailDeps

    async def mails(self) -> list[QueuedMail]:
        async with FakeUnitOfWork(self.uow.committed) as uow:
            return list(reversed(await uow.mail.listing(None, 100)))

    async def actions(self) -> list[str]:
        async with FakeUnitOfWork(self.uow.committed) as uow:
            return [event.action for event in await uow.audit.recent(100)]


@pytest.fixture
def world() -> World:
    uow, clock, postman = FakeUnitOfWork(), FixedClock(), FakePostman()
    policy = RetryPolicy(backoff_base_seconds=10, backoff_max_seconds=60, max_attempts=3, claim_seconds=120)
    deps = MailDeps(
        new_uow=lambda: FakeUnitOfWork(uow.committed),  # type: ignore[arg-type,return-value]
        postman=postman,
        clock=clock,
        policy=policy,
        wake=asyncio.Event(),
    )
    return World(uow, clock, postman, deps)


async def test_a_notice_is_queued_then_sent_at_once_and_the_queue_keeps_no_text(world: World) -> None:
    await QueuedNotifier(world.deps).notify(NOTICE)
    [sent] = world.postman.sent
    assert sent.body == "sealed:{'employee': 'Anna'}"
    [mail] = await world.mails()
    assert (mail.status, mail.attempts, mail.body) == (MailStatus.SENT, 1, "")
    assert not world.deps.wake.is_set()
    assert {"mail_queued", "mail_sent"} <= set(await world.actions())


async def test_while_the_mail_server_is_down_the_mail_waits_with_backoff_and_goes_out_later(world: World) -> None:
    world.postman.down = True
    await QueuedNotifier(world.deps).notify(NOTICE)  # the change is saved: no error for the caller
    assert world.deps.wake.is_set()
    [mail] = await world.mails()
    assert (mail.status, mail.attempts) == (MailStatus.PENDING, 1)
    assert mail.next_attempt_at == world.clock.now() + timedelta(seconds=10)
    assert mail.body  # kept until sent
    assert (await send_due(deps=world.deps)).handled == 0  # not due yet
    world.clock.advance(timedelta(seconds=10))
    world.postman.down = False
    report = await send_due(deps=world.deps)
    assert report.sent == [mail.id]
    [mail] = await world.mails()
    assert (mail.status, mail.attempts) == (MailStatus.SENT, 2)
    assert len(world.postman.sent) == 1


async def test_a_mail_is_given_up_after_the_maximum_and_an_operator_sends_it_again(world: World) -> None:
    world.postman.down = True
    await QueuedNotifier(world.deps).notify(NOTICE)
    for _ in range(2):
        world.clock.advance(timedelta(minutes=5))
        await send_due(deps=world.deps)
    [mail] = await world.mails()
    assert (mail.status, mail.attempts) == (MailStatus.FAILED, 3)
    assert "mail_failed" in await world.actions()
    world.postman.down = False
    assert mail.id is not None
    assert await retry(None, deps=world.deps, actor="operator") == 1
    assert (await send_due(deps=world.deps)).sent == [mail.id]
    with pytest.raises(Conflict):
        await retry(mail.id, deps=world.deps)  # sent already


async def test_competing_workers_send_each_mail_once(world: World) -> None:
    world.postman.down = True
    notifier = QueuedNotifier(world.deps)
    for n in range(5):
        await notifier.notify(Notice(kind="k", to=(f"p{n}@example.test",), params={}))
    world.postman.down = False
    world.clock.advance(timedelta(minutes=1))
    reports = await asyncio.gather(*(send_due(deps=world.deps) for _ in range(3)))
    assert sorted(i for r in reports for i in r.sent) == [1, 2, 3, 4, 5]
    assert len(world.postman.sent) == 5


async def test_a_claim_of_a_dead_worker_runs_out_and_another_sends_the_mail(world: World) -> None:
    world.postman.down = True
    await QueuedNotifier(world.deps).notify(NOTICE)
    world.clock.advance(timedelta(minutes=1))
    async with FakeUnitOfWork(world.uow.committed) as uow:  # a worker claims it and dies before sending
        assert await uow.mail.claim(1, now=world.clock.now(), until=world.clock.now() + timedelta(seconds=120))
        await uow.commit()
    world.postman.down = False
    assert (await send_due(deps=world.deps)).handled == 0
    world.clock.advance(timedelta(seconds=120))
    assert (await send_due(deps=world.deps)).sent == [1]


async def test_a_notice_that_must_go_out_first_refuses_when_it_cannot_and_is_withdrawn(world: World) -> None:
    world.postman.down = True
    with pytest.raises(ServiceUnavailable):
        await QueuedNotifier(world.deps).notify_first(NOTICE)
    [mail] = await world.mails()
    assert (mail.status, mail.body) == (MailStatus.FAILED, "")  # never announces a change that was not made
    assert mail.id is not None
    with pytest.raises(Conflict):
        await retry(mail.id, deps=world.deps)
    world.postman.down = False
    await QueuedNotifier(world.deps).notify_first(NOTICE)
    assert len(world.postman.sent) == 1
