"""A throwaway Redis server for tests (Debian `redis-server`): own config in a temp dir, loopback only, removed on exit.

Usage::

    with running_redis() as server:
        settings = ...server.url, server.password...      # redis://127.0.0.1:<port>/0, requirepass
        settings = ...server.tls_url, server.ca_file...    # rediss://127.0.0.1:<tls port>/0 (throwaway CA)

The server never reads the system configuration (`redis-server <tempdir>/redis.conf`), keeps nothing on disk
(no RDB, no AOF) and asks for a password on both ports. `flush()` empties it between tests; `client()` is a
synchronous redis-py client for a test's own look at what is stored.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import redis

from tests.harness.ports import free_port
from tests.harness.tls import make_certificates

REDIS_SERVER = "/usr/bin/redis-server"
HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 10.0
_PORT_ATTEMPTS = 3


@dataclasses.dataclass(frozen=True)
class RedisServer:
    """Connection facts of a running throwaway Redis."""

    port: int
    tls_port: int
    password: str
    ca_file: Path
    base: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    @property
    def tls_url(self) -> str:
        return f"rediss://{HOST}:{self.tls_port}/0"

    def settings_env(self) -> dict[str, str]:
        """ESS_* variables that point ESS's sessions at this server (plain TCP)."""
        return {
            "ESS_SESSIONS__STORE": "redis",
            "ESS_SESSIONS__URL": self.url,
            "ESS_SESSIONS__PASSWORD": self.password,
        }

    def client(self) -> redis.Redis:
        """A synchronous client for the tests' own checks (DBSIZE, FLUSHALL, TTL); close it after use."""
        return redis.Redis(host=HOST, port=self.port, password=self.password)

    def flush(self) -> None:
        with self.client() as client:
            client.flushall()


def _config(base: Path, port: int, tls_port: int, password: str, certs_dir: Path) -> str:
    return f"""
bind {HOST}
protected-mode yes
port {port}
tls-port {tls_port}
tls-cert-file {certs_dir / "server.pem"}
tls-key-file {certs_dir / "server.key"}
tls-ca-cert-file {certs_dir / "ca.pem"}
tls-auth-clients no
requirepass {password}
daemonize no
dir {base}
logfile {base / "redis.log"}
save ""
appendonly no
databases 4
"""


def _answers(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


def _log_tail(base: Path) -> str:
    try:
        return "\n".join((base / "redis.log").read_text(errors="replace").splitlines()[-20:])
    except OSError:
        return "(no log)"


def _start(base: Path, password: str, certs_dir: Path) -> tuple[subprocess.Popen[bytes], int, int]:
    for _ in range(_PORT_ATTEMPTS):
        port, tls_port = free_port(), free_port()
        conf = base / "redis.conf"
        conf.write_text(_config(base, port, tls_port, password, certs_dir), encoding="utf-8")
        process = subprocess.Popen(
            [REDIS_SERVER, str(conf)], cwd=base, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            if _answers(port):
                return process, port, tls_port
            time.sleep(0.02)
        _stop(process)
        if "Address already in use" not in _log_tail(base):
            break
    raise RuntimeError(f"redis-server did not start:\n{_log_tail(base)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running_redis() -> Iterator[RedisServer]:
    """Start a private redis-server (plain and TLS port, password); stop it and delete its files on exit."""
    if not Path(REDIS_SERVER).is_file():
        raise RuntimeError(f"{REDIS_SERVER} not found: install redis-server (scripts/ensure-test-deps.sh)")
    base = Path(tempfile.mkdtemp(prefix="ess-redis-"))
    process: subprocess.Popen[bytes] | None = None
    try:
        certs = make_certificates(base / "tls")
        password = secrets.token_urlsafe(18)
        process, port, tls_port = _start(base, password, base / "tls")
        yield RedisServer(
            port=port, tls_port=tls_port, password=password, ca_file=certs.ca_file, base=base, process=process
        )
    finally:
        try:
            if process is not None:
                _stop(process)
        finally:
            shutil.rmtree(base, ignore_errors=True)
