"""The throwaway slapd harness: TLS, ACLs and the ppolicy behaviour ESS relies on, proven with ldap3 directly."""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Iterator
from typing import Any

import ldap3
import pytest

from tests.harness.directory import DirectoryServer
from tests.harness.slapd import (
    GROUP_BASE_DN,
    POLICY_DN,
    PPOLICY_CONTROL_OID,
    RELAX_CONTROL_OID,
    SERVICE_DN,
    USER_BASE_DN,
    SlapdServer,
    running_slapd,
)

# ldap3 2.9.1 validates the server name with the deprecated ssl.match_hostname().
pytestmark = pytest.mark.filterwarnings(r"ignore:ssl\.match_hostname\(\) is deprecated:DeprecationWarning")

PPOLICY = [(PPOLICY_CONTROL_OID, False, None)]
# draft-behera-ldap-password-policy §6.2 error values
ACCOUNT_LOCKED = 1
CHANGE_AFTER_RESET = 2
PASSWORD_TOO_SHORT = 6
PASSWORD_IN_HISTORY = 8
INVALID_CREDENTIALS = 49
CONSTRAINT_VIOLATION = 19
INSUFFICIENT_ACCESS = 50
UNWILLING_TO_PERFORM = 53
INITIAL_PASSWORD = "Initial-pass-1"


@pytest.fixture(scope="module")
def slapd() -> Iterator[SlapdServer]:
    with running_slapd() as server:
        yield server


@contextlib.contextmanager
def _connection(server: SlapdServer, user: str | None, password: str | bytes | None, *, ldaps: bool = False) -> Any:
    """An opened, TLS-protected (StartTLS or LDAPS), CA-validated, NOT yet bound connection; always unbound."""
    endpoint = server.endpoint
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(endpoint.ca_file))
    uri = server.ldaps_uri if ldaps else endpoint.uris[0]
    conn = ldap3.Connection(
        ldap3.Server(uri, get_info=ldap3.NONE, tls=tls, connect_timeout=5),
        user=user,
        password=password,
        raise_exceptions=False,
    )
    try:
        conn.open()
        conn.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # else the bind waits ~40 ms after TLS
        if not ldaps:
            assert conn.start_tls(), conn.result
        yield conn
    finally:
        conn.unbind()  # also after a failed bind: ldap3 leaves the socket open otherwise


@contextlib.contextmanager
def _bound(server: SlapdServer, user: str, password: str | bytes) -> Any:
    with _connection(server, user, password) as conn:
        assert conn.bind(), conn.result
        yield conn


@contextlib.contextmanager
def _service(server: SlapdServer) -> Any:
    with _bound(server, server.endpoint.bind_dn, server.endpoint.bind_password) as conn:
        yield conn


def _bind_result(server: SlapdServer, user: str, password: str | bytes) -> dict[str, Any]:
    with _connection(server, user, password) as conn:
        conn.bind(controls=PPOLICY)
        result: dict[str, Any] = conn.result
        return result


def _ppolicy_error(result: dict[str, Any]) -> int | None:
    """The ``error`` of a PasswordPolicyResponseValue (ldap3 returns the raw BER bytes); None if absent."""
    value: bytes = result["controls"][PPOLICY_CONTROL_OID]["value"]
    assert value[0] == 0x30 and value[1] == len(value) - 2  # SEQUENCE, short form length
    position = 2
    while position < len(value):
        tag, length = value[position], value[position + 1]
        content = value[position + 2 : position + 2 + length]
        if tag == 0x81:  # [1] error ENUMERATED
            return int.from_bytes(content, "big")
        position += 2 + length
    return None


def _user(server: SlapdServer, login: str, password: str = INITIAL_PASSWORD) -> str:
    return server.add_user(login, password, given_name="Test", surname=login.title(), mail=f"{login}@example.test")


def _operational(server: SlapdServer, dn: str, *names: str) -> dict[str, Any]:
    with _service(server) as conn:
        assert conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=list(names)), conn.result
        # ldap3 lists requested but absent attributes with no values (return_empty_attributes)
        return {name: values for name, values in conn.response[0]["raw_attributes"].items() if values}


def _port_open(uri: str) -> bool:
    host, port = uri.rsplit("/", 1)[-1].rsplit(":", 1)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, int(port))) == 0


def test_endpoint_describes_the_service_account_over_starttls_and_ldaps(slapd: SlapdServer) -> None:
    server: DirectoryServer = slapd  # satisfies the protocol
    endpoint = server.endpoint
    assert endpoint.kind == "openldap"
    assert endpoint.uris == (slapd.ldap_uri,) and endpoint.uris[0].startswith("ldap://127.0.0.1:")
    assert slapd.ldaps_uri.startswith("ldaps://127.0.0.1:") and slapd.ldaps_uri != slapd.ldap_uri
    assert endpoint.start_tls and endpoint.ca_file.is_file()
    assert endpoint.bind_dn == SERVICE_DN != endpoint.admin_dn
    assert (endpoint.user_base_dn, endpoint.group_base_dn) == (USER_BASE_DN, GROUP_BASE_DN)
    assert (endpoint.user_filter, endpoint.login_attribute, endpoint.email_attribute) == (
        "(objectClass=inetOrgPerson)",
        "uid",
        "mail",
    )

    with _service(slapd) as conn:
        assert conn.extend.standard.who_am_i() == f"dn:{SERVICE_DN}"
        assert conn.search(POLICY_DN, "(objectClass=pwdPolicy)", ldap3.BASE, attributes=["pwdMinLength"])
        assert conn.entries[0].pwdMinLength.value == "8"  # get_info=NONE: no schema, so no type conversion
    with _connection(slapd, SERVICE_DN, endpoint.bind_password, ldaps=True) as conn:
        assert conn.bind(), conn.result
        assert conn.extend.standard.who_am_i() == f"dn:{SERVICE_DN}"
    with _connection(slapd, None, None) as anonymous:  # anonymous: auth only
        assert anonymous.bind()
        assert not anonymous.search(USER_BASE_DN, "(objectClass=*)")


def test_add_user_creates_the_person_and_its_groups(slapd: SlapdServer) -> None:
    alice = slapd.add_user(
        "alice",
        INITIAL_PASSWORD,
        given_name="Alice",
        surname="Ångström",
        mail="alice@example.test",
        groups=["staff", "hr"],
        attributes={"telephoneNumber": "+41 44 000 00 01"},
    )
    bob = slapd.add_user(
        "bob", INITIAL_PASSWORD, given_name="Bob", surname="Builder", mail="bob@example.test", groups=["staff"]
    )
    assert alice == f"uid=alice,{USER_BASE_DN}"

    endpoint = slapd.endpoint
    with _service(slapd) as conn:
        assert conn.search(
            endpoint.user_base_dn,
            f"(&{endpoint.user_filter}(uid=alice))",
            attributes=["cn", "sn", "givenName", "mail", "displayName", "telephoneNumber", "userPassword"],
        )
        entry = conn.entries[0]
        assert entry.entry_dn == alice
        assert (entry.sn.value, entry.mail.value, entry.telephoneNumber.value) == (
            "Ångström",
            "alice@example.test",
            "+41 44 000 00 01",
        )
        assert entry.userPassword.values == []  # the service account may write, not read, password hashes
        assert conn.search(endpoint.group_base_dn, f"(member={alice})", attributes=["cn"])
        assert sorted(e.cn.value for e in conn.entries) == ["hr", "staff"]
        assert conn.search(f"cn=staff,{GROUP_BASE_DN}", "(objectClass=groupOfNames)", ldap3.BASE, attributes=["member"])
        assert set(conn.entries[0].member.values) == {alice, bob}

    with slapd.admin_connection() as admin:  # ppolicy_hash_cleartext hashed the rootdn's clear-text add
        assert admin.search(alice, "(objectClass=*)", ldap3.BASE, attributes=["userPassword"])
        assert admin.response[0]["raw_attributes"]["userPassword"][0].startswith(b"{SSHA}")

    with _bound(slapd, alice, INITIAL_PASSWORD) as conn:  # users read their own entry, not others'
        assert conn.search(alice, "(objectClass=*)", ldap3.BASE, attributes=["mail"])
        assert not conn.search(bob, "(objectClass=*)", ldap3.BASE, attributes=["mail"])


def test_service_reset_by_exop_applies_the_password_policy(slapd: SlapdServer) -> None:
    dn = _user(slapd, "carol")
    with _service(slapd) as conn:
        assert not conn.extend.standard.modify_password(user=dn, new_password="short", controls=PPOLICY)
        assert conn.result["result"] == CONSTRAINT_VIOLATION
        assert PPOLICY_CONTROL_OID in conn.result["controls"]
        assert _ppolicy_error(conn.result) == PASSWORD_TOO_SHORT

        assert conn.extend.standard.modify_password(user=dn, new_password="Reset-by-service-2", controls=PPOLICY)
        # pwdInHistory 3: the previous password is refused, also on a reset by the service account
        assert not conn.extend.standard.modify_password(user=dn, new_password=INITIAL_PASSWORD, controls=PPOLICY)
        assert conn.result["result"] == CONSTRAINT_VIOLATION
        assert _ppolicy_error(conn.result) == PASSWORD_IN_HISTORY

    assert _bind_result(slapd, dn, "Reset-by-service-2")["result"] == 0
    assert _bind_result(slapd, dn, INITIAL_PASSWORD)["result"] == INVALID_CREDENTIALS
    # OpenLDAP 2.5: pwdMustChange does not make an exop reset set pwdReset by itself
    assert "pwdReset" not in _operational(slapd, dn, "pwdReset", "pwdChangedTime")


def test_pwd_reset_restricts_the_user_until_they_change_the_password(slapd: SlapdServer) -> None:
    dn = _user(slapd, "dave")
    with _service(slapd) as conn:
        assert conn.extend.standard.modify_password(user=dn, new_password="Temporary-pass-2")
        assert conn.modify(dn, {"pwdReset": [(ldap3.MODIFY_REPLACE, ["TRUE"])]}), conn.result

    with _connection(slapd, dn, "Temporary-pass-2") as user:
        assert user.bind(controls=PPOLICY)
        assert _ppolicy_error(user.result) == CHANGE_AFTER_RESET
        assert not user.search(dn, "(objectClass=*)", ldap3.BASE)
        assert user.result["result"] == INSUFFICIENT_ACCESS
        assert user.extend.standard.modify_password(old_password="Temporary-pass-2", new_password="Chosen-by-dave-3")
        assert user.search(dn, "(objectClass=*)", ldap3.BASE)  # restriction lifted on this connection
    assert "pwdReset" not in _operational(slapd, dn, "pwdReset")
    assert _ppolicy_error(_bind_result(slapd, dn, "Chosen-by-dave-3")) is None


def test_user_changes_own_password_by_exop(slapd: SlapdServer) -> None:
    dn = _user(slapd, "erin")
    with _bound(slapd, dn, INITIAL_PASSWORD) as conn:
        assert not conn.extend.standard.modify_password(old_password="not-the-password", new_password="Erin-new-2")
        assert conn.result["result"] == UNWILLING_TO_PERFORM
        assert not conn.extend.standard.modify_password(old_password=INITIAL_PASSWORD, new_password="tiny")
        assert conn.result["result"] == CONSTRAINT_VIOLATION
        assert conn.extend.standard.modify_password(
            user=dn, old_password=INITIAL_PASSWORD, new_password="Erin-new-2", controls=PPOLICY
        ), conn.result
    assert _bind_result(slapd, dn, "Erin-new-2")["result"] == 0
    assert _bind_result(slapd, dn, INITIAL_PASSWORD)["result"] == INVALID_CREDENTIALS


def test_lockout_after_five_failures_and_unlock_by_the_service_account(slapd: SlapdServer) -> None:
    dn = _user(slapd, "frank")
    for _ in range(5):
        failed = _bind_result(slapd, dn, "wrong password")
        assert failed["result"] == INVALID_CREDENTIALS
        assert _ppolicy_error(failed) is None  # the control comes back on a failed bind, without an error
    locked = _bind_result(slapd, dn, INITIAL_PASSWORD)
    assert locked["result"] == INVALID_CREDENTIALS  # same code as a wrong password...
    assert _ppolicy_error(locked) == ACCOUNT_LOCKED  # ...only the control tells them apart
    # an unknown DN gets no control at all (ESS must not branch on that: it would reveal which accounts exist)
    assert "controls" not in _bind_result(slapd, f"uid=nobody,{USER_BASE_DN}", "wrong password")

    state = _operational(slapd, dn, "pwdAccountLockedTime", "pwdFailureTime")
    assert len(state["pwdAccountLockedTime"]) == 1 and len(state["pwdFailureTime"]) == 5
    with _service(slapd) as conn:  # unlock: deleting pwdAccountLockedTime also makes ppolicy drop pwdFailureTime
        assert conn.modify(dn, {"pwdAccountLockedTime": [(ldap3.MODIFY_DELETE, [])]}), conn.result
    assert _operational(slapd, dn, "pwdAccountLockedTime", "pwdFailureTime") == {}
    assert _bind_result(slapd, dn, INITIAL_PASSWORD)["result"] == 0


def test_failure_times_can_be_cleared_only_with_the_relax_control(slapd: SlapdServer) -> None:
    dn = _user(slapd, "fiona")
    for _ in range(2):
        assert _bind_result(slapd, dn, "wrong password")["result"] == INVALID_CREDENTIALS
    assert len(_operational(slapd, dn, "pwdFailureTime")["pwdFailureTime"]) == 2
    with _service(slapd) as conn:
        assert not conn.modify(dn, {"pwdFailureTime": [(ldap3.MODIFY_DELETE, [])]})
        assert conn.result["result"] == CONSTRAINT_VIOLATION  # NO-USER-MODIFICATION
        relax = [(RELAX_CONTROL_OID, True, None)]  # needs "manage" access as well
        assert conn.modify(dn, {"pwdFailureTime": [(ldap3.MODIFY_DELETE, [])]}, controls=relax), conn.result
    assert _operational(slapd, dn, "pwdFailureTime") == {}


def test_service_account_writes_contact_attributes_only(slapd: SlapdServer) -> None:
    dn = _user(slapd, "grace")
    with _service(slapd) as conn:
        assert conn.modify(dn, {"telephoneNumber": [(ldap3.MODIFY_REPLACE, ["+41 44 000 00 02"])]}), conn.result
        assert conn.modify(dn, {"mobile": [(ldap3.MODIFY_ADD, ["+41 79 000 00 02"])]}), conn.result
        assert not conn.modify(dn, {"sn": [(ldap3.MODIFY_REPLACE, ["Hopper"])]})
        assert conn.result["result"] == INSUFFICIENT_ACCESS
    with _bound(slapd, dn, INITIAL_PASSWORD) as user:
        assert user.search(dn, "(objectClass=*)", ldap3.BASE, attributes=["telephoneNumber"])
        assert user.entries[0].telephoneNumber.value == "+41 44 000 00 02"
        assert not user.modify(dn, {"telephoneNumber": [(ldap3.MODIFY_REPLACE, ["+41 1"])]})
        assert user.result["result"] == INSUFFICIENT_ACCESS


@pytest.mark.parametrize("as_bytes", [True, False], ids=["bytes", "str"])
def test_non_ascii_password_by_exop_and_bind(slapd: SlapdServer, as_bytes: bool) -> None:
    text = "Grüße aus Zürich 🔑 2026"
    password: str | bytes = text.encode("utf-8") if as_bytes else text
    dn = _user(slapd, f"heidi-{'b' if as_bytes else 's'}")
    with _service(slapd) as conn:
        assert conn.extend.standard.modify_password(user=dn, new_password=password, controls=PPOLICY), conn.result
    assert _bind_result(slapd, dn, password)["result"] == 0
    # SASLprep leaves this string unchanged, so str and its UTF-8 bytes are interchangeable here
    other: str | bytes = text if as_bytes else text.encode("utf-8")
    assert _bind_result(slapd, dn, other)["result"] == 0


def test_saslprep_makes_str_and_bytes_differ_for_compatibility_characters(slapd: SlapdServer) -> None:
    # FULLWIDTH LATIN letters (U+FF21...): NFKC, part of SASLprep, maps them to ASCII
    fullwidth = "".join(chr(ord(letter) + 0xFEE0) for letter in "Fullwidth") + "-pass-1"
    dn = _user(slapd, "ivan")
    with _service(slapd) as conn:
        assert conn.extend.standard.modify_password(user=dn, new_password=fullwidth.encode("utf-8")), conn.result
    assert _bind_result(slapd, dn, fullwidth.encode("utf-8"))["result"] == 0
    assert _bind_result(slapd, dn, fullwidth)["result"] == INVALID_CREDENTIALS  # str was sent as "Fullwidth-pass-1"
    assert _bind_result(slapd, dn, "Fullwidth-pass-1")["result"] == INVALID_CREDENTIALS


def test_stop_and_start_keep_data_and_ports(slapd: SlapdServer) -> None:
    dn = _user(slapd, "judy")
    uris = (slapd.ldap_uri, slapd.ldaps_uri)
    slapd.stop()
    try:
        assert not slapd.running
        assert not _port_open(slapd.ldap_uri) and not _port_open(slapd.ldaps_uri)
    finally:
        slapd.start()
    assert slapd.running and (slapd.ldap_uri, slapd.ldaps_uri) == uris
    assert _bind_result(slapd, dn, INITIAL_PASSWORD)["result"] == 0
    with _connection(slapd, dn, INITIAL_PASSWORD, ldaps=True) as conn:
        assert conn.bind(), conn.result


def test_running_slapd_removes_its_directory() -> None:
    with running_slapd() as server:
        base = server.base_dir
        assert (base / "slapd.conf").is_file()
        assert oct(base.stat().st_mode & 0o777) == oct(0o755)
    assert not base.exists()
    assert not _port_open(server.ldap_uri)
