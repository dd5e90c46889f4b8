"""The password policy controls of draft-behera-ldap-password-policy, which ldap3 sends but does not decode."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final

PPOLICY_OID: Final = "1.3.6.1.4.1.42.2.27.8.5.1"
# The request control carries no value; marked non-critical so servers without ppolicy still answer.
PPOLICY_REQUEST: Final = (PPOLICY_OID, False, None)

_SEQUENCE, _WARNING, _TIME_BEFORE_EXPIRATION, _GRACE_REMAINING, _ERROR = 0x30, 0xA0, 0x80, 0x81, 0x81


class PolicyError(IntEnum):
    PASSWORD_EXPIRED = 0
    ACCOUNT_LOCKED = 1
    CHANGE_AFTER_RESET = 2
    PASSWORD_MOD_NOT_ALLOWED = 3
    MUST_SUPPLY_OLD_PASSWORD = 4
    INSUFFICIENT_PASSWORD_QUALITY = 5
    PASSWORD_TOO_SHORT = 6
    PASSWORD_TOO_YOUNG = 7
    PASSWORD_IN_HISTORY = 8
    PASSWORD_TOO_LONG = 9


@dataclass(frozen=True, slots=True)
class PolicyResponse:
    error: PolicyError | None = None
    seconds_before_expiration: int | None = None
    grace_logins_remaining: int | None = None


class ControlDecodeError(ValueError):
    pass


def _read_tlv(data: bytes, offset: int) -> tuple[int, bytes, int]:
    """One BER tag-length-value at `offset`: (tag, value, offset after it). Definite lengths only, as LDAP uses."""
    if offset + 2 > len(data):
        raise ControlDecodeError("truncated")
    tag, length = data[offset], data[offset + 1]
    offset += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or offset + count > len(data):
            raise ControlDecodeError("bad length")
        length = int.from_bytes(data[offset : offset + count], "big")
        offset += count
    if offset + length > len(data):
        raise ControlDecodeError("truncated value")
    return tag, data[offset : offset + length], offset + length


def _integer(value: bytes) -> int:
    if not value:
        raise ControlDecodeError("empty integer")
    return int.from_bytes(value, "big", signed=True)


def decode_response(value: bytes) -> PolicyResponse:
    """Decode the response control value: SEQUENCE { warning [0] CHOICE {...} OPTIONAL, error [1] ENUM OPTIONAL }."""
    tag, body, end = _read_tlv(value, 0)
    if tag != _SEQUENCE or end != len(value):
        raise ControlDecodeError("not a sequence")
    error: PolicyError | None = None
    seconds: int | None = None
    grace: int | None = None
    offset = 0
    while offset < len(body):
        tag, inner, offset = _read_tlv(body, offset)
        if tag == _WARNING:
            warning_tag, warning_value, _ = _read_tlv(inner, 0)
            if warning_tag == _TIME_BEFORE_EXPIRATION:
                seconds = _integer(warning_value)
            elif warning_tag == _GRACE_REMAINING:
                grace = _integer(warning_value)
        elif tag == _ERROR:
            code = _integer(inner)
            error = PolicyError(code) if code in PolicyError._value2member_map_ else None
    return PolicyResponse(error=error, seconds_before_expiration=seconds, grace_logins_remaining=grace)


def response_from_result(result: dict[str, object]) -> PolicyResponse | None:
    """The decoded policy response in an ldap3 result, or None when the server sent none (or sent garbage)."""
    controls = result.get("controls")
    if not isinstance(controls, dict) or PPOLICY_OID not in controls:
        return None
    raw = controls[PPOLICY_OID].get("value") if isinstance(controls[PPOLICY_OID], dict) else None
    if not isinstance(raw, bytes | bytearray):
        return None
    try:
        return decode_response(bytes(raw))
    except ControlDecodeError:
        return None
