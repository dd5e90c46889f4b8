"""How bind results become reasons: Active Directory's data codes and OpenLDAP's ppolicy control."""

from __future__ import annotations

from pathlib import Path

import pytest

from ess.adapters.ldap.connections import ConnectionSettings, DirectoryConnector
from ess.adapters.ldap.directory import LdapDirectory
from ess.adapters.ldap.ppolicy import PPOLICY_OID
from ess.domain.directory.model import AuthOutcome
from ess.settings import SettingsError, load_settings

CONFIG = Path(__file__).resolve().parents[2] / "config"


def directory(flavour: str) -> LdapDirectory:
    connector = DirectoryConnector(
        ConnectionSettings(("ldaps://127.0.0.1:636",), False, "", True, 1.0, 1.0, "cn=svc", "pw", 1)
    )
    return LdapDirectory(
        connector,
        flavour=flavour,  # type: ignore[arg-type]
        user_base_dn="ou=people",
        user_filter="(objectClass=person)",
        login_attribute="uid",
        email_attribute="mail",
        group_base_dn="",
        attributes={},
    )


def ad_failure(code: str) -> dict[str, object]:
    return {
        "result": 49,
        "message": f"80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data {code}, v1db1",
    }


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("52e", AuthOutcome.INVALID_CREDENTIALS),
        ("525", AuthOutcome.INVALID_CREDENTIALS),
        ("530", AuthOutcome.LOGON_NOT_PERMITTED),
        ("531", AuthOutcome.LOGON_NOT_PERMITTED),
        ("532", AuthOutcome.PASSWORD_EXPIRED),
        ("533", AuthOutcome.DISABLED),
        ("701", AuthOutcome.ACCOUNT_EXPIRED),
        ("773", AuthOutcome.MUST_CHANGE),
        ("775", AuthOutcome.LOCKED),
        ("fff", AuthOutcome.INVALID_CREDENTIALS),
    ],
)
def test_active_directory_bind_codes(code: str, outcome: AuthOutcome) -> None:
    assert directory("activedirectory")._outcome(ad_failure(code), bound=False) is outcome


def test_active_directory_without_a_code_is_a_plain_failure() -> None:
    assert directory("activedirectory")._outcome({"result": 49, "message": ""}, bound=False) is (
        AuthOutcome.INVALID_CREDENTIALS
    )
    assert directory("activedirectory")._outcome({"result": 0}, bound=True) is AuthOutcome.OK


@pytest.mark.parametrize(
    ("bound", "control", "outcome"),
    [
        (True, None, AuthOutcome.OK),
        (True, b"\x30\x03\x81\x01\x02", AuthOutcome.MUST_CHANGE),
        (False, b"\x30\x00", AuthOutcome.INVALID_CREDENTIALS),
        (False, b"\x30\x03\x81\x01\x00", AuthOutcome.PASSWORD_EXPIRED),
        (False, b"\x30\x03\x81\x01\x01", AuthOutcome.LOCKED),
        (False, None, AuthOutcome.INVALID_CREDENTIALS),
    ],
)
def test_openldap_ppolicy_bind_outcomes(bound: bool, control: bytes | None, outcome: AuthOutcome) -> None:
    result: dict[str, object] = {"result": 0 if bound else 49}
    if control is not None:
        result["controls"] = {PPOLICY_OID: {"value": control}}
    assert directory("openldap")._outcome(result, bound=bound) is outcome


def test_switching_certificate_validation_off_is_only_allowed_in_tests() -> None:
    environ = {
        "ESS_SECRET_KEY": "a-real-secret-that-is-long-enough-1234567890",
        "ESS_DATABASE_URL": "postgresql+asyncpg://ess:pw@db/ess",
        "ESS_DIRECTORY__LDAP__BIND_PASSWORD": "service-password",
        "ESS_DIRECTORY__LDAP__VERIFY_TLS": "false",
    }
    with pytest.raises(SettingsError, match="verify_tls"):
        load_settings(CONFIG / "openldap.example.toml", environ=environ)
    assert not load_settings(
        CONFIG / "openldap.example.toml", environ={**environ, "ESS_MODE": "test"}
    ).directory.ldap.verify_tls


def test_ldap_uris_must_be_given() -> None:
    with pytest.raises(SettingsError, match="uris"):
        load_settings(
            CONFIG / "ess.toml",
            environ={"ESS_DIRECTORY__KIND": "openldap", "ESS_DIRECTORY__LDAP__URIS": "[]"},
        )
