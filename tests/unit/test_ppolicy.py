"""Decoding the password policy response control, with BER byte strings as OpenLDAP sends them."""

from __future__ import annotations

import pytest

from ess.adapters.ldap.ppolicy import (
    PPOLICY_OID,
    ControlDecodeError,
    PolicyError,
    PolicyResponse,
    decode_response,
    response_from_result,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"\x30\x00", PolicyResponse()),
        (b"\x30\x03\x81\x01\x00", PolicyResponse(error=PolicyError.PASSWORD_EXPIRED)),
        (b"\x30\x03\x81\x01\x01", PolicyResponse(error=PolicyError.ACCOUNT_LOCKED)),
        (b"\x30\x03\x81\x01\x02", PolicyResponse(error=PolicyError.CHANGE_AFTER_RESET)),
        (b"\x30\x03\x81\x01\x05", PolicyResponse(error=PolicyError.INSUFFICIENT_PASSWORD_QUALITY)),
        (b"\x30\x03\x81\x01\x06", PolicyResponse(error=PolicyError.PASSWORD_TOO_SHORT)),
        (b"\x30\x03\x81\x01\x07", PolicyResponse(error=PolicyError.PASSWORD_TOO_YOUNG)),
        (b"\x30\x03\x81\x01\x08", PolicyResponse(error=PolicyError.PASSWORD_IN_HISTORY)),
        # warning: timeBeforeExpiration 1209600 s (14 days) = 0x127500
        (b"\x30\x07\xa0\x05\x80\x03\x12\x75\x00", PolicyResponse(seconds_before_expiration=1209600)),
        # warning: 2 grace logins left, and the error "expired"
        (b"\x30\x08\xa0\x03\x81\x01\x02\x81\x01\x00", PolicyResponse(PolicyError.PASSWORD_EXPIRED, None, 2)),
        # an error code from a later draft that we do not know: no error, no crash
        (b"\x30\x03\x81\x01\x2a", PolicyResponse()),
    ],
)
def test_decode_response(value: bytes, expected: PolicyResponse) -> None:
    assert decode_response(value) == expected


@pytest.mark.parametrize(
    "value", [b"", b"\x30", b"\x30\x05\x81\x01\x00", b"\x04\x00", b"\x30\x02\x81\x00", b"\x30\x84"]
)
def test_broken_values_are_refused(value: bytes) -> None:
    with pytest.raises(ControlDecodeError):
        decode_response(value)


def test_reading_from_an_ldap3_result() -> None:
    result = {
        "result": 49,
        "controls": {PPOLICY_OID: {"description": "", "criticality": False, "value": b"\x30\x03\x81\x01\x01"}},
    }
    assert response_from_result(result) == PolicyResponse(error=PolicyError.ACCOUNT_LOCKED)
    assert response_from_result({"result": 49}) is None
    assert response_from_result({"controls": {PPOLICY_OID: {"value": b"garbage"}}}) is None
