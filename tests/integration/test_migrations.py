"""Alembic builds exactly the schema the models describe, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ess.adapters.sql.database import create_engine
from ess.adapters.sql.tables import Base


def _not_the_search_index(name: str | None, type_: str, _parents: object) -> bool:
    """The help center's full-text index is made per dialect by its migration (an FTS5 virtual table with its
    shadow tables on SQLite, a tsvector table on PostgreSQL) and has no model."""
    return not (type_ in {"table", "index"} and (name or "").startswith(("help_search", "ix_help_search")))


async def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(
                        sync, opts={"compare_type": True, "include_name": _not_the_search_index}
                    ),
                    Base.metadata,
                )
            )
    finally:
        await engine.dispose()
    assert diff == []


async def test_the_audit_log_is_append_only_in_the_database(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO audit_events (occurred_at, actor, action, target, client_address, outcome, details) "
                    "VALUES (:at, 'cli', 'test', '', '', 'success', '{}')"
                ),
                {"at": datetime.now(UTC)},
            )
        for statement in ("UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events"):
            with pytest.raises(DBAPIError, match="append-only"):
                async with engine.begin() as connection:
                    await connection.execute(text(statement))
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT actor FROM audit_events"))).scalars().all() == ["cli"]
    finally:
        await engine.dispose()
