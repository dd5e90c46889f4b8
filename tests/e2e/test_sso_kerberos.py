"""Windows integrated login (Kerberos through SPNEGO) against the Samba AD DC's KDC: a service principal and keytab
made there with samba-tool, tickets from `kinit`, then the real `ess serve` (demo company on the local directory)
signs in a client that sends what a browser sends (an SPNEGO token from python-gssapi), and headless Chromium signs
in with a ticket from `kinit` without a password typed; a browser without a ticket gets the form; a garbage token and
a disabled account are refused in plain words; the audit says "kerberos"."""

from __future__ import annotations

import base64
import json
import os
import re
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import gssapi
import httpx
import pytest
from playwright.sync_api import Page, Playwright, expect

from tests.e2e.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DEMO_PASSWORD,
    STARTUP_TIMEOUT_S,
    _ess,
    _is_live,
    _run_cli,
    _server_env,
    _stop,
)
from tests.harness.directory import DirectoryServer
from tests.harness.ports import free_port
from tests.harness.samba_ad import REALM, SambaADServer

HOST = "ess.ess.test"
SPN = f"HTTP/{HOST}"
USER_PASSWORD = "Kerberos-Pass-2026!"
SPNEGO = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")


@dataclass
class KerberosWorld:
    base_url: str
    workdir: Path
    krb5_conf: Path
    database: Path

    def kinit(self, login: str) -> Path:
        """A ticket cache for `login`, as a Windows logon would leave one."""
        cache = self.workdir / f"ccache-{login}-{time.monotonic_ns()}"
        argv = ["kinit", f"{login}@{REALM}"]
        env = {**os.environ, "KRB5_CONFIG": str(self.krb5_conf), "KRB5CCNAME": f"FILE:{cache}"}
        for _attempt in range(20):  # the KDC starts with the LDAP service; give it a moment
            result = subprocess.run(
                argv, input=USER_PASSWORD + "\n", env=env, capture_output=True, text=True, timeout=30, check=False
            )
            if result.returncode == 0:
                return cache
            time.sleep(0.5)
        pytest.fail(f"kinit {login} failed: {result.stderr}")

    def negotiate_header(self, cache: Path) -> str:
        """What a browser sends: an SPNEGO token for HTTP@ess.ess.test from this ticket cache (python-gssapi)."""
        os.environ["KRB5_CONFIG"] = str(self.krb5_conf)
        credentials = gssapi.Credentials(usage="initiate", store={"ccache": f"FILE:{cache}"})
        context = gssapi.SecurityContext(
            name=gssapi.Name(f"HTTP@{HOST}", gssapi.NameType.hostbased_service),
            creds=credentials,
            usage="initiate",
            mech=SPNEGO,
        )
        token = context.step()
        assert token
        return "Negotiate " + base64.b64encode(token).decode("ascii")

    def audit(self) -> list[tuple[str, str, dict[str, str]]]:
        with sqlite3.connect(self.database) as db:
            rows = db.execute("SELECT actor, outcome, details FROM audit_events WHERE action = 'auth.login'").fetchall()
        return [(actor, outcome, json.loads(details)) for actor, outcome, details in rows]


@pytest.fixture(scope="module")
def world(samba: DirectoryServer) -> Iterator[KerberosWorld]:
    """The run's Samba AD DC (there can only be one: its ports are fixed), which is also a KDC."""
    dc = samba
    assert isinstance(dc, SambaADServer)
    with tempfile.TemporaryDirectory(prefix="ess-krb-") as tmp:
        workdir = Path(tmp)
        for login, first, last in (("markus.weber", "Markus", "Weber"), ("sophie.becker", "Sophie", "Becker")):
            dc.add_user(login, USER_PASSWORD, given_name=first, surname=last, mail=f"{login}@ess.test")
        keytab = workdir / "ess.keytab"
        dc.service_keytab("ess-http", "Http-Service-2026!", SPN, keytab)
        krb5_conf = dc.krb5_conf(workdir / "krb5.conf")
        port = free_port()
        base_url = f"http://{HOST}:{port}"
        env = {
            **_server_env(workdir, port),
            "ESS_BASE_URL": base_url,
            "ESS_SSO__KERBEROS__KEYTAB": str(keytab),
            "ESS_SSO__KERBEROS__SERVICE_PRINCIPAL": f"{SPN}@{REALM}",
            "ESS_SSO__KERBEROS__REALMS": json.dumps([REALM]),
            "KRB5_CONFIG": str(krb5_conf),
            # The acceptor's replay cache (a ticket counts once), in the test's folder rather than /var/tmp.
            "KRB5RCACHEDIR": str(workdir),
        }
        _run_cli(["db", "upgrade"], env, workdir)
        _run_cli(["demo", "seed"], env, workdir)
        log_path = workdir / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(_ess("serve"), env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + STARTUP_TIMEOUT_S
                while not _is_live(f"http://127.0.0.1:{port}"):
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"ess serve did not start:\n{log_path.read_text(errors='replace')}")
                    time.sleep(0.1)
                yield KerberosWorld(base_url, workdir, krb5_conf, workdir / "ess.db")
            finally:
                _stop(process)


def client_for(world: KerberosWorld) -> httpx.Client:
    port = int(world.base_url.rsplit(":", 1)[1])
    # ess.ess.test is not in DNS: talk to 127.0.0.1 with the Host header the SPN is made for.
    return httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Host": f"{HOST}:{port}"}, timeout=30)


def test_a_browser_without_a_ticket_is_asked_for_one_and_shown_the_form(world: KerberosWorld) -> None:
    with client_for(world) as client:
        answer = client.get("/login")
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == "Negotiate"
        assert 'name="password"' in answer.text
        # Right after a logout no ticket is asked for (it would sign the person in again at once).
        assert client.get("/login", params={"logged_out": "1"}).status_code == 200


def test_a_kerberos_ticket_signs_in_and_is_audited(world: KerberosWorld) -> None:
    header = world.negotiate_header(world.kinit("markus.weber"))
    with client_for(world) as client:
        answer = client.get("/login", params={"next": "/profile"}, headers={"Authorization": header})
        assert answer.status_code == 303, answer.text[:400]
        assert answer.headers["location"] == "/profile"
        assert client.get("/profile").status_code == 200
    assert ("markus.weber", "success", {"channel": "web", "method": "kerberos"}) in world.audit()


@contextmanager
def kerberos_chromium(
    playwright: Playwright, world: KerberosWorld, profile: Path, cache: Path | None
) -> Iterator[Page]:
    """Headless Chromium as a domain PC's browser: its Kerberos ticket cache is `cache` (None: no ticket at all).

    What Debian's Chromium needs beyond --auth-server-allowlist, set in the test's own profile (nothing machine-wide):
    - Local State `net.received_http_auth_negotiate_headers`: Chromium on Linux loads the GSSAPI library only once it
      has seen a Negotiate challenge in an earlier session (the first one is answered ERR_UNSUPPORTED_AUTH_SCHEME,
      remembered, and the network service restarted);
    - Local State `auth.disable_negotiate_cname_lookup` (policy DisableAuthNegotiateCnameLookup): the host name is
      mapped to 127.0.0.1 by --host-resolver-rules, so a canonical-name look-up would ask for HTTP@127.0.0.1.
    """
    profile.mkdir()
    local_state = {
        "net": {"received_http_auth_negotiate_headers": True},
        "auth": {"disable_negotiate_cname_lookup": True},
    }
    (profile / "Local State").write_text(json.dumps(local_state), encoding="utf-8")
    env = {name: value for name, value in os.environ.items() if not name.startswith("KRB5")}
    env["KRB5_CONFIG"] = str(world.krb5_conf)
    env["KRB5CCNAME"] = f"FILE:{cache if cache is not None else profile / 'no-ticket'}"
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {HOST} 127.0.0.1", f"--auth-server-allowlist={HOST}"],
        env=env,
        headless=True,
        base_url=world.base_url,
        locale="de-DE",
    )
    try:
        yield context.pages[0] if context.pages else context.new_page()
    finally:
        context.close()


@pytest.mark.browser
def test_chromium_with_a_ticket_signs_in_without_a_password(
    world: KerberosWorld, playwright_instance: Playwright, tmp_path: Path
) -> None:
    cache = world.kinit("markus.weber")
    before = world.audit().count(("markus.weber", "success", {"channel": "web", "method": "kerberos"}))
    with kerberos_chromium(playwright_instance, world, tmp_path / "profile", cache) as page:
        answer = page.goto("/login?next=/profile")
        assert answer is not None
        assert answer.status == 200
        expect(page).to_have_url(re.compile(r"/profile$"))
        expect(page.locator("#password")).to_have_count(0)
        page.goto("/profile")  # the session holds
        expect(page).to_have_url(re.compile(r"/profile$"))
    after = world.audit().count(("markus.weber", "success", {"channel": "web", "method": "kerberos"}))
    assert after == before + 1


@pytest.mark.browser
def test_chromium_without_a_ticket_shows_the_form_and_signs_in_with_the_password(
    world: KerberosWorld, playwright_instance: Playwright, tmp_path: Path
) -> None:
    with kerberos_chromium(playwright_instance, world, tmp_path / "profile", None) as page:
        answer = page.goto("/login")
        assert answer is not None
        assert answer.status == 401  # asked for a ticket, had none: the 401's page is the form
        page.locator("#username").fill("markus.weber")
        page.locator("#password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name=re.compile(r"^(Anmelden|Log in)$")).click()
        page.wait_for_url(lambda url: urlsplit(url).path != "/login")
    assert ("markus.weber", "success", {"channel": "web", "method": "password"}) in world.audit()


def test_a_garbage_token_is_refused_in_plain_words(world: KerberosWorld) -> None:
    with client_for(world) as client:
        garbage = client.get("/login", headers={"Authorization": "Negotiate " + base64.b64encode(b"x" * 64).decode()})
        assert garbage.status_code == 401
        assert "nicht prüfen" in garbage.text or "could not verify" in garbage.text
        assert "www-authenticate" not in garbage.headers  # no loop: the form is shown with the reason

    assert {d.get("reason") for actor, _, d in world.audit() if d.get("method") == "kerberos"} >= {"forged"}


def test_a_disabled_account_cannot_sign_in_with_its_ticket(world: KerberosWorld) -> None:
    header = world.negotiate_header(world.kinit("sophie.becker"))
    with sqlite3.connect(world.database) as db:
        db.execute("UPDATE local_accounts SET disabled = 1 WHERE login = 'sophie.becker'")
    with client_for(world) as client:
        answer = client.get("/login", headers={"Authorization": header})
        assert answer.status_code == 401
        assert "deaktiviert" in answer.text or "disabled" in answer.text
    assert ("sophie.becker", "denied", {"channel": "web", "method": "kerberos", "reason": "disabled"}) in world.audit()
