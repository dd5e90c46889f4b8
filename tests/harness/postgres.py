"""Throwaway PostgreSQL clusters for tests: started in a temp dir, on loopback, removed on exit.

Usage::

    with running_postgres() as server:
        engine = create_async_engine(server.async_url)
        other_url = create_database(server, "ess_test_users")

The cluster uses trust authentication on 127.0.0.1 only, a free port, a Unix socket inside its
temp dir and ``fsync=off``. ``initdb`` and ``pg_ctl`` refuse to run as root, so when the tests run
as root (CI) they are run as the ``postgres`` OS user through ``runuser``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from tests.harness.ports import free_port

__all__ = ["PostgresServer", "create_database", "running_postgres"]

SUPERUSER = "postgres"
DEFAULT_DATABASE = "ess_test"
HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 30
_OS_USER = "postgres"
_PORT_ATTEMPTS = 3
_LOG_TAIL_LINES = 40
_DB_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")

_SERVER_SETTINGS = f"""
# --- added by tests/harness/postgres.py (throwaway test cluster) ---
listen_addresses = '{HOST}'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
shared_buffers = 32MB
log_min_messages = warning
"""


@dataclasses.dataclass(frozen=True)
class PostgresServer:
    """Connection facts of a running throwaway cluster (trust auth: no password)."""

    host: str
    port: int
    user: str
    database: str

    @property
    def async_url(self) -> str:
        """SQLAlchemy URL using the asyncpg driver."""
        return f"postgresql+asyncpg://{self.user}@{self.host}:{self.port}/{self.database}"

    @property
    def sync_dsn(self) -> str:
        """libpq-style URI (also accepted by ``asyncpg.connect``)."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"


@functools.cache
def _bin_dir() -> Path:
    """Directory of the newest installed PostgreSQL server binaries."""
    candidates: list[tuple[int, Path]] = []
    for bin_dir in Path("/usr/lib/postgresql").glob("*/bin"):
        version = bin_dir.parent.name
        if version.isdigit() and (bin_dir / "initdb").is_file():
            candidates.append((int(version), bin_dir))
    if not candidates:
        raise RuntimeError(
            "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin; run scripts/ensure-test-deps.sh"
        )
    return max(candidates)[1]


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _as_server_user(argv: Sequence[str]) -> list[str]:
    """Prefix a command so it runs as the ``postgres`` OS user when we are root."""
    if _running_as_root():
        return ["runuser", "-u", _OS_USER, "--", *argv]
    return list(argv)


def _clean_env() -> dict[str, str]:
    """Environment without libpq variables that could redirect the tools elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C.UTF-8"
    return env


def _log_tail(log_file: Path) -> str:
    try:
        lines = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "(no server log)"
    return "\n".join(lines[-_LOG_TAIL_LINES:]) or "(empty server log)"


def _run(argv: Sequence[str], *, cwd: Path | None, what: str, log_file: Path | None = None) -> None:
    """Run a command; on failure raise RuntimeError with its output and the server log tail."""
    try:
        result = subprocess.run(
            argv,
            cwd=cwd,
            env=_clean_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_SECONDS + 10,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        tail = _log_tail(log_file) if log_file else ""
        raise RuntimeError(f"{what} timed out: {' '.join(argv)}\n{tail}") from exc
    if result.returncode != 0:
        message = f"{what} failed (exit {result.returncode}): {' '.join(argv)}\n"
        message += f"{result.stdout}{result.stderr}".strip()
        if log_file is not None:
            message += f"\n--- server log tail ({log_file}) ---\n{_log_tail(log_file)}"
        raise RuntimeError(message)


def _kill_postmaster(data_dir: Path) -> None:
    """Last resort when ``pg_ctl stop`` failed: SIGQUIT (immediate shutdown) our postmaster."""
    pid_file = data_dir / "postmaster.pid"
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int(pid_file.read_text(encoding="ascii").splitlines()[0])
        os.kill(pid, signal.SIGQUIT)


def _start(bin_dir: Path, base: Path, data_dir: Path, log_file: Path) -> int:
    """Start the postmaster on a free port and wait until it accepts connections."""
    last_error: RuntimeError | None = None
    for _ in range(_PORT_ATTEMPTS):
        port = free_port()
        # pg_ctl passes -o through a shell (mkdtemp paths contain no single quotes).
        options = f"-p {port} -k '{base}'"
        try:
            _run(
                _as_server_user(
                    [
                        str(bin_dir / "pg_ctl"),
                        "start",
                        "-D",
                        str(data_dir),
                        "-l",
                        str(log_file),
                        "-o",
                        options,
                        "-w",
                        "-t",
                        str(START_TIMEOUT_SECONDS),
                        "-s",
                    ]
                ),
                cwd=base,
                what="pg_ctl start",
                log_file=log_file,
            )
        except RuntimeError as exc:
            last_error = exc
            # Another process grabbed the port between free_port() and bind(): try another.
            if "could not bind" in str(exc) and not (data_dir / "postmaster.pid").exists():
                log_file.write_text("", encoding="utf-8")
                continue
            raise
        _run(
            [
                str(bin_dir / "pg_isready"),
                "-q",
                "-h",
                HOST,
                "-p",
                str(port),
                "-U",
                SUPERUSER,
                "-t",
                str(START_TIMEOUT_SECONDS),
            ],
            cwd=base,
            what="pg_isready",
            log_file=log_file,
        )
        return port
    assert last_error is not None
    raise last_error


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """Start a throwaway PostgreSQL cluster with a database ``ess_test``; destroy it on exit."""
    bin_dir = _bin_dir()
    base = Path(tempfile.mkdtemp(prefix="ess-pg-"))
    # The postgres OS user must be able to traverse to (and own) the cluster directory.
    base.chmod(0o755)
    if _running_as_root():
        owner = pwd.getpwnam(_OS_USER)
        os.chown(base, owner.pw_uid, owner.pw_gid)
    data_dir = base / "data"
    log_file = base / "server.log"
    started = False
    try:
        _run(
            _as_server_user(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data_dir),
                    "--auth=trust",
                    "--no-sync",
                    "-U",
                    SUPERUSER,
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            cwd=base,
            what="initdb",
        )
        with (data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(_SERVER_SETTINGS)
        started = True  # from here on a postmaster may exist: always try to stop it
        port = _start(bin_dir, base, data_dir, log_file)
        server = PostgresServer(host=HOST, port=port, user=SUPERUSER, database=DEFAULT_DATABASE)
        _createdb(bin_dir, server, DEFAULT_DATABASE, cwd=base, log_file=log_file)
        yield server
    finally:
        try:
            if started and (data_dir / "postmaster.pid").exists():
                try:
                    _run(
                        _as_server_user(
                            [str(bin_dir / "pg_ctl"), "stop", "-D", str(data_dir), "-m", "immediate", "-w", "-s"]
                        ),
                        cwd=base,
                        what="pg_ctl stop",
                        log_file=log_file,
                    )
                except RuntimeError:
                    _kill_postmaster(data_dir)
                    raise
        finally:
            shutil.rmtree(base, ignore_errors=True)


def _createdb(
    bin_dir: Path,
    server: PostgresServer,
    name: str,
    *,
    cwd: Path | None,
    log_file: Path | None,
    template: str = "template0",
) -> None:
    _run(
        [
            str(bin_dir / "createdb"),
            "-h",
            server.host,
            "-p",
            str(server.port),
            "-U",
            server.user,
            "-T",
            template,
            name,
        ],
        cwd=cwd,
        what=f"createdb {name}",
        log_file=log_file,
    )


def create_database(server: PostgresServer, name: str, *, template: str = "template0") -> str:
    """Create a database on ``server`` and return its asyncpg SQLAlchemy URL: empty, or a copy of ``template`` (a
    database nobody is connected to).

    Meant for one database per test module. ``name`` must be a plain SQL identifier.
    Safe to call from inside a running event loop (it shells out to ``createdb``).
    """
    for identifier in (name, template):
        if not _DB_NAME.fullmatch(identifier):
            raise ValueError(f"invalid database name {identifier!r}: use [A-Za-z_][A-Za-z0-9_]*, max 63")
    _createdb(_bin_dir(), server, name, cwd=None, log_file=None, template=template)
    return dataclasses.replace(server, database=name).async_url
