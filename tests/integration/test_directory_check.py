"""`ess directory check` against a real slapd: what works, what does not, and the exit status."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_ENV
from tests.harness.directory import DirectoryServer
from tests.harness.slapd import SlapdServer


@pytest.fixture(scope="module", autouse=True)
def probe_user(slapd: SlapdServer) -> None:
    slapd.add_user("probe.user", "Startpasswort 2026", given_name="Probe", surname="User", mail="p@example.test")


def check(tmp_path: Path, slapd: SlapdServer, *args: str, **overrides: str) -> subprocess.CompletedProcess[str]:
    endpoint = slapd.endpoint
    env = {
        **os.environ,
        **TEST_ENV,
        "ESS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ess.db'}",
        "ESS_DIRECTORY__KIND": "openldap",
        "ESS_DIRECTORY__LDAP__URIS": f'["{endpoint.uris[0]}"]',
        "ESS_DIRECTORY__LDAP__CA_FILE": str(endpoint.ca_file),
        "ESS_DIRECTORY__LDAP__BIND_DN": endpoint.bind_dn,
        "ESS_DIRECTORY__LDAP__BIND_PASSWORD": endpoint.bind_password,
        "ESS_DIRECTORY__LDAP__USER_BASE_DN": endpoint.user_base_dn,
        "ESS_DIRECTORY__LDAP__GROUP_BASE_DN": endpoint.group_base_dn,
        "ESS_DIRECTORY__LDAP__ATTRIBUTES": '{"work_phone": "telephoneNumber", "last_name": "sn"}',
        **overrides,
    }
    return subprocess.run(
        [sys.executable, "-m", "ess.cli", "directory", "check", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def lines(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    return {line[5:].split(" - ")[0]: line[:4].strip() for line in result.stdout.splitlines() if line.strip()}


def test_a_working_setup_and_a_right_the_service_account_lacks(tmp_path: Path, slapd: SlapdServer) -> None:
    result = check(tmp_path, slapd, "--login", "probe.user")
    seen = lines(result)
    assert seen[f"connect + TLS {slapd.endpoint.uris[0]}"] == "ok"
    assert seen["service account bind"] == "ok"
    assert seen["find account 'probe.user'"] == "ok"
    assert seen["right to reset passwords"] == "ok"
    assert seen["right to unlock"] == "ok"
    assert seen["right to write telephoneNumber (work_phone)"] == "ok"
    # The harness grants no write access to sn: the check must say so and fail.
    assert seen["right to write sn (last_name)"] == "FAIL"
    assert result.returncode == 1


def test_all_green_exits_zero(tmp_path: Path, slapd: SlapdServer) -> None:
    result = check(
        tmp_path, slapd, "--login", "probe.user", ESS_DIRECTORY__LDAP__ATTRIBUTES='{"work_phone": "telephoneNumber"}'
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout


def test_a_wrong_service_password_and_an_untrusted_certificate_fail(tmp_path: Path, slapd: SlapdServer) -> None:
    wrong = check(tmp_path, slapd, ESS_DIRECTORY__LDAP__BIND_PASSWORD="not-the-password")
    assert wrong.returncode == 1
    assert lines(wrong)["service account bind"] == "FAIL"
    assert "not-the-password" not in wrong.stdout + wrong.stderr
    untrusted = check(tmp_path, slapd, ESS_DIRECTORY__LDAP__CA_FILE="/etc/ssl/certs/ca-certificates.crt")
    assert untrusted.returncode == 1
    assert lines(untrusted)[f"connect + TLS {slapd.endpoint.uris[0]}"] == "FAIL"


def test_active_directory_rights_and_the_missing_policy_hints(tmp_path: Path, samba: DirectoryServer) -> None:
    endpoint = samba.endpoint
    samba.add_user("probe.ad", "Startpasswort 2026", given_name="Probe", surname="Ad", mail="probe.ad@example.test")
    env = {
        **os.environ,
        **TEST_ENV,
        "ESS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ess.db'}",
        "ESS_DIRECTORY__KIND": "activedirectory",
        "ESS_DIRECTORY__LDAP__URIS": f'["{endpoint.uris[0]}"]',
        "ESS_DIRECTORY__LDAP__START_TLS": "false",
        "ESS_DIRECTORY__LDAP__CA_FILE": str(endpoint.ca_file),
        "ESS_DIRECTORY__LDAP__BIND_DN": endpoint.bind_dn,
        "ESS_DIRECTORY__LDAP__BIND_PASSWORD": endpoint.bind_password,
        "ESS_DIRECTORY__LDAP__USER_BASE_DN": endpoint.user_base_dn,
        "ESS_DIRECTORY__LDAP__GROUP_BASE_DN": endpoint.group_base_dn,
        "ESS_DIRECTORY__LDAP__USER_FILTER": endpoint.user_filter,
        "ESS_DIRECTORY__LDAP__LOGIN_ATTRIBUTE": endpoint.login_attribute,
        "ESS_DIRECTORY__LDAP__ATTRIBUTES": '{"work_phone": "telephoneNumber", "work_email": "mail"}',
    }
    result = subprocess.run(
        [sys.executable, "-m", "ess.cli", "directory", "check", "--login", "probe.ad"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    seen = lines(result)
    assert seen["right to reset passwords"] == "ok"
    assert seen["right to unlock"] == "ok"
    assert seen["right to write telephoneNumber (work_phone)"] == "ok"
    assert seen["right to write mail (work_email)"] == "FAIL"  # not delegated by the harness
    assert seen["password history on resets (policy hints control)"] == "?"  # Samba 4.17 lacks it
    assert result.returncode == 1
