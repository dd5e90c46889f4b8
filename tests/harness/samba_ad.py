"""A throwaway Samba Active Directory domain controller for tests (Debian ``samba`` 4.17, run as root).

Usage::

    with running_samba_ad() as dc:
        dn = dc.add_user("anna", "Start-Pass-1", given_name="Anna", surname="Muster", mail="anna@ess.test")
        endpoint = dc.endpoint  # ldaps://127.0.0.1:636, validated against endpoint.ca_file

The domain (realm ``ESS.TEST``, NetBIOS ``ESS``) is provisioned **once per process** into a template
directory (``samba-tool domain provision`` takes ~9 s), then every ``running_samba_ad()`` copies that
tree and writes a fresh ``smb.conf`` whose paths all point into the copy; the LDB databases hold no
absolute paths. Nothing is read from or written to ``/etc/samba`` or ``/var/lib/samba``.

The template already holds:

- a test-friendly password policy: no complexity, minimum length 8, history 3, minimum age 0,
  maximum age 90 days, lockout after 5 bad passwords for 5 minutes (counter reset after 5 minutes);
- ``OU=Staff`` (users made by :meth:`SambaADServer.add_user`) and ``OU=Groups`` (their groups);
- the service account ``CN=ess-service,CN=Users`` with rights **delegated on OU=Staff only**
  (inherit-only ACEs for user objects, set with ``samba-tool dsacl set``): the *Reset Password*
  extended right, and write access to ``lockoutTime``, ``pwdLastSet``, ``telephoneNumber``,
  ``mobile``, ``displayName``, ``streetAddress``, ``postalCode`` and ``l``. It cannot touch
  ``mail`` or ``userAccountControl``, nor anyone outside OU=Staff (so Administrator behaves like a
  protected account). Membership of *Account Operators* was rejected: on Samba it lets the account
  reset the Administrator's password (Samba runs no AdminSDHolder/SDProp), which real AD forbids.

Only the ``ldap`` server service runs (no KDC, DNS, SMB or RPC): simple binds over LDAPS are all ESS
needs (plain 389 answers ``strongerAuthRequired``). Samba serves our own test certificate
(``tests.harness.tls``; the key must be mode 0600 or samba refuses to start LDAP), so clients validate
the chain. The LDAP ports are fixed by Samba (389, 636, 3268, 3269 on 127.0.0.1 and ::1): only one DC
can run at a time, and starting fails early with a clear message if one of them is taken.
``old password allowed period = 0``: Samba's default (60 min) accepts the previous password even on
LDAP simple binds after a change or reset, which Windows AD does not.

Samba 4.17 behaviour, pinned by ``tests/integration/test_harness_samba.py``:

- failed binds: result 49, message ``80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext
  error, data <code>, v1db1`` with 52e (wrong password, and also unknown user: never 525), 533 disabled,
  773 must change (pwdLastSet=0), 775 locked. 533 and 773 only come with the right password, else 52e;
- lockout: the 5th bad bind still answers 52e (and locks); later binds answer 775, right password or not.
  ``msDS-User-Account-Control-Computed`` has 0x10; ``lockoutTime=0`` unlocks. A wrong password equal to
  one of the two previous passwords does not count towards ``badPwdCount``;
- policy rejections: ``constraintViolation``, ``0000052D: Constraint violation - check_password_restrictions:
  the password is too short...`` / ``...was already used (in history)!``; a self change with a wrong old
  password: ``constraintViolation``, ``00000056: ... The old password specified doesn't match!``;
- resets never check the history, and LDAP_SERVER_POLICY_HINTS (``1.2.840.113556.1.4.2239``, nor the
  deprecated ``.2066``) is not supported: sent critical it fails with ``unavailableCriticalExtension``
  (ldap3 shows the result as type ``extendedResp``), sent non-critical it is ignored;
- ``msDS-UserPasswordExpiryTimeComputed`` is readable by the service account and the user
  (pwdLastSet + 90 days in FILETIME ticks; 0 when the password must change).

ldap3 2.9.1 notes: validating a certificate calls the deprecated ``ssl.match_hostname`` (silenced around
the harness's own connections); a failed connect or TLS handshake leaks the socket (closed here); without
TCP_NODELAY the first request after the TLS handshake waits ~40 ms for a delayed ACK.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ldap3 import MODIFY_ADD, MODIFY_REPLACE, NONE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

from tests.harness.directory import DirectoryEndpoint
from tests.harness.tls import TestCertificates, make_certificates

__all__ = [
    "ADMIN_DN",
    "ADMIN_PASSWORD",
    "BASE_DN",
    "GROUP_BASE_DN",
    "SERVICE_DN",
    "SERVICE_PASSWORD",
    "USER_BASE_DN",
    "SambaADServer",
    "discard_template",
    "running_samba_ad",
]

REALM = "ESS.TEST"
DNS_DOMAIN = "ess.test"
NETBIOS_DOMAIN = "ESS"
HOST_NAME = "dc1"
HOST = "127.0.0.1"
BASE_DN = "DC=ess,DC=test"
USER_BASE_DN = f"OU=Staff,{BASE_DN}"
GROUP_BASE_DN = f"OU=Groups,{BASE_DN}"
ADMIN_DN = f"CN=Administrator,CN=Users,{BASE_DN}"
ADMIN_PASSWORD = "Admin-Pass-2026!"
SERVICE_LOGIN = "ess-service"
SERVICE_DN = f"CN={SERVICE_LOGIN},CN=Users,{BASE_DN}"
SERVICE_PASSWORD = "Service-Pass-2026!"
USER_FILTER = "(&(objectCategory=person)(objectClass=user))"
LDAPS_PORT = 636
# Samba binds all of these for the "ldap" service; none can be configured.
FIXED_PORTS = (389, LDAPS_PORT, 3268, 3269)
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 15
_TOOL_TIMEOUT_SECONDS = 120
_LOG_TAIL_LINES = 40
_POLL_SECONDS = 0.05
_LOG_NAME = "log.samba"  # what samba names its log inside --log-basename
_UF_NORMAL_ACCOUNT = 512

_PASSWORD_SETTINGS = (
    "--complexity=off",
    "--history-length=3",
    "--min-pwd-length=8",
    "--min-pwd-age=0",
    "--max-pwd-age=90",
    "--account-lockout-threshold=5",
    "--account-lockout-duration=5",
    "--reset-account-lockout-after=5",
)

# What the service account may do on user objects below OU=Staff (inherit-only ACEs on the OU, like the
# "Delegate Control" wizard): name -> (ACE rights, schemaIDGUID of the attribute / rightsGuid of the right).
_USER_CLASS_GUID = "bf967aba-0de6-11d0-a285-00aa003049e2"
_SERVICE_RIGHTS = {
    "Reset Password": ("CR", "00299570-246d-11d0-a768-00aa006e0529"),
    "lockoutTime": ("WP", "28630ebf-41d5-11d1-a9c1-0000f80367c1"),
    "pwdLastSet": ("WP", "bf967a0a-0de6-11d0-a285-00aa003049e2"),
    "telephoneNumber": ("WP", "bf967a49-0de6-11d0-a285-00aa003049e2"),
    "mobile": ("WP", "f0f8ffa3-1191-11d0-a060-00aa006c33ed"),
    "displayName": ("WP", "bf967953-0de6-11d0-a285-00aa003049e2"),
    "streetAddress": ("WP", "f0f8ff84-1191-11d0-a060-00aa006c33ed"),
    "postalCode": ("WP", "bf9679fd-0de6-11d0-a285-00aa003049e2"),
    "l": ("WP", "bf9679a2-0de6-11d0-a285-00aa003049e2"),
}

_template_lock = threading.Lock()
_template_dir: Path | None = None
# Taken while a DC runs, by every test process on this machine (Samba's ports are fixed). Resolved at import, so a
# test session that points TMPDIR at a private folder later (tests/conftest.py) still shares it with the others.
_LOCK_PATH = Path(tempfile.gettempdir()) / "ess-samba-ad.lock"


def _smb_conf(root: Path, certificates: TestCertificates | None, *, kdc: bool = False) -> str:
    """The whole smb.conf of a DC living in ``root`` (provision's own file is replaced); ``kdc`` adds the Kerberos
    KDC (port 88) to the LDAP service, for the single sign-on tests."""
    lines = [
        "[global]",
        f"netbios name = {HOST_NAME.upper()}",
        f"realm = {REALM}",
        f"workgroup = {NETBIOS_DOMAIN}",
        "server role = active directory domain controller",
        "idmap_ldb:use rfc2307 = yes",
        "server services = ldap, kdc" if kdc else "server services = ldap",
        "interfaces = lo",
        "bind interfaces only = yes",
        "unix password sync = no",
        # Samba accepts the previous password for 60 minutes after a change or reset, even on LDAP simple
        # binds (meant for NTLM clients); Windows AD does not on simple binds. Off, so old passwords fail at once.
        "old password allowed period = 0",
        f"private dir = {root}/private",
        f"lock directory = {root}",
        f"state directory = {root}/state",
        f"cache directory = {root}/cache",
        f"pid directory = {root}/run",
        f"binddns dir = {root}/bind-dns",
        f"ncalrpc dir = {root}/ncalrpc",
        f"winbindd socket directory = {root}/winbindd",
        f"ntp signd socket directory = {root}/ntp_signd",
        "logging = file",
        f"log file = {root}/{_LOG_NAME}",
        "max log size = 0",
        "log level = 1",
    ]
    if certificates is not None:
        lines += [
            "tls enabled = yes",
            f"tls keyfile = {certificates.key_file}",
            f"tls certfile = {certificates.cert_file}",
            f"tls cafile = {certificates.ca_file}",
        ]
    return "\n".join(lines) + "\n"


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KRB5", "SMB", "LDB"))}
    env["LC_ALL"] = "C.UTF-8"
    return env


def _log_tail(log_file: Path) -> str:
    try:
        lines = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "(no server log)"
    return "\n".join(lines[-_LOG_TAIL_LINES:]) or "(empty server log)"


def _run(argv: Sequence[str], *, what: str) -> str:
    """Run a command; on failure raise RuntimeError with its output."""
    try:
        result = subprocess.run(
            argv,
            env=_clean_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=_TOOL_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"{what} timed out: {' '.join(argv)}") from exc
    except FileNotFoundError as exc:
        raise RuntimeError(f"{what}: {argv[0]} not found; run scripts/ensure-test-deps.sh") from exc
    output = f"{result.stdout}{result.stderr}".strip()
    if result.returncode != 0:
        tail = "\n".join(output.splitlines()[-_LOG_TAIL_LINES:])
        raise RuntimeError(f"{what} failed (exit {result.returncode}): {' '.join(argv)}\n{tail}")
    return output


def _provision(root: Path) -> None:
    """Provision the domain into ``root`` and add the policy, OUs and service account (offline)."""
    if os.geteuid() != 0:
        raise RuntimeError("the Samba AD DC harness must run as root (samba refuses otherwise)")
    _run(
        [
            "samba-tool", "domain", "provision",
            f"--targetdir={root}",
            f"--realm={REALM}",
            f"--domain={NETBIOS_DOMAIN}",
            "--server-role=dc",
            "--use-rfc2307",
            "--dns-backend=NONE",
            f"--adminpass={ADMIN_PASSWORD}",
            f"--host-name={HOST_NAME}",
            f"--host-ip={HOST}",
            "--option=interfaces=lo",
            "--option=bind interfaces only=yes",
            "--option=server services=ldap",
            "--option=unix password sync=no",
            f"--option=pid directory={root}/run",
            f"--option=ncalrpc dir={root}/ncalrpc",
            f"--option=winbindd socket directory={root}/winbindd",
            f"--option=ntp signd socket directory={root}/ntp_signd",
            f"--option=log file={root}/{_LOG_NAME}",
        ],
        what="samba-tool domain provision (is samba-ad-provision installed?)",
    )  # fmt: skip
    conf = root / "etc" / "smb.conf"
    conf.write_text(_smb_conf(root, None), encoding="utf-8")
    local = ["-H", str(root / "private" / "sam.ldb"), "-s", str(conf)]
    _run(["samba-tool", "domain", "passwordsettings", "set", *local, *_PASSWORD_SETTINGS], what="passwordsettings")
    for ou in (USER_BASE_DN, GROUP_BASE_DN):
        _run(["samba-tool", "ou", "create", ou.removesuffix(f",{BASE_DN}"), *local], what=f"ou create {ou}")
    _run(["samba-tool", "user", "create", SERVICE_LOGIN, SERVICE_PASSWORD, *local], what="create service account")
    _run(["samba-tool", "user", "setexpiry", SERVICE_LOGIN, "--noexpiry", *local], what="service account expiry")
    shown = _run(
        ["samba-tool", "user", "show", SERVICE_LOGIN, "--attributes=objectSid", *local], what="service account SID"
    )
    sid = next((line.split(":", 1)[1].strip() for line in shown.splitlines() if line.startswith("objectSid:")), "")
    if not sid.startswith("S-1-5-21-"):
        raise RuntimeError(f"no objectSid for {SERVICE_LOGIN} in: {shown}")
    aces = "".join(f"(OA;CIIO;{right};{guid};{_USER_CLASS_GUID};{sid})" for right, guid in _SERVICE_RIGHTS.values())
    _run(
        ["samba-tool", "dsacl", "set", f"--objectdn={USER_BASE_DN}", f"--sddl={aces}", *local],
        what="delegate rights on OU=Staff to the service account",
    )


def _template() -> Path:
    """The provisioned domain of this process (made on first use, removed at exit)."""
    global _template_dir  # noqa: PLW0603 - one template per process, by design
    with _template_lock:
        if _template_dir is None:
            root = Path(tempfile.mkdtemp(prefix="ess-samba-template-"))
            atexit.register(shutil.rmtree, root, ignore_errors=True)
            try:
                _provision(root)
            except BaseException:
                shutil.rmtree(root, ignore_errors=True)
                raise
            _template_dir = root
        return _template_dir


def discard_template() -> None:
    """Remove this process's provisioned domain now rather than at exit (the next DC provisions a new one)."""
    global _template_dir  # noqa: PLW0603 - one template per process, by design
    with _template_lock:
        if _template_dir is not None:
            shutil.rmtree(_template_dir, ignore_errors=True)
            _template_dir = None


@contextlib.contextmanager
def _quiet_match_hostname() -> Iterator[None]:
    """ldap3 2.9.1 validates the server name with ssl.match_hostname(), deprecated since Python 3.7."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"ssl\.match_hostname\(\) is deprecated", category=DeprecationWarning)
        yield


def _require_free_ports() -> None:
    """Fail fast and clearly when another DC (or anything else) holds Samba's fixed LDAP ports."""
    busy = []
    for port in FIXED_PORTS:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT leftovers do not count
            try:
                sock.bind((HOST, port))
            except OSError:
                busy.append(port)
    if busy:
        leftovers = "; ".join(f"pid {pid}: {cmdline}" for pid, cmdline in _harness_sambas())
        hint = f" Left over from an aborted test run (kill them): {leftovers}." if leftovers else ""
        raise RuntimeError(
            f"cannot start the Samba AD DC: port(s) {', '.join(map(str, busy))} on {HOST} are in use; only one "
            f"DC can run at a time (see `ss -ltnp`).{hint}"
        )


def _harness_sambas() -> list[tuple[int, str]]:
    """samba processes started by this harness (any test process): named samba, working directory ess-samba-*."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            if (proc / "comm").read_text(encoding="utf-8").strip() == "samba":
                cwd = str((proc / "cwd").readlink())
                if "/ess-samba-" in cwd:
                    found.append((int(proc.name), cwd))
    return found


class SambaADServer:
    """A running (or stopped) Samba AD DC in its own directory. Implements ``DirectoryServer``."""

    def __init__(self, root: Path, certificates: TestCertificates) -> None:
        self._root = root
        self._certificates = certificates
        self._conf = root / "etc" / "smb.conf"
        self._log_file = root / _LOG_NAME
        self._process: subprocess.Popen[bytes] | None = None
        self._endpoint = DirectoryEndpoint(
            kind="activedirectory",
            uris=(f"ldaps://{HOST}:{LDAPS_PORT}",),
            start_tls=False,
            ca_file=certificates.ca_file,
            bind_dn=SERVICE_DN,
            bind_password=SERVICE_PASSWORD,
            user_base_dn=USER_BASE_DN,
            group_base_dn=GROUP_BASE_DN,
            user_filter=USER_FILTER,
            login_attribute="sAMAccountName",
            email_attribute="mail",
            admin_dn=ADMIN_DN,
            admin_password=ADMIN_PASSWORD,
        )

    @property
    def endpoint(self) -> DirectoryEndpoint:
        return self._endpoint

    @property
    def root(self) -> Path:
        """The DC's directory (``private/sam.ldb``, ``etc/smb.conf``, ``log.samba``)."""
        return self._root

    @property
    def log_file(self) -> Path:
        return self._log_file

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def ldap_server(self, *, connect_timeout: int = 5) -> Server:
        """An ldap3 ``Server`` for the LDAPS endpoint that validates the test CA."""
        tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(self._certificates.ca_file))
        return Server(self._endpoint.uris[0], tls=tls, get_info=NONE, connect_timeout=connect_timeout)

    def connect(self, user: str, password: str | bytes) -> Connection:
        """A CA-validated LDAPS connection after one simple bind attempt: check ``.bound`` and ``.result``.

        ``raise_exceptions=False``; the caller must ``unbind()`` it, bound or not.
        """
        conn = Connection(self.ldap_server(), user=user, password=password, raise_exceptions=False, receive_timeout=30)
        with _quiet_match_hostname():
            try:
                conn.open()
            except LDAPException:
                if conn.socket is not None:  # ldap3 leaks the socket when the connect or TLS handshake fails
                    conn.socket.close()
                raise
            # Without TCP_NODELAY the first request after the TLS handshake waits ~40 ms for a delayed ACK.
            conn.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.bind()
        return conn

    def admin_connection(self) -> Connection:
        conn = self.connect(ADMIN_DN, ADMIN_PASSWORD)
        if not conn.bound:
            raise RuntimeError(f"Administrator bind failed: {conn.result}")
        return conn

    # --- DirectoryServer -------------------------------------------------------------------------

    def add_user(
        self,
        login: str,
        password: str,
        *,
        given_name: str,
        surname: str,
        mail: str,
        groups: Sequence[str] = (),
        attributes: dict[str, str] | None = None,
    ) -> str:
        """Create an enabled user in OU=Staff (cn = login unless ``attributes`` has ``cn``); returns its DN."""
        extra = dict(attributes or {})
        cn = extra.pop("cn", login)
        dn = f"CN={escape_rdn(cn)},{USER_BASE_DN}"
        entry: dict[str, Any] = {
            "cn": cn,
            "sAMAccountName": login,
            "userPrincipalName": f"{login}@{DNS_DOMAIN}",
            "givenName": given_name,
            "sn": surname,
            "displayName": f"{given_name} {surname}",
            "mail": mail,
            **extra,
        }
        conn = self.admin_connection()
        try:
            _check(conn, conn.add(dn, ["top", "person", "organizationalPerson", "user"], entry), f"add {dn}")
            _check(conn, conn.extend.microsoft.modify_password(dn, password), f"set password of {dn}")
            _check(
                conn,
                conn.modify(dn, {"userAccountControl": [(MODIFY_REPLACE, [str(_UF_NORMAL_ACCOUNT)])]}),
                f"enable {dn}",
            )
            for group in groups:
                group_dn = self._ensure_group(conn, group)
                _check(conn, conn.modify(group_dn, {"member": [(MODIFY_ADD, [dn])]}), f"add {dn} to {group_dn}")
        finally:
            conn.unbind()
        return dn

    def force_must_change(self, login: str) -> None:
        """Flag the account "must change the password at next logon" (pwdLastSet=0), as an administrator would."""
        conn = self.admin_connection()
        try:
            dn = self._user_dn(conn, login)
            _check(conn, conn.modify(dn, {"pwdLastSet": [(MODIFY_REPLACE, ["0"])]}), f"set pwdLastSet=0 on {dn}")
        finally:
            conn.unbind()

    def samba_tool(self, *args: str, database: bool = True) -> str:
        """``samba-tool ARGS`` on this DC's own database (where the command takes -H) and configuration."""
        local = [*(["-H", str(self._root / "private" / "sam.ldb")] if database else []), "-s", str(self._conf)]
        return _run(["samba-tool", *args, *local], what=f"samba-tool {' '.join(args[:2])}")

    def service_keytab(self, account: str, password: str, spn: str, keytab: Path) -> None:
        """A service account with the SPN (e.g. HTTP/ess.ess.test) and a keytab with its keys, as an AD
        administrator makes them for a web server (docs/sso.md)."""
        self.samba_tool("user", "create", account, password)
        self.samba_tool("user", "setexpiry", account, "--noexpiry")
        self.samba_tool("spn", "add", spn, account)
        self.samba_tool("domain", "exportkeytab", str(keytab), f"--principal={spn}", database=False)

    def krb5_conf(self, path: Path, *, host_realms: Sequence[str] = ()) -> Path:
        """A krb5.conf for clients of this realm (KDC on 127.0.0.1:88, no DNS look-ups)."""
        mapping = "".join(f"  {host} = {REALM}\n" for host in (f".{DNS_DOMAIN}", DNS_DOMAIN, *host_realms))
        path.write_text(
            "[libdefaults]\n"
            f"  default_realm = {REALM}\n"
            "  dns_lookup_kdc = false\n  dns_lookup_realm = false\n  rdns = false\n"
            "  dns_canonicalize_hostname = false\n  udp_preference_limit = 0\n"
            f"[realms]\n  {REALM} = {{\n    kdc = {HOST}:88\n  }}\n"
            f"[domain_realm]\n{mapping}",
            encoding="utf-8",
        )
        return path

    def stop(self) -> None:
        """Stop the DC (the data stays); a no-op when it is not running."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def start(self) -> None:
        """Start the DC on the fixed ports and wait until an LDAPS bind as Administrator works."""
        if self.running:
            return
        _require_free_ports()
        with (self._root / "samba.stdout").open("ab") as out:
            self._process = subprocess.Popen(
                # --log-basename: otherwise samba creates /var/log/samba/log.samba before reading smb.conf.
                ["samba", "--foreground", "--model=single", "-s", str(self._conf), f"--log-basename={self._root}"],
                cwd=self._root,  # lets _harness_sambas() recognise a leftover (samba rewrites its argv)
                env=_clean_env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches pytest only, whose teardown stops samba in order
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        last = "no attempt"
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"samba exited with code {self._process.returncode} while starting\n{self._diagnostics()}"
                )
            try:
                # A plain TCP probe first: cheaper than ldap3 while nothing listens yet.
                with socket.create_connection((HOST, LDAPS_PORT), timeout=1):
                    pass
                conn = self.connect(ADMIN_DN, ADMIN_PASSWORD)
            except (OSError, LDAPException) as exc:
                last = repr(exc)
            else:
                bound = bool(conn.bound)
                last = str(conn.result)
                with contextlib.suppress(LDAPException):
                    conn.unbind()
                if bound:
                    return
            time.sleep(_POLL_SECONDS)
        raise RuntimeError(
            f"samba did not accept an LDAPS bind within {START_TIMEOUT_SECONDS} s (last: {last})\n{self._diagnostics()}"
        )

    def _diagnostics(self) -> str:
        return (
            f"--- {self._log_file} ---\n{_log_tail(self._log_file)}\n"
            f"--- {self._root / 'samba.stdout'} ---\n{_log_tail(self._root / 'samba.stdout')}"
        )

    def _user_dn(self, conn: Connection, login: str) -> str:
        user_filter = f"(&{USER_FILTER}(sAMAccountName={escape_filter_chars(login)}))"
        conn.search(USER_BASE_DN, user_filter, attributes=["cn"])
        entries = [entry for entry in conn.response if entry.get("type") == "searchResEntry"]
        if len(entries) != 1:
            raise RuntimeError(f"expected one user {login!r} in {USER_BASE_DN}, found {len(entries)}: {conn.result}")
        dn: str = entries[0]["dn"]
        return dn

    def _ensure_group(self, conn: Connection, name: str) -> str:
        group_dn = f"CN={escape_rdn(name)},{GROUP_BASE_DN}"
        conn.search(group_dn, "(objectClass=group)", search_scope="BASE", attributes=["cn"])
        if conn.result["result"] == 0 and conn.entries:
            return group_dn
        _check(
            conn,
            conn.add(group_dn, ["top", "group"], {"cn": name, "sAMAccountName": name}),
            f"add group {group_dn}",
        )
        return group_dn


def _check(conn: Connection, ok: object, what: str) -> None:
    if not ok:
        raise RuntimeError(f"{what} failed: {conn.result}")


@contextlib.contextmanager
def running_samba_ad(*, kdc: bool = False) -> Iterator[SambaADServer]:
    """Start a fresh copy of the provisioned test domain; stop it and remove the copy on exit.

    Samba's ports are fixed, so two test runs on one machine (two work trees, say) queue on a lock file
    instead of failing on the ports.
    """
    with _exclusive_samba_lock():
        yield from _run_samba_ad(kdc=kdc)


# How many DCs this process runs now: the lock file is taken by the first only. A second start in the same process
# (the harness test that expects the ports check to refuse it) must not wait for the process's own lock.
_HELD_HERE = [0]


@contextlib.contextmanager
def _exclusive_samba_lock() -> Iterator[None]:
    if _HELD_HERE[0]:
        _HELD_HERE[0] += 1
        try:
            yield
        finally:
            _HELD_HERE[0] -= 1
        return
    with _LOCK_PATH.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        _HELD_HERE[0] = 1
        try:
            yield
        finally:
            _HELD_HERE[0] = 0
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_samba_ad(*, kdc: bool = False) -> Iterator[SambaADServer]:
    _require_free_ports()
    template = _template()
    root = Path(tempfile.mkdtemp(prefix="ess-samba-"))
    try:
        shutil.copytree(template, root, symlinks=True, dirs_exist_ok=True)
        certificates = make_certificates(root / "tls", hostnames=("localhost", f"{HOST_NAME}.{DNS_DOMAIN}"))
        certificates.key_file.chmod(0o600)  # samba refuses keys readable by others (CVE-2013-4476)
        (root / "etc" / "smb.conf").write_text(_smb_conf(root, certificates, kdc=kdc), encoding="utf-8")
        for log in (_LOG_NAME, "samba.stdout"):
            (root / log).unlink(missing_ok=True)
        server = SambaADServer(root, certificates)
        try:
            server.start()
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
