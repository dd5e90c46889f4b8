"""Shared fixtures: migrated databases (SQLite and a real PostgreSQL), settings for test apps."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config

from ess.settings import Settings, load_settings
from tests.harness.directory import DirectoryServer
from tests.harness.postgres import PostgresServer, create_database, running_postgres
from tests.harness.samba_ad import running_samba_ad
from tests.harness.slapd import running_slapd

ROOT = Path(__file__).resolve().parents[1]
_db_numbers = itertools.count(1)

# Cheap argon2 parameters: tests check behaviour, not the cost of hashing.
TEST_ENV = {
    "ESS_MODE": "test",
    "ESS_SECRET_KEY": "test-secret-key-of-sufficient-length-0123456789",
    "ESS_DIRECTORY__LOCAL__HASHING__MEMORY_KIB": "1024",
    "ESS_DIRECTORY__LOCAL__HASHING__TIME_COST": "1",
    "ESS_SESSIONS__STORE": "memory",
}


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def slapd() -> Iterator[DirectoryServer]:
    """One slapd with the ppolicy overlay for the whole run; tests create their own accounts in it."""
    with running_slapd() as server:
        yield server


@pytest.fixture(scope="session")
def samba() -> Iterator[DirectoryServer]:
    """One Samba AD DC for the whole run (its ports are fixed: there can only be one)."""
    with running_samba_ad() as server:
        yield server


def migrate(url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")


def fresh_database_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'ess.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return create_database(server, f"ess_t{next(_db_numbers)}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database: once SQLite, once PostgreSQL."""
    url = fresh_database_url(request.param, tmp_path, request)
    migrate(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ess.db'}"
    migrate(url)
    return url


def make_settings(database_url: str, **env: str) -> Settings:
    # Mails of the file backend go to a fresh folder, never into the working tree.
    mail_folder = tempfile.mkdtemp(prefix="ess-mail-")
    return load_settings(
        ROOT / "config" / "ess.toml",
        environ={**TEST_ENV, "ESS_DATABASE_URL": database_url, "ESS_MAIL__FOLDER": mail_folder, **env},
    )
