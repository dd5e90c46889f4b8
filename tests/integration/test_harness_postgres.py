"""The throwaway PostgreSQL harness starts a usable cluster and cleans up after itself."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.harness.postgres import PostgresServer, create_database, running_postgres

pytestmark = pytest.mark.postgres


async def _version(dsn: str) -> tuple[str, str, str]:
    conn = await asyncpg.connect(dsn)
    try:
        version: str = await conn.fetchval("select version()")
        database: str = await conn.fetchval("select current_database()")
        data_directory: str = await conn.fetchval("show data_directory")
        return version, database, data_directory
    finally:
        await conn.close()


async def _roundtrip(async_url: str) -> tuple[str, list[str]]:
    engine = create_async_engine(async_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("create table greeting (id serial primary key, word text not null)"))
            await conn.execute(text("insert into greeting (word) values ('grüezi'), ('servus')"))
        async with engine.connect() as conn:
            database = (await conn.execute(text("select current_database()"))).scalar_one()
            words = list((await conn.execute(text("select word from greeting order by id"))).scalars())
        return database, words
    finally:
        await engine.dispose()


def _port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def test_running_postgres_serves_a_fresh_cluster_and_removes_it() -> None:
    with running_postgres() as server:
        assert isinstance(server, PostgresServer)
        assert server.host == "127.0.0.1"
        assert server.async_url.startswith("postgresql+asyncpg://")

        version, database, data_directory = asyncio.run(_version(server.sync_dsn))
        assert "PostgreSQL" in version
        assert database == "ess_test"

        other_url = create_database(server, "ess_test_module_a")
        assert other_url.endswith(f":{server.port}/ess_test_module_a")
        other_database, words = asyncio.run(_roundtrip(other_url))
        assert other_database == "ess_test_module_a"
        assert words == ["grüezi", "servus"]

        # The default database is untouched by work in the module database.
        assert asyncio.run(_roundtrip(server.async_url)) == ("ess_test", ["grüezi", "servus"])
        assert Path(data_directory).is_dir()

    assert not _port_open(server.host, server.port)
    assert not Path(data_directory).parent.exists()


def test_create_database_rejects_unsafe_names() -> None:
    server = PostgresServer(host="127.0.0.1", port=1, user="postgres", database="ess_test")
    with pytest.raises(ValueError, match="invalid database name"):
        create_database(server, 'x"; drop database ess_test; --')
