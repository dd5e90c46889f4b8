"""End-to-end fixtures: the real `ess serve` on a throwaway SQLite database, and headless Chromium."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from ess.adapters.hr_files import read_hr_file
from ess.app import create_app
from ess.bootstrap import build_container
from ess.domain.hr_import.importing import ImportEmployees, import_employees
from ess.settings import Settings
from tests.conftest import make_settings
from tests.harness.ports import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts"
CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
DEMO_PASSWORD = "demo-passwort-2026"
STARTUP_TIMEOUT_S = 30.0
SHUTDOWN_TIMEOUT_S = 10.0
CLI_TIMEOUT_S = 120.0
# A free port can be taken by someone else before the server binds it; try a fresh one a few times.
PORT_ATTEMPTS = 3


def _server_env(workdir: Path, port: int) -> dict[str, str]:
    """The process environment without the caller's ESS_* settings, plus the test's own."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("ESS_")}
    env.update(
        {
            "ESS_CONFIG": str(REPO_ROOT / "config" / "ess.toml"),
            "ESS_MODE": "demo",
            "ESS_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'ess.db'}",
            "ESS_SESSIONS__PATH": str(workdir / "sessions"),
            "ESS_MAIL__FOLDER": str(workdir / "mail"),
            "ESS_PORT": str(port),
            "ESS_HOST": "127.0.0.1",
            "ESS_BASE_URL": f"http://127.0.0.1:{port}",
            # Cheap argon2 keeps seeding and logging in fast; the cost itself is not under test here.
            "ESS_DIRECTORY__LOCAL__HASHING__MEMORY_KIB": "1024",
            "ESS_DIRECTORY__LOCAL__HASHING__TIME_COST": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _ess(*args: str) -> list[str]:
    return [sys.executable, "-m", "ess.cli", *args]


def _run_cli(args: list[str], env: dict[str, str], workdir: Path) -> None:
    result = subprocess.run(  # noqa: PLW1510 - the return code is checked below, with the output in the message
        _ess(*args), env=env, cwd=workdir, capture_output=True, text=True, timeout=CLI_TIMEOUT_S
    )
    if result.returncode != 0:
        pytest.fail(
            f"`ess {' '.join(args)}` exited with {result.returncode}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}",
            pytrace=False,
        )


def _is_live(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/health/live", timeout=2) as response:  # noqa: S310 - our own http URL
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=SHUTDOWN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=SHUTDOWN_TIMEOUT_S)


def _start_server(workdir: Path, log: IO[bytes]) -> tuple[subprocess.Popen[bytes], str]:
    """Start `ess serve` and wait until /health/live answers; fail with the server log otherwise."""
    log_path = Path(log.name)
    for _attempt in range(PORT_ATTEMPTS):
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        log.write(f"=== ess serve on {base_url} ===\n".encode())
        log.flush()
        process = subprocess.Popen(
            _ess("serve"), env=_server_env(workdir, port), cwd=workdir, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            if _is_live(base_url):
                return process, base_url
            time.sleep(0.1)
        exit_code = process.poll()
        _stop(process)
        if exit_code is None:
            problem = f"did not answer {base_url}/health/live within {STARTUP_TIMEOUT_S:.0f} s"
            break
        problem = f"exited with code {exit_code} before answering {base_url}/health/live"
        if b"address already in use" not in log_path.read_bytes().lower():
            break  # died for a reason a new port will not cure
    log.flush()
    pytest.fail(
        f"ess serve {problem}.\n"
        f"--- server log ({log_path}) ---\n{log_path.read_text(encoding='utf-8', errors='replace')}",
        pytrace=False,
    )


@contextmanager
def running_ess(prefix: str = "ess-e2e-") -> Iterator[str]:
    """A real `ess serve` with the demo company (every account has DEMO_PASSWORD), on a free port, with its own
    database, sessions and mail folder; yields its base URL and stops it afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        workdir = Path(tmp)
        setup_env = _server_env(workdir, port=0)
        _run_cli(["db", "upgrade"], setup_env, workdir)
        _run_cli(["demo", "seed"], setup_env, workdir)
        with (workdir / "server.log").open("wb") as log:
            process, base_url = _start_server(workdir, log)
            try:
                yield base_url
            finally:
                _stop(process)


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """The base URL of a real ESS with the demo company, shared by the browser tests."""
    with running_ess() as base_url:
        yield base_url


# Module scope, not session: while the sync API is active, its event loop counts as the thread's running loop,
# so every later asyncio.run() in the same pytest process (the unit and HTTP tests) would fail.
@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """Headless Debian Chromium, shared by the tests of one module (each test gets its own context)."""
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def context(browser: Browser, live_server: str) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) that asks for German, like most of the company's browsers."""
    context = browser.new_context(base_url=live_server, locale="de-DE", viewport={"width": 1280, "height": 800})
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Screenshots land here (git-ignored) for people to look at after a run."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR


# --- The in-process app over HTTP (test_http.py, test_vacation_http.py) ---------------------------------------------

DEMO_COMPANY = Path(__file__).resolve().parents[2] / "ess" / "demo" / "company.csv"
DEMO_PASSWORD = "demo-passwort-2026"


async def seed(settings: Settings) -> None:
    """The demo company, and accounts for anna.schmidt, markus.weber and admin."""
    container = build_container(settings)
    try:
        await import_employees(
            ImportEmployees(records=read_hr_file(DEMO_COMPANY), source_name="company.csv", actor="test"),
            deps=container.hr_import,
        )
        assert container.local_directory is not None
        for login, groups in (("anna.schmidt", []), ("markus.weber", []), ("admin", ["ess-admins"])):
            await container.local_directory.provision(login, password=DEMO_PASSWORD, groups=groups)
    finally:
        await container.close()


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    settings = make_settings(sqlite_url)
    asyncio.run(seed(settings))
    return settings


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client
