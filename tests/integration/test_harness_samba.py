"""The Samba AD DC harness behaves like the Active Directory ESS talks to (checked with ldap3 directly).

These tests also pin down Samba 4.17 facts ESS relies on: bind diagnostic codes (``data 52e`` ...),
policy rejections (``0000052D``), lockout, the delegated service account, non-ASCII passwords.
"""

from __future__ import annotations

import socket
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count

import pytest
from ldap3 import BASE, MODIFY_REPLACE, Connection, Server

from tests.harness.directory import DirectoryServer
from tests.harness.samba_ad import SambaADServer, running_samba_ad

POLICY_HINTS_OID = "1.2.840.113556.1.4.2239"
POLICY_HINTS_VALUE = b"\x30\x03\x02\x01\x01"  # SEQUENCE { INTEGER 1 }: enforce history on resets
UF_ACCOUNTDISABLE = 0x2
UF_LOCKOUT = 0x10
UF_PASSWORD_EXPIRED = 0x800000
_logins = count(1)


@pytest.fixture(scope="module")
def dc(samba: DirectoryServer) -> SambaADServer:
    # The session's DC (tests/conftest.py): the ports are fixed, so there can only be one at a time.
    assert isinstance(samba, SambaADServer)
    return samba


@contextmanager
def connected(dc: SambaADServer, user: str, password: str | bytes) -> Iterator[Connection]:
    """A connection after a simple bind attempt (bound or not); always unbound afterwards."""
    conn = dc.connect(user, password)
    try:
        yield conn
    finally:
        conn.unbind()


def bind_message(dc: SambaADServer, user: str, password: str | bytes) -> str:
    with connected(dc, user, password) as conn:
        if conn.bound:
            return "bound"
        assert conn.result["result"] == 49, conn.result
        message: str = conn.result["message"]
        return message


def new_user(dc: SambaADServer, groups: tuple[str, ...] = ()) -> tuple[str, str]:
    """A fresh user with the password "Start-Pass-1"; returns (login, DN)."""
    login = f"hsmb{next(_logins)}"  # distinct from the logins other modules create in the shared DC
    dn = dc.add_user(
        login, "Start-Pass-1", given_name="Erika", surname="Muster", mail=f"{login}@ess.test", groups=groups
    )
    return login, dn


def read(conn: Connection, dn: str, *attributes: str) -> dict[str, str]:
    """Single values as strings (no schema is loaded), "" for an absent attribute."""
    assert conn.search(dn, "(objectClass=*)", search_scope=BASE, attributes=list(attributes)), conn.result
    values: dict[str, list[str]] = conn.response[0]["attributes"]
    return {name: (value[0] if value else "") for name, value in values.items()}


def ad_ticks(seconds_since_1970: float) -> int:
    """A Unix time as AD time (100-ns ticks since 1601)."""
    return int(seconds_since_1970 * 10**7) + 116_444_736_000_000_000


def test_dc_implements_the_directory_protocol_and_serves_our_certificate(dc: SambaADServer) -> None:
    server: DirectoryServer = dc
    endpoint = server.endpoint
    assert endpoint.kind == "activedirectory"
    assert endpoint.uris == ("ldaps://127.0.0.1:636",)
    assert not endpoint.start_tls
    assert endpoint.ca_file.is_file()
    assert endpoint.bind_dn == "CN=ess-service,CN=Users,DC=ess,DC=test"
    assert endpoint.user_base_dn == "OU=Staff,DC=ess,DC=test"
    assert endpoint.group_base_dn == "OU=Groups,DC=ess,DC=test"
    # dc.connect validates the chain against endpoint.ca_file (ssl.CERT_REQUIRED).
    with connected(dc, endpoint.bind_dn, endpoint.bind_password) as svc:
        assert svc.bound, svc.result
    # Plain LDAP on 389 refuses simple binds: ESS must use LDAPS or StartTLS.
    plain = Connection(Server("ldap://127.0.0.1:389"), endpoint.bind_dn, endpoint.bind_password)
    try:
        assert not plain.bind()
        assert plain.result["description"] == "strongerAuthRequired"
    finally:
        plain.unbind()


def test_add_user_creates_an_enabled_member_of_new_groups(dc: SambaADServer) -> None:
    endpoint = dc.endpoint
    dn = dc.add_user(
        "h.mueller",
        "Start-Pass-1",
        given_name="Hans",
        surname="Müller",
        mail="hans.mueller@ess.test",
        groups=("ess-users", "ess-hr"),
        attributes={"cn": "Müller, Hans", "telephoneNumber": "+41 44 000 00 00"},
    )
    assert dn == "CN=Müller\\, Hans,OU=Staff,DC=ess,DC=test"
    with connected(dc, endpoint.bind_dn, endpoint.bind_password) as svc:
        user_filter = f"(&{endpoint.user_filter}({endpoint.login_attribute}=h.mueller))"
        assert svc.search(endpoint.user_base_dn, user_filter, attributes=["*", "memberOf"])
        [entry] = svc.response
        attributes = entry["attributes"]
        assert entry["dn"] == dn
        assert attributes[endpoint.email_attribute] == ["hans.mueller@ess.test"]
        assert attributes["userPrincipalName"] == ["h.mueller@ess.test"]
        assert attributes["displayName"] == ["Hans Müller"]
        assert attributes["telephoneNumber"] == ["+41 44 000 00 00"]
        assert attributes["userAccountControl"] == ["512"]
        assert sorted(attributes["memberOf"]) == [
            "CN=ess-hr,OU=Groups,DC=ess,DC=test",
            "CN=ess-users,OU=Groups,DC=ess,DC=test",
        ]
    # An existing group is reused.
    _, other = new_user(dc, groups=("ess-users",))
    with connected(dc, endpoint.admin_dn, endpoint.admin_password) as admin:
        assert admin.search("CN=ess-users,OU=Groups,DC=ess,DC=test", "(objectClass=group)", BASE, attributes=["member"])
        assert sorted(admin.response[0]["attributes"]["member"]) == sorted([dn, other])
    assert bind_message(dc, dn, "Start-Pass-1") == "bound"


def test_service_account_resets_a_password_without_history_check(dc: SambaADServer) -> None:
    endpoint = dc.endpoint
    _, dn = new_user(dc)
    with connected(dc, endpoint.bind_dn, endpoint.bind_password) as svc:
        assert svc.extend.microsoft.modify_password(dn, "Reset-Pass-2"), svc.result
        # Resets ignore the history (like AD without LDAP_SERVER_POLICY_HINTS).
        assert svc.extend.microsoft.modify_password(dn, "Reset-Pass-2"), svc.result
        assert svc.extend.microsoft.modify_password(dn, "Start-Pass-1"), svc.result
        assert svc.extend.microsoft.modify_password(dn, "Reset-Pass-3"), svc.result
    assert bind_message(dc, dn, "Reset-Pass-3") == "bound"
    assert "data 52e" in bind_message(dc, dn, "Start-Pass-1")


def test_samba_417_does_not_support_the_policy_hints_control(dc: SambaADServer) -> None:
    endpoint = dc.endpoint
    _, dn = new_user(dc)
    with connected(dc, endpoint.bind_dn, endpoint.bind_password) as svc:
        assert svc.search("", "(objectClass=*)", search_scope=BASE, attributes=["supportedControl"])
        assert POLICY_HINTS_OID not in svc.response[0]["attributes"]["supportedControl"]
        critical = [(POLICY_HINTS_OID, True, POLICY_HINTS_VALUE)]
        assert not svc.extend.microsoft.modify_password(dn, "Hinted-Pass-2", controls=critical)
        assert svc.result["description"] == "unavailableCriticalExtension"
        # Not critical: accepted and ignored, so the history is still not checked on a reset.
        optional = [(POLICY_HINTS_OID, False, POLICY_HINTS_VALUE)]
        assert svc.extend.microsoft.modify_password(dn, "Start-Pass-1", controls=optional), svc.result
    assert bind_message(dc, dn, "Start-Pass-1") == "bound"


def test_user_changes_own_password_with_history_and_old_password_checks(dc: SambaADServer) -> None:
    _, dn = new_user(dc)
    with connected(dc, dn, "Start-Pass-1") as user:
        assert user.bound, user.result
        assert user.extend.microsoft.modify_password(dn, "Self-Pass-2", "Start-Pass-1"), user.result
        assert user.extend.microsoft.modify_password(dn, "Self-Pass-3", "Self-Pass-2"), user.result  # min age 0
        assert not user.extend.microsoft.modify_password(dn, "Start-Pass-1", "Self-Pass-3")
        assert user.result["description"] == "constraintViolation"
        assert user.result["message"].startswith("0000052D")
        assert "already used (in history)" in user.result["message"]
        assert not user.extend.microsoft.modify_password(dn, "Self-Pass-4", "Wrong-Old-1")
        assert user.result["description"] == "constraintViolation"
        assert user.result["message"].startswith("00000056")  # not 52D: the old password is wrong
    assert bind_message(dc, dn, "Self-Pass-3") == "bound"


def test_too_short_password_is_a_constraint_violation(dc: SambaADServer) -> None:
    endpoint = dc.endpoint
    _, dn = new_user(dc)
    with connected(dc, endpoint.bind_dn, endpoint.bind_password) as svc:
        assert not svc.extend.microsoft.modify_password(dn, "short7!")
        assert svc.result["description"] == "constraintViolation"
        assert "0000052D" in svc.result["message"]
    with connected(dc, dn, "Start-Pass-1") as user:
        assert not user.extend.microsoft.modify_password(dn, "short7!", "Start-Pass-1")
        assert user.result["description"] == "constraintViolation"
        assert "0000052D" in user.result["message"]


def test_five_bad_binds_lock_the_account_and_the_service_account_unlocks_it(dc: SambaADServer) -> None:
    endpoint = dc.endpoint
    _, dn = new_user(dc)
    # The fifth bad bind still answers 52e but locks the account; every later bind answers 775.
    assert ["data 52e" in bind_message(dc, dn, "Wrong-Pass-0") for _ in range(5)] == [True] * 5
    assert "data 775" in bind_message(dc, dn, "Wrong-Pass-0")
    assert "data 775" in bind_message(dc, dn, "Start-Pass-1")
    with connected(dc, endpoint.bind_dn, endpoint.bind_password) as svc:
        status = read(svc, dn, "lockoutTime", "badPwdCount", "msDS-User-Account-Control-Computed")
        assert status["badPwdCount"] == "5"
        assert int(status["msDS-User-Account-Control-Computed"]) & UF_LOCKOUT
        assert int(status["lockoutTime"]) > 0
        assert svc.modify(dn, {"lockoutTime": [(MODIFY_REPLACE, ["0"])]}), svc.result
        status = read(svc, dn, "lockoutTime", "msDS-User-Account-Control-Computed")
        assert status == {"lockoutTime": "0", "msDS-User-Account-Control-Computed": "0"}
    assert bind_message(dc, dn, "Start-Pass-1") == "bound"


def test_bind_diagnostic_codes_and_status_attributes(dc: SambaADServer) -> None:
    endpoint = dc.endpoint
    login, dn = new_user(dc)
    wrong = bind_message(dc, dn, "Wrong-Pass-0")
    assert wrong == "80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 52e, v1db1"
    # Samba answers 52e, not 525, for an unknown user.
    assert "data 52e" in bind_message(dc, "CN=nobody,OU=Staff,DC=ess,DC=test", "Start-Pass-1")
    with connected(dc, endpoint.bind_dn, endpoint.bind_password) as svc:
        status = read(svc, dn, "pwdLastSet", "msDS-UserPasswordExpiryTimeComputed")
        # Readable by the service account: pwdLastSet + maxPwdAge (90 days), in 100-ns ticks since 1601.
        pwd_last_set = int(status["pwdLastSet"])
        assert abs(pwd_last_set - ad_ticks(time.time())) < 120 * 10**7
        assert int(status["msDS-UserPasswordExpiryTimeComputed"]) == pwd_last_set + 90 * 86400 * 10**7
        # "Must change at next logon" (the harness sets pwdLastSet=0 as Administrator).
        dc.force_must_change(login)
        status = read(svc, dn, "msDS-User-Account-Control-Computed", "msDS-UserPasswordExpiryTimeComputed")
        assert int(status["msDS-User-Account-Control-Computed"]) == UF_PASSWORD_EXPIRED
        assert status["msDS-UserPasswordExpiryTimeComputed"] == "0"
    assert "data 773" in bind_message(dc, dn, "Start-Pass-1")
    assert "data 52e" in bind_message(dc, dn, "Wrong-Pass-0")  # the code only shows with the right password
    with connected(dc, endpoint.admin_dn, endpoint.admin_password) as admin:
        assert admin.modify(dn, {"pwdLastSet": [(MODIFY_REPLACE, ["-1"])]}), admin.result
        assert admin.modify(dn, {"userAccountControl": [(MODIFY_REPLACE, [str(512 | UF_ACCOUNTDISABLE)])]})
    assert "data 533" in bind_message(dc, dn, "Start-Pass-1")
    assert "data 52e" in bind_message(dc, dn, "Wrong-Pass-0")


def test_service_account_rights_are_delegated_on_staff_only(dc: SambaADServer) -> None:
    endpoint = dc.endpoint
    _, dn = new_user(dc)
    contact = {
        "telephoneNumber": "+41 44 123 45 67",
        "mobile": "+41 79 123 45 67",
        "displayName": "Erika M.",
        "streetAddress": "Bahnhofstrasse 1",
        "postalCode": "8001",
        "l": "Zürich",
    }
    with connected(dc, endpoint.bind_dn, endpoint.bind_password) as svc:
        assert svc.modify(dn, {name: [(MODIFY_REPLACE, [value])] for name, value in contact.items()}), svc.result
        assert read(svc, dn, *contact) == contact
        assert svc.modify(dn, {"pwdLastSet": [(MODIFY_REPLACE, ["0"])]}), svc.result  # "must change"
        assert svc.modify(dn, {"pwdLastSet": [(MODIFY_REPLACE, ["-1"])]}), svc.result  # and back
        for attribute, value in (("mail", "other@ess.test"), ("userAccountControl", "514")):
            assert not svc.modify(dn, {attribute: [(MODIFY_REPLACE, [value])]})
            assert svc.result["description"] == "insufficientAccessRights"
        # Outside OU=Staff (Administrator): neither attribute writes nor password resets.
        assert not svc.modify(endpoint.admin_dn, {"telephoneNumber": [(MODIFY_REPLACE, ["1"])]})
        assert svc.result["description"] == "insufficientAccessRights"
        assert not svc.extend.microsoft.modify_password(endpoint.admin_dn, "Stolen-Pass-1")
        assert svc.result["description"] == "insufficientAccessRights"
        assert svc.extend.microsoft.unlock_account(dn) is True


def test_non_ascii_password_can_be_set_and_used(dc: SambaADServer) -> None:
    endpoint = dc.endpoint
    password = "Grüße aus Zürich 🔑 2026"
    _, dn = new_user(dc)
    with connected(dc, endpoint.bind_dn, endpoint.bind_password) as svc:
        assert svc.extend.microsoft.modify_password(dn, password), svc.result
    # ldap3 SASLpreps str passwords (NFKC): for an NFC password str and UTF-8 bytes both work.
    assert bind_message(dc, dn, password) == "bound"
    assert bind_message(dc, dn, password.encode("utf-8")) == "bound"
    with connected(dc, dn, password) as user:
        assert user.extend.microsoft.modify_password(dn, "Zurück-Pass-2", password), user.result
    # modify_password sends the str unchanged (UTF-16LE, no SASLprep): NFD or NBSP passwords then
    # only bind as raw bytes, never as str (SASLprep turns them into NFC / a plain space).
    for tricky in (unicodedata.normalize("NFD", "Grüße 2026"), "Grüße\u00a02026"):
        with connected(dc, endpoint.bind_dn, endpoint.bind_password) as svc:
            assert svc.extend.microsoft.modify_password(dn, tricky), svc.result
        assert "data 52e" in bind_message(dc, dn, tricky)
        assert bind_message(dc, dn, tricky.encode("utf-8")) == "bound"


def test_stop_start_keeps_data_and_each_dc_is_a_fresh_copy(dc: SambaADServer) -> None:
    login, dn = new_user(dc)
    dc.stop()
    assert not dc.running
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", 636)) != 0
    with running_samba_ad() as other:
        assert other.root != dc.root
        with connected(other, other.endpoint.admin_dn, other.endpoint.admin_password) as admin:
            admin.search(other.endpoint.user_base_dn, f"(sAMAccountName={login})")
            assert admin.result["result"] == 0
            assert admin.response == []
    dc.start()
    assert dc.running
    assert bind_message(dc, dn, "Start-Pass-1") == "bound"


def test_a_second_dc_is_refused_while_one_runs(dc: SambaADServer) -> None:
    assert dc.running
    with pytest.raises(RuntimeError, match=r"port\(s\) 389, 636, 3268, 3269 .* in use"), running_samba_ad():
        pass
