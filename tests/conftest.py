"""Shared fixtures: migrated databases (SQLite and a real PostgreSQL), settings for test apps; no temp leftovers."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config

from ess.settings import Settings, load_settings
from tests.harness.directory import DirectoryServer
from tests.harness.postgres import PostgresServer, create_database, running_postgres
from tests.harness.redis import RedisServer, running_redis
from tests.harness.samba_ad import discard_template, running_samba_ad
from tests.harness.slapd import running_slapd

ROOT = Path(__file__).resolve().parents[1]
_db_numbers = itertools.count(1)


@dataclasses.dataclass
class _RunTemp:
    """This test process's private temp folder and who made what in it."""

    root: Path | None = None
    mail: Path | None = None
    made_by: dict[str, str] = dataclasses.field(default_factory=dict)  # entry name -> test id

    def entries(self) -> set[str]:
        if self.root is None:
            return set()
        try:
            return {entry.name for entry in self.root.iterdir()}
        except OSError:
            return set()


_run_temp = _RunTemp()


@pytest.fixture(scope="session", autouse=True)
def private_temp_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point TMPDIR, for this process and every program the tests start, at a fresh folder; fail if it is not
    empty at the end (the session's own mail folders and Samba template aside), naming the test that left each entry.

    Concurrent test runs on the machine (a developer's and an agent's, CI's) each see only their own folder. Programs
    the tests start without naming a mail folder (ESS_MAIL__FOLDER) write into the session's, not the working tree's.
    """
    tmp_path_factory.getbasetemp()  # pytest's tmp_path folders stay in the shared temp dir, where pytest prunes them
    root = Path(tempfile.mkdtemp(prefix="ess-test-run-"))
    root.chmod(0o755)  # the postgres OS user traverses it to its cluster directory
    saved_tempdir = tempfile.tempdir
    tempfile.tempdir = str(root)
    _run_temp.root = root
    _run_temp.mail = Path(tempfile.mkdtemp(prefix="ess-test-mail-"))
    environment = {"TMPDIR": str(root), "ESS_MAIL__FOLDER": str(_run_temp.mail / "default")}
    saved_environment = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    try:
        yield root
    finally:
        _run_temp.root = None
        for name, value in saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        tempfile.tempdir = saved_tempdir
        shutil.rmtree(_run_temp.mail, ignore_errors=True)
        discard_template()  # the harness keeps it for the whole process otherwise
        left = sorted(entry.name for entry in root.iterdir())
        shutil.rmtree(root, ignore_errors=True)
        _report_leftovers(left)


def _report_leftovers(left: list[str]) -> None:
    unknown = "the session's own set-up or tear-down"
    unexpected = [f"{name}  (made by {_run_temp.made_by.get(name, unknown)})" for name in left]
    if unexpected:
        pytest.fail(
            f"the tests left {len(unexpected)} entr{'y' if len(unexpected) == 1 else 'ies'} in their temp folder "
            "(removed now; remove them in the test or fixture that makes them):\n  " + "\n  ".join(unexpected),
            pytrace=False,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Remember during which test (its set-up, call or tear-down) each entry of the temp folder appeared."""
    before = _run_temp.entries()
    try:
        return (yield)
    finally:
        for name in _run_temp.entries() - before:
            _run_temp.made_by.setdefault(name, item.nodeid)


# Cheap argon2 parameters: tests check behaviour, not the cost of hashing.
TEST_ENV = {
    "ESS_MODE": "test",
    "ESS_SECRET_KEY": "test-secret-key-of-sufficient-length-0123456789",
    "ESS_DIRECTORY__LOCAL__HASHING__MEMORY_KIB": "1024",
    "ESS_DIRECTORY__LOCAL__HASHING__TIME_COST": "1",
    "ESS_SESSIONS__STORE": "memory",
    # A directory call gives up after 1 s in production; a 2-core machine running the suite on both cores can keep a
    # password change on Samba AD busy longer than that. The tests of a hanging directory set their own.
    "ESS_DIRECTORY__BREAKER__CALL_TIMEOUT_SECONDS": "10",
}


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """How `make test` spreads the suite over pytest-xdist workers (`-n auto --dist loadfile`): a module's tests stay
    together on one worker (they share module-scoped fixtures such as the browser), and every module that may ask for
    the Samba AD DC goes to one worker, because only one DC can run on a machine (fixed ports; a second worker would
    wait for the first one's whole session). (pytest-xdist's own `xdist_group` marks do not reach its scheduler under
    pytest 9: the node ids it schedules by no longer carry the group.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling  # noqa: PLC0415 - only where pytest-xdist runs the suite

    class ModulesAndOneDc(LoadFileScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "the Samba AD DC" if _asks_for_samba(module) else module

    return ModulesAndOneDc(config, log)


@functools.cache
def _asks_for_samba(module: str) -> bool:
    """A module asks for the DC by fixture name, as a parameter or through request.getfixturevalue("samba")."""
    path = ROOT / module
    return path.is_file() and re.search(r"\bsamba\b", path.read_text(encoding="utf-8")) is not None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One private redis-server (plain and TLS port, password) for the whole run."""
    with running_redis() as server:
        yield server


@pytest.fixture
def redis(redis_server: RedisServer) -> RedisServer:
    """The run's Redis, emptied for this test."""
    redis_server.flush()
    return redis_server


@pytest.fixture(scope="session")
def slapd() -> Iterator[DirectoryServer]:
    """One slapd with the ppolicy overlay for the whole run; tests create their own accounts in it."""
    with running_slapd() as server:
        yield server


@pytest.fixture(scope="session")
def samba() -> Iterator[DirectoryServer]:
    """One Samba AD DC for the whole run (its ports are fixed: there can only be one); also the KDC the single
    sign-on tests get their Kerberos tickets from."""
    with running_samba_ad(kdc=True) as server:
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


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to head once per run; each test gets a copy (running Alembic's 18 steps for every
    test cost minutes of the suite). Tests of the migrations themselves call `migrate` on an empty database."""
    template = tmp_path_factory.mktemp("migrated-sqlite") / "template.db"
    migrate(f"sqlite+aiosqlite:///{template}")
    return template


@pytest.fixture(scope="session")
def migrated_postgres_template(postgres_server: PostgresServer) -> str:
    """The name of a PostgreSQL database migrated to head once per run, nobody connected: the template of each
    test's database (CREATE DATABASE ... TEMPLATE copies it in milliseconds)."""
    name = "ess_migrated_template"
    migrate(create_database(postgres_server, name))
    return name


def migrated_database_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A fresh database of `kind` ("sqlite" or "postgres") at the head revision, copied from the run's template."""
    if kind == "sqlite":
        template: Path = request.getfixturevalue("migrated_sqlite_template")
        target = tmp_path / "ess.db"
        shutil.copyfile(template, target)
        return f"sqlite+aiosqlite:///{target}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    template_name: str = request.getfixturevalue("migrated_postgres_template")
    return create_database(server, f"ess_t{next(_db_numbers)}", template=template_name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database: once SQLite, once PostgreSQL."""
    return migrated_database_url(request.param, tmp_path, request)


@pytest.fixture
def sqlite_url(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty SQLite database at the head revision."""
    return migrated_database_url("sqlite", tmp_path, request)


def make_settings(database_url: str, **env: str) -> Settings:
    """Test settings on `database_url`; `env` overrides (ESS_* names). Mails of the file backend go to a fresh folder
    of the session, never into the working tree; all are removed with the session. Outside a test session (a bench
    script) name the folder: ESS_MAIL__FOLDER=..."""
    if "ESS_MAIL__FOLDER" in env:
        mail_folder = env["ESS_MAIL__FOLDER"]
    elif _run_temp.mail is None:
        raise RuntimeError("make_settings() needs the test session's temp folder, or ESS_MAIL__FOLDER")
    else:
        mail_folder = tempfile.mkdtemp(prefix="mail-", dir=_run_temp.mail)
    return load_settings(
        ROOT / "config" / "ess.toml",
        environ={**TEST_ENV, "ESS_DATABASE_URL": database_url, "ESS_MAIL__FOLDER": mail_folder, **env},
    )
