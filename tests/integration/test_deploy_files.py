"""The deployment files in deploy/, checked as far as this machine allows (no container engine runs here): the
compose setup's ESS configuration loads, its directory seed works against a real slapd, every systemd job runs an
existing `ess` command and every daily job has a timer, and the image copies what exists."""

from __future__ import annotations

import configparser
import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import ldap3
import yaml

from ess.settings import load_settings
from tests.harness.directory import DirectoryServer

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# The jobs operators must schedule (docs/operations.md); the outbox worker runs inside `ess serve`.
SCHEDULED_JOBS = {
    "profile apply-due",
    "vacation expire",
    "password remind",
    "vacation grant",
    "vacation close-year",
    "vacation send-warnings",
    "retention run",
    "help-requests daily",
    "vacation remind",
}


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    return parser


def _ess_command(exec_start: str) -> str:
    """`vacation grant` from `/opt/ess/.venv/bin/ess vacation grant ...` (also inside `sh -c '...'`)."""
    words = shlex.split(exec_start.replace("$$", "$").replace("%%", "%"))
    if words[0] == "/bin/sh":
        words = shlex.split(words[2])[1:]  # after "exec"
    assert words[0].endswith("/ess"), exec_start
    return " ".join(word for word in words[1:3] if not word.startswith(("$", '"')))


def test_every_scheduled_job_has_a_timer_and_runs_an_existing_command() -> None:
    services = sorted((DEPLOY / "systemd").glob("ess-*.service"))
    commands = {}
    for service in services:
        timer = service.with_suffix(".timer")
        assert timer.is_file(), f"{service.name} has no timer"
        assert _unit(timer)["Timer"]["Persistent"] == "true"
        commands[_ess_command(_unit(service)["Service"]["ExecStart"])] = service.name
    assert set(commands) == SCHEDULED_JOBS
    for command in commands:
        result = subprocess.run(
            [sys.executable, "-m", "ess.cli", *command.split(), "--help"], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
    server = _unit(DEPLOY / "systemd" / "ess.service")["Service"]
    assert server["ExecStart"].endswith("/ess serve")
    assert server["KillSignal"] == "SIGTERM"
    assert int(server["TimeoutStopSec"]) > 30  # longer than server.graceful_shutdown_seconds


def test_the_compose_configuration_is_one_ess_accepts() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"postgres", "valkey", "openldap", "ldap-seed", "migrate", "ess-1", "ess-2"} <= set(services)
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (DEPLOY / source).is_file(), f"{name} mounts missing {source}"
    assert services["ess-1"]["read_only"] is True
    settings = load_settings(
        DEPLOY / "compose" / "ess.toml",
        environ={
            "ESS_SECRET_KEY": "compose-secret-key-0123456789-abcdefghij",
            "ESS_DATABASE_URL": "postgresql+asyncpg://ess:pw-0123456789@postgres:5432/ess",
            "ESS_SESSIONS__PASSWORD": "valkey-password-0123456789",
            "ESS_DIRECTORY__LDAP__BIND_PASSWORD": "service-password-0123456789",
            "ESS_METRICS__TOKEN": "metrics-token-0123456789abcdef",
        },
    )
    assert (settings.mode, settings.sessions.store, settings.server.workers) == ("production", "redis", 2)


def test_the_image_copies_what_the_repository_has() -> None:
    text = (DEPLOY / "Containerfile").read_text(encoding="utf-8")
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", text, flags=re.MULTILINE):
        for name in source.split():
            assert (ROOT / name).exists(), f"COPY of missing {name}"
    assert re.search(r"^USER 10001:10001$", text, flags=re.MULTILINE)
    assert "HEALTHCHECK" in text
    assert "/health/live" in text


def _seed_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("seed_ldap", DEPLOY / "compose" / "seed_ldap.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_directory_seed_loads_the_demo_company_and_can_run_again(slapd: DirectoryServer) -> None:
    endpoint = slapd.endpoint
    base = "ou=compose-seed,dc=example,dc=test"  # a subtree of its own in the run's shared slapd
    server = ldap3.Server(endpoint.uris[0], get_info=ldap3.NONE)
    admin = ldap3.Connection(server, endpoint.admin_dn, endpoint.admin_password)
    try:
        assert admin.bind()
        admin.add(base, ["organizationalUnit"], {"ou": "compose-seed"})
        environ = {
            "LDAP_URI": endpoint.uris[0],
            "LDAP_BASE_DN": base,
            "LDAP_ADMIN_DN": endpoint.admin_dn,
            "LDAP_ADMIN_PASSWORD": endpoint.admin_password,
            "ESS_DIRECTORY__LDAP__BIND_PASSWORD": "compose-service-password",
        }
        seed = _seed_module().seed
        assert seed(environ) == 64
        assert seed(environ) == 64  # every `compose up` runs it; existing entries stay as they are
        assert _binds(server, f"uid=anna.schmidt,ou=people,{base}", "demo-passwort-2026")
        assert _binds(server, f"cn=ess-service,ou=services,{base}", "compose-service-password")
        admin.search(f"ou=groups,{base}", "(cn=ess-hr)", attributes=["member"])
        assert len(admin.entries) == 1
        assert admin.entries[0].member.values
    finally:
        admin.unbind()


def _binds(server: ldap3.Server, dn: str, password: str) -> bool:
    connection = ldap3.Connection(server, dn, password)
    try:
        return bool(connection.bind())
    finally:
        connection.unbind()  # also after a failed bind, which leaves its socket open otherwise
