"""The verified private e-mail: backfilled by migration 0008, kept current by HR imports (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from ess.adapters.clock import SystemClock
from ess.adapters.sql.database import create_engine, create_session_factory
from ess.adapters.sql.unit_of_work import SqlUnitOfWork
from tests.conftest import ROOT, fresh_database_url
from tests.factories import employee


def _upgrade(url: str, revision: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url
    config.attributes["configure_logging"] = False
    command.upgrade(config, revision)


async def _sql(url: str, statement: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(statement), params)
            return [tuple(row) for row in result.all()] if result.returns_rows else []
    finally:
        await engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_migration_0008_counts_private_addresses_imported_before_as_verified(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = fresh_database_url(kind, tmp_path, request)
    _upgrade(url, "0005")
    insert = (
        "INSERT INTO employees (personnel_number, login, first_name, last_name, preferred_name, work_email, "
        "private_email, work_phone, mobile_phone, private_phone, street, postal_code, city, address_country, "
        "hire_date, country, subdivision, work_pattern, annual_leave_days, cost_center, updated_at) VALUES "
        "(:number, :login, 'A', 'B', '', 'a@example-ess.test', :private, '', '', '', '', '', '', '', "
        "'2020-01-01', 'DE', 'BY', '1|1|1|1|1|0|0', 30, '', :at)"
    )
    at = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    asyncio.run(_sql(url, insert, number="P1", login="with.private", private="p@example.org", at=at))
    asyncio.run(_sql(url, insert, number="P2", login="without.private", private="", at=at))
    _upgrade(url, "head")
    rows = dict(asyncio.run(_sql(url, "SELECT login, private_email_verified_at FROM employees")))
    assert rows["with.private"] is not None
    assert rows["without.private"] is None


async def test_an_hr_import_that_changes_the_private_email_counts_as_verified(database_url: str) -> None:
    engine = create_engine(database_url)
    uow = SqlUnitOfWork(create_session_factory(engine), SystemClock())
    try:
        for private in ("first@example.org", "first@example.org", "second@example.org", ""):
            async with uow:
                await uow.employees.save_all([employee(login="hr.import", private_email=private)])
                await uow.commit()
            async with uow:
                contact = await uow.recovery.contact("hr.import")
            assert contact is not None
            assert contact.private_email == private
            assert (contact.verified_private_email == private) if private else contact.verified_private_email == ""
            if private:
                assert contact.private_email_verified_at is not None
            else:
                assert contact.private_email_verified_at is None
        # The owner's own change through the security page is stored unverified until confirmed.
        async with uow:
            await uow.recovery.set_private_email("hr.import", "mine@example.net", None)
            await uow.commit()
        async with uow:
            contact = await uow.recovery.contact("hr.import")
        assert contact is not None
        assert contact.verified_private_email == ""
    finally:
        await engine.dispose()
