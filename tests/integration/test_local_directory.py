"""The embedded directory on real databases: argon2id hashes, lockout, unlock, change and reset."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from ess.adapters.local_directory import HashingCost, LocalDirectory
from ess.adapters.sql.database import create_engine, create_session_factory
from ess.adapters.sql.tables import LocalAccountRow
from ess.domain.directory.model import AuthOutcome
from ess.domain.errors import AuthenticationFailed, NotFound
from tests.fakes import FixedClock

PASSWORD = "Grüße aus Zürich 🔑 2026"


@pytest.fixture
async def directory(database_url: str) -> AsyncIterator[tuple[LocalDirectory, FixedClock]]:
    engine = create_engine(database_url)
    clock = FixedClock()
    local = LocalDirectory(
        create_session_factory(engine),
        clock,
        hashing=HashingCost(memory_kib=1024, time_cost=1, parallelism=1),
        lockout_threshold=3,
        lockout_duration=timedelta(minutes=15),
    )
    await local.provision("anna.schmidt", password=PASSWORD, email="Anna.Schmidt@example-ess.test", groups=["staff"])
    yield local, clock
    await engine.dispose()


async def test_passwords_are_stored_as_argon2id_and_unicode_works(
    directory: tuple[LocalDirectory, FixedClock], database_url: str
) -> None:
    local, _ = directory
    assert await local.authenticate("anna.schmidt", PASSWORD) is AuthOutcome.OK
    assert await local.authenticate("anna.schmidt", PASSWORD[:-1]) is AuthOutcome.INVALID_CREDENTIALS
    assert await local.authenticate("anna.schmidt", "") is AuthOutcome.INVALID_CREDENTIALS
    assert await local.authenticate("nobody", PASSWORD) is AuthOutcome.INVALID_CREDENTIALS
    engine = create_engine(database_url)
    async with engine.connect() as connection:
        stored = (await connection.execute(select(LocalAccountRow.password_hash))).scalar_one()
    await engine.dispose()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


async def test_repeated_failures_lock_the_account_until_the_lockout_ends(
    directory: tuple[LocalDirectory, FixedClock],
) -> None:
    local, clock = directory
    await asyncio.gather(*(local.authenticate("anna.schmidt", "wrong") for _ in range(3)))
    assert await local.authenticate("anna.schmidt", PASSWORD) is AuthOutcome.LOCKED
    status = await local.account_status("anna.schmidt")
    assert status.locked
    assert status.locked_until == clock.now() + timedelta(minutes=15)
    clock.advance(timedelta(minutes=15, seconds=1))
    assert await local.authenticate("anna.schmidt", PASSWORD) is AuthOutcome.OK
    assert not (await local.account_status("anna.schmidt")).locked


async def test_unlock_clears_a_lockout(directory: tuple[LocalDirectory, FixedClock]) -> None:
    local, _ = directory
    for _ in range(3):
        await local.authenticate("anna.schmidt", "wrong")
    assert (await local.account_status("anna.schmidt")).locked
    await local.unlock("anna.schmidt")
    assert await local.authenticate("anna.schmidt", PASSWORD) is AuthOutcome.OK
    with pytest.raises(NotFound):
        await local.unlock("nobody")


async def test_change_needs_the_current_password_and_reset_does_not(
    directory: tuple[LocalDirectory, FixedClock],
) -> None:
    local, clock = directory
    with pytest.raises(AuthenticationFailed):
        await local.change_password("anna.schmidt", "wrong", "a new passphrase for anna")
    await local.change_password("anna.schmidt", PASSWORD, "a new passphrase for anna")
    assert await local.authenticate("anna.schmidt", PASSWORD) is AuthOutcome.INVALID_CREDENTIALS
    assert await local.authenticate("anna.schmidt", "a new passphrase for anna") is AuthOutcome.OK
    await local.reset_password("anna.schmidt", "reset by the service desk")
    assert await local.authenticate("anna.schmidt", "reset by the service desk") is AuthOutcome.OK
    assert (await local.account_status("anna.schmidt")).password_changed_at == clock.now()
    with pytest.raises(NotFound):
        await local.reset_password("nobody", "whatever it is")


async def test_find_account_by_login_or_email_case_insensitively(directory: tuple[LocalDirectory, FixedClock]) -> None:
    local, _ = directory
    by_login = await local.find_account("Anna.Schmidt")
    by_mail = await local.find_account("anna.schmidt@EXAMPLE-ESS.test")
    assert by_login is not None
    assert by_mail == by_login
    for needle in ("", "*", "anna*", "*)(uid=*", "x\x00"):
        assert await local.find_account(needle) is None
    assert await local.groups("anna.schmidt") == frozenset({"staff"})
    assert await local.groups("nobody") == frozenset()


async def test_an_ambiguous_email_finds_nobody(directory: tuple[LocalDirectory, FixedClock]) -> None:
    local, _ = directory
    await local.provision("anna.alias", password="another password", email="anna.schmidt@example-ess.test")
    assert await local.find_account("anna.schmidt@example-ess.test") is None
    assert await local.find_account("anna.alias") is not None
