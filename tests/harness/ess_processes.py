"""Several real `ess serve` processes on different ports (standing in for hosts) that share one database and, when
given, one Redis: for the multi-process tests and bench/scale_out.py.

Usage::

    cluster = EssCluster(workdir, database_url, redis=server)   # or store="file": the old single-host store
    cluster.prepare()                                           # ess db upgrade + ess demo seed, once
    with cluster.running(4) as urls:                            # four processes, each on its own free port
        ...

Each process gets the same configuration (test mode, cheap argon2, one secret key, so CSRF tokens and cookies made by
one are good on the others); their output goes to `<workdir>/ess-<n>.log`, quoted when one does not start.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.harness.ports import free_port
from tests.harness.redis import RedisServer

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "demo-passwort-2026"
SECRET_KEY = "multi-process-test-secret-key-0123456789abcdef"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 20.0


class EssCluster:
    """The configuration shared by every process, and starting and stopping them."""

    def __init__(
        self,
        workdir: Path,
        database_url: str,
        *,
        redis: RedisServer | None = None,
        store: str = "redis",
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.database_url = database_url
        self.redis = redis
        self.store = store
        self.extra_env = extra_env or {}

    def env(self, port: int = 0) -> dict[str, str]:
        env = {name: value for name, value in os.environ.items() if not name.startswith("ESS_")}
        env |= {
            "ESS_CONFIG": str(REPO_ROOT / "config" / "ess.toml"),
            "ESS_MODE": "test",
            "ESS_SECRET_KEY": SECRET_KEY,
            "ESS_DATABASE_URL": self.database_url,
            "ESS_MAIL__FOLDER": str(self.workdir / "mail"),
            "ESS_HOST": "127.0.0.1",
            "ESS_PORT": str(port),
            "ESS_BASE_URL": "http://ess.test",
            "ESS_DIRECTORY__LOCAL__HASHING__MEMORY_KIB": "1024",
            "ESS_DIRECTORY__LOCAL__HASHING__TIME_COST": "1",
            "ESS_SESSIONS__STORE": self.store,
            "ESS_SESSIONS__PATH": str(self.workdir / "sessions"),
            "PYTHONUNBUFFERED": "1",
        }
        if self.store == "redis":
            assert self.redis is not None, "the redis store needs a RedisServer"
            env |= self.redis.settings_env()
        return env | self.extra_env

    def cli(self, *args: str, timeout: float = 120.0) -> str:
        """Run `ess ARGS` with the shared configuration; raise with its output when it fails."""
        result = subprocess.run(
            [sys.executable, "-m", "ess.cli", *args],
            env=self.env(),
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"ess {' '.join(args)} exited {result.returncode}:\n{result.stdout}{result.stderr}")
        return result.stdout

    def prepare(self) -> None:
        """Migrate the database and seed the demo company (every account has DEMO_PASSWORD)."""
        self.cli("db", "upgrade")
        self.cli("demo", "seed")

    def start(self, number: int, *args: str) -> tuple[subprocess.Popen[bytes], str]:
        """Start one `ess serve` (extra ARGS such as --workers 2) and wait until it answers /health/live."""
        port = free_port()
        log_path = self.workdir / f"ess-{number}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "ess.cli", "serve", *args],
                env=self.env(port),
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            if is_live(base_url):
                return process, base_url
            time.sleep(0.05)
        stop(process)
        raise RuntimeError(f"ess serve {number} did not start:\n{log_path.read_text(errors='replace')}")

    @contextlib.contextmanager
    def running(self, count: int, *args: str) -> Iterator[list[str]]:
        """`count` processes, each on its own port; all stopped (SIGTERM, then SIGKILL) on exit."""
        processes: list[subprocess.Popen[bytes]] = []
        try:
            urls = []
            for number in range(count):
                process, url = self.start(number, *args)
                processes.append(process)
                urls.append(url)
            yield urls
        finally:
            for process in processes:
                stop(process)


def is_live(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/health/live", timeout=2) as response:  # noqa: S310 - our http URL
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM (graceful), SIGKILL after STOP_TIMEOUT_SECONDS; returns the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
    return process.returncode
