"""Throwaway OpenLDAP (slapd) servers for tests: own config in a temp dir, loopback only, removed on exit.

Usage::

    with running_slapd() as server:
        dn = server.add_user("jdoe", "Correct horse 1", given_name="Jane", surname="Doe",
                             mail="jdoe@example.test", groups=["staff"])
        settings = ...server.endpoint...

The instance never reads the system configuration (``slapd -f <tempdir>/slapd.conf``). It listens on
``ldap://127.0.0.1:<port>`` (StartTLS available) and ``ldaps://127.0.0.1:<port>`` with a throwaway CA
(:func:`tests.harness.tls.make_certificates`). The tree is seeded with ``slapadd`` before the first start:

- ``dc=example,dc=test`` with ``ou=people``, ``ou=groups``, ``ou=services``, ``ou=policies``;
- the password policy ``cn=default,ou=policies`` (ppolicy overlay, default policy, see ``_POLICY``);
- the service account ``cn=ess-service,ou=services`` (``endpoint.bind_dn``), which is NOT the rootdn, so the
  password policy applies to the resets it makes.

ACLs (slapd.conf ``access`` directives, first match wins):

- ``userPassword``: ``self =wx`` (write + auth: exop self change with the old password), service account
  ``=w`` (write only: exop reset), ``anonymous auth``, others none. Nobody but the rootdn can read the hashes;
- ``pwdAccountLockedTime``, ``pwdFailureTime``, ``pwdReset``: service account ``manage``, ``self read``.
  ``write`` is enough to delete/set ``pwdAccountLockedTime`` (unlock/lock) and ``pwdReset``. ``pwdFailureTime``
  is NO-USER-MODIFICATION: deleting it needs ``manage`` AND the Relax control (``RELAX_CONTROL_OID``),
  otherwise ``constraintViolation`` ("no user modification allowed"). Unlocking is simpler: deleting
  ``pwdAccountLockedTime`` makes ppolicy drop ``pwdFailureTime`` too. A successful bind or password change
  also clears ``pwdFailureTime`` (and the exop reset clears ``pwdAccountLockedTime`` and ``pwdReset``);
- ``telephoneNumber mobile displayName street postalCode l mail``: service account ``write``, ``self read``;
- everything else: service account ``read``, ``self read``, ``anonymous auth``.

Password policy facts (OpenLDAP 2.5.13): ``pwdMustChange: TRUE`` does NOT make an exop reset set ``pwdReset``;
whoever resets must set ``pwdReset: TRUE`` explicitly afterwards (any password change, the service account's exop
reset included, deletes it). With ``pwdReset: TRUE`` the user's bind succeeds with ppolicy error
``changeAfterReset`` (2) and every operation except the password exop fails with ``insufficientAccessRights``.
ldap3 returns the ppolicy response control (raw BER, undecoded) in ``conn.result["controls"]`` of a bind sent with
the request control: on a wrong password it is an empty ``SEQUENCE`` (``30 00``), on a locked account ``error 1``
(accountLocked) with the same result 49; a bind to a DN that does not exist gets no control at all.

slapd runs as root in the foreground (``-d none``: errors only, to ``<tempdir>/slapd.log``).

ldap3 with certificate validation calls the deprecated ``ssl.match_hostname`` (DeprecationWarning on
Python 3.10+); the harness silences that warning around its own TLS connections only. It also sets TCP_NODELAY on
its ldap3 sockets: otherwise the first request after a TLS handshake (the bind) waits ~40 ms for a delayed ACK.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.utils.dn import escape_rdn

from tests.harness.directory import DirectoryEndpoint
from tests.harness.ports import free_port
from tests.harness.tls import TestCertificates, make_certificates

__all__ = [
    "ADMIN_DN",
    "BASE_DN",
    "GROUP_BASE_DN",
    "POLICY_DN",
    "PPOLICY_CONTROL_OID",
    "RELAX_CONTROL_OID",
    "SERVICE_DN",
    "USER_BASE_DN",
    "SlapdServer",
    "running_slapd",
]

SLAPD = Path("/usr/sbin/slapd")
SLAPADD = Path("/usr/sbin/slapadd")
SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIR = Path("/usr/lib/ldap")
HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 20.0
STOP_TIMEOUT_SECONDS = 10.0

BASE_DN = "dc=example,dc=test"
ADMIN_DN = f"cn=admin,{BASE_DN}"
USER_BASE_DN = f"ou=people,{BASE_DN}"
GROUP_BASE_DN = f"ou=groups,{BASE_DN}"
SERVICE_BASE_DN = f"ou=services,{BASE_DN}"
POLICY_BASE_DN = f"ou=policies,{BASE_DN}"
SERVICE_DN = f"cn=ess-service,{SERVICE_BASE_DN}"
POLICY_DN = f"cn=default,{POLICY_BASE_DN}"
PPOLICY_CONTROL_OID = "1.3.6.1.4.1.42.2.27.8.5.1"
RELAX_CONTROL_OID = "1.3.6.1.4.1.4203.666.5.12"

_PORT_ATTEMPTS = 3
_LOG_TAIL_LINES = 40
_POLL_SECONDS = 0.02
_MATCH_HOSTNAME_WARNING = r"ssl\.match_hostname\(\) is deprecated"

_POLICY = {
    "pwdAttribute": "userPassword",
    "pwdMinLength": "8",
    "pwdCheckQuality": "1",
    "pwdInHistory": "3",
    "pwdLockout": "TRUE",
    "pwdMaxFailure": "5",
    "pwdLockoutDuration": "300",
    "pwdAllowUserChange": "TRUE",
    "pwdMustChange": "TRUE",
    "pwdSafeModify": "FALSE",
    "pwdMaxAge": "7776000",
    "pwdExpireWarning": "1209600",
    "pwdMinAge": "0",
    "pwdGraceAuthNLimit": "0",
}

# "manage" (not just "write") so the service account can delete pwdFailureTime with the Relax control.
_OPERATIONAL_ACCESS = "manage"
_SERVICE_WRITABLE_ATTRIBUTES = ("telephoneNumber", "mobile", "displayName", "street", "postalCode", "l", "mail")


def _ssha(password: str) -> str:
    """``{SSHA}`` hash as slappasswd makes it (for the slapadd seed, which bypasses the overlays)."""
    salt = secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode("utf-8") + salt).digest()  # noqa: S324 - LDAP {SSHA} format
    return "{SSHA}" + base64.b64encode(digest + salt).decode("ascii")


def _config(base: Path, certs: TestCertificates, admin_password: str) -> str:
    schemas = "\n".join(f"include {SCHEMA_DIR / name}.schema" for name in ("core", "cosine", "nis", "inetorgperson"))
    service_writable = ",".join(_SERVICE_WRITABLE_ATTRIBUTES)
    return f"""# Throwaway test instance written by tests/harness/slapd.py
{schemas}

modulepath {MODULE_DIR}
moduleload back_mdb
moduleload ppolicy

pidfile {base / "slapd.pid"}
argsfile {base / "slapd.args"}

TLSCACertificateFile {certs.ca_file}
TLSCertificateFile {certs.cert_file}
TLSCertificateKeyFile {certs.key_file}

access to dn.base="" by * read
access to dn.base="cn=Subschema" by * read

database mdb
suffix "{BASE_DN}"
rootdn "{ADMIN_DN}"
rootpw {_ssha(admin_password)}
directory {base / "data"}
dbnosync
maxsize 104857600
index objectClass eq
index uid,cn,mail eq
index member eq

overlay ppolicy
ppolicy_default "{POLICY_DN}"
ppolicy_hash_cleartext
ppolicy_use_lockout

access to attrs=userPassword
  by self =wx
  by dn.exact="{SERVICE_DN}" =w
  by anonymous auth
  by * none

access to attrs=pwdAccountLockedTime,pwdFailureTime,pwdReset
  by dn.exact="{SERVICE_DN}" {_OPERATIONAL_ACCESS}
  by self read
  by * none

access to attrs={service_writable}
  by dn.exact="{SERVICE_DN}" write
  by self read
  by * none

access to *
  by dn.exact="{SERVICE_DN}" read
  by self read
  by anonymous auth
  by * none
"""


def _seed_ldif(service_password: str) -> str:
    policy = "".join(f"{name}: {value}\n" for name, value in _POLICY.items())
    ous = "".join(
        f"dn: ou={ou},{BASE_DN}\nobjectClass: organizationalUnit\nou: {ou}\n\n"
        for ou in ("people", "groups", "services", "policies")
    )
    return (
        f"dn: {BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example Test\n\n"
        f"{ous}"
        f"dn: {POLICY_DN}\nobjectClass: device\nobjectClass: pwdPolicy\ncn: default\n{policy}\n"
        f"dn: {SERVICE_DN}\nobjectClass: applicationProcess\nobjectClass: simpleSecurityObject\n"
        f"cn: ess-service\ndescription: ESS service account (tests)\nuserPassword: {_ssha(service_password)}\n"
    )


def _log_tail(log_file: Path) -> str:
    try:
        lines = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "(no server log)"
    return "\n".join(lines[-_LOG_TAIL_LINES:]) or "(empty server log)"


def _tls(ca_file: Path) -> ldap3.Tls:
    return ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(ca_file))


@contextlib.contextmanager
def _quiet_match_hostname() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_MATCH_HOSTNAME_WARNING, category=DeprecationWarning)
        yield


class _PortInUse(RuntimeError):
    pass


class SlapdServer:
    """A running (or stopped) private slapd. Implements :class:`tests.harness.directory.DirectoryServer`."""

    def __init__(self, base: Path, certs: TestCertificates, *, admin_password: str, service_password: str) -> None:
        self._base = base
        self._certs = certs
        self._admin_password = admin_password
        self._service_password = service_password
        self._conf = base / "slapd.conf"
        self._log_file = base / "slapd.log"
        self._ldap_port = 0
        self._ldaps_port = 0
        self._process: subprocess.Popen[bytes] | None = None

    # --- DirectoryServer -------------------------------------------------------------------------------------

    @property
    def endpoint(self) -> DirectoryEndpoint:
        return DirectoryEndpoint(
            kind="openldap",
            uris=(self.ldap_uri,),
            start_tls=True,
            ca_file=self._certs.ca_file,
            bind_dn=SERVICE_DN,
            bind_password=self._service_password,
            user_base_dn=USER_BASE_DN,
            group_base_dn=GROUP_BASE_DN,
            user_filter="(objectClass=inetOrgPerson)",
            login_attribute="uid",
            email_attribute="mail",
            admin_dn=ADMIN_DN,
            admin_password=self._admin_password,
        )

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
        """Add ``uid=<login>,ou=people`` as the rootdn over StartTLS (ppolicy hashes the clear-text password)."""
        dn = f"uid={escape_rdn(login)},{USER_BASE_DN}"
        entry: dict[str, Any] = {
            "uid": login,
            "cn": f"{given_name} {surname}",
            "sn": surname,
            "givenName": given_name,
            "mail": mail,
            "displayName": f"{given_name} {surname}",
            "userPassword": password.encode("utf-8"),
        }
        entry.update(attributes or {})
        with self.admin_connection() as conn:
            _check(conn, conn.add(dn, ["inetOrgPerson"], entry), f"add {dn}")
            for group in groups:
                group_dn = f"cn={escape_rdn(group)},{GROUP_BASE_DN}"
                if conn.search(group_dn, "(objectClass=groupOfNames)", ldap3.BASE, attributes=["cn"]):
                    ok = conn.modify(group_dn, {"member": [(ldap3.MODIFY_ADD, [dn])]})
                    _check(conn, ok, f"add {dn} to {group_dn}")
                else:
                    ok = conn.add(group_dn, ["groupOfNames"], {"cn": group, "member": [dn]})
                    _check(conn, ok, f"add {group_dn}")
        return dn

    def force_must_change(self, login: str) -> None:
        """Flag the account "change the password at next login" (pwdReset), as an administrator would."""
        dn = f"uid={escape_rdn(login)},{USER_BASE_DN}"
        with self.admin_connection() as conn:
            _check(conn, conn.modify(dn, {"pwdReset": [(ldap3.MODIFY_REPLACE, ["TRUE"])]}), f"set pwdReset on {dn}")

    def stop(self) -> None:
        """SIGTERM slapd and wait; data and ports are kept for :meth:`start`."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def pause(self) -> None:
        """SIGSTOP slapd: it keeps its sockets (connections are accepted by the kernel) but answers nothing, like a
        hung directory server."""
        assert self._process is not None and self._process.poll() is None, "slapd is not running"
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after :meth:`pause`."""
        assert self._process is not None, "slapd is not running"
        self._process.send_signal(signal.SIGCONT)

    def start(self) -> None:
        """Start slapd again on the same ports with the same data."""
        if self.running:
            return
        self._start_on(self._ldap_port, self._ldaps_port)

    # --- extras -----------------------------------------------------------------------------------------------

    @property
    def ldap_uri(self) -> str:
        return f"ldap://{HOST}:{self._ldap_port}"

    @property
    def ldaps_uri(self) -> str:
        return f"ldaps://{HOST}:{self._ldaps_port}"

    @property
    def base_dir(self) -> Path:
        return self._base

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @contextlib.contextmanager
    def admin_connection(self) -> Iterator[Any]:
        """An ldap3 Connection bound as the rootdn over StartTLS (CA-validated); unbound on exit."""
        server = ldap3.Server(self.ldap_uri, get_info=ldap3.NONE, tls=_tls(self._certs.ca_file), connect_timeout=5)
        conn = ldap3.Connection(server, user=ADMIN_DN, password=self._admin_password, raise_exceptions=False)
        try:
            with _quiet_match_hostname():
                conn.open()
                # Without TCP_NODELAY the first request after the TLS handshake stalls ~40 ms (Nagle + delayed ACK).
                conn.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if not conn.start_tls():
                    raise RuntimeError(f"StartTLS to {self.ldap_uri} failed: {conn.result}")
            if not conn.bind():
                raise RuntimeError(f"bind as {ADMIN_DN} failed: {conn.result}")
            yield conn
        finally:
            conn.unbind()

    # --- internals --------------------------------------------------------------------------------------------

    def _initial_start(self) -> None:
        last_error: RuntimeError | None = None
        for _ in range(_PORT_ATTEMPTS):
            ldap_port = free_port()
            ldaps_port = free_port()
            while ldaps_port == ldap_port:
                ldaps_port = free_port()
            try:
                self._start_on(ldap_port, ldaps_port)
            except _PortInUse as exc:  # another process took a port between free_port() and slapd's bind()
                last_error = exc
                continue
            return
        assert last_error is not None
        raise last_error

    def _start_on(self, ldap_port: int, ldaps_port: int) -> None:
        self._ldap_port, self._ldaps_port = ldap_port, ldaps_port
        log_offset = self._log_file.stat().st_size if self._log_file.exists() else 0
        with self._log_file.open("ab") as log:
            self._process = subprocess.Popen(
                [
                    str(SLAPD),
                    "-f",
                    str(self._conf),
                    "-h",
                    f"{self.ldap_uri}/ {self.ldaps_uri}/",
                    "-d",
                    "none",
                ],
                cwd=self._base,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_until_ready(log_offset)

    def _wait_until_ready(self, log_offset: int) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            code = self._process.poll()
            if code is not None:
                self._process = None
                log = self._log_file.read_bytes()[log_offset:].decode("utf-8", errors="replace")
                message = f"slapd exited with code {code} during start\n--- slapd log ---\n{log.strip()}"
                if "Address already in use" in log:
                    raise _PortInUse(message)
                raise RuntimeError(message)
            if self._answers():
                return
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"slapd did not answer a bind on {self.ldap_uri} within {START_TIMEOUT_SECONDS:.0f} s\n"
                    f"--- slapd log tail ({self._log_file}) ---\n{_log_tail(self._log_file)}"
                )
            time.sleep(_POLL_SECONDS)

    def _answers(self) -> bool:
        # Probe the port with a plain socket first: ldap3 leaks the socket of a refused connection.
        try:
            with socket.create_connection((HOST, self._ldap_port), timeout=1):
                pass
        except OSError:
            return False
        server = ldap3.Server(self.ldap_uri, get_info=ldap3.NONE, connect_timeout=1)
        conn = ldap3.Connection(server, user=ADMIN_DN, password=self._admin_password, raise_exceptions=False)
        try:
            return bool(conn.bind())
        except LDAPException:
            return False
        finally:
            conn.unbind()


def _check(conn: Any, ok: bool, what: str) -> None:
    if not ok:
        raise RuntimeError(f"{what} failed: {conn.result}")


def _seed(base: Path, conf: Path, service_password: str) -> None:
    (base / "data").mkdir(mode=0o700)
    ldif = base / "seed.ldif"
    ldif.write_text(_seed_ldif(service_password), encoding="utf-8")
    result = subprocess.run(
        [str(SLAPADD), "-f", str(conf), "-q", "-l", str(ldif)],
        cwd=base,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"slapadd failed (exit {result.returncode}):\n{result.stdout}{result.stderr}".strip())


@contextlib.contextmanager
def running_slapd() -> Iterator[SlapdServer]:
    """Start a private, seeded slapd (see the module docstring); stop it and delete its files on exit."""
    for tool in (SLAPD, SLAPADD):
        if not os.access(tool, os.X_OK):
            raise RuntimeError(f"{tool} not found: install slapd and ldap-utils (scripts/ensure-test-deps.sh)")
    base = Path(tempfile.mkdtemp(prefix="ess-slapd-"))
    base.chmod(0o755)
    server: SlapdServer | None = None
    try:
        certs = make_certificates(base / "tls")
        admin_password = secrets.token_urlsafe(18)
        service_password = secrets.token_urlsafe(18)
        conf = base / "slapd.conf"
        conf.write_text(_config(base, certs, admin_password), encoding="utf-8")
        _seed(base, conf, service_password)
        server = SlapdServer(base, certs, admin_password=admin_password, service_password=service_password)
        server._initial_start()
        yield server
    finally:
        try:
            if server is not None:
                server.stop()
        finally:
            shutil.rmtree(base, ignore_errors=True)
