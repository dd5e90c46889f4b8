"""Checking personal data the way banks and phone networks do: phonenumbers for phones, schwifty for IBAN and BIC."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ess.domain.errors import InvalidInput

# phonenumbers, schwifty and email-validator are imported where a value is checked, not at start: together they
# are a noticeable part of a cold start (their tables of countries, banks and domains), and most requests check none.

POSTAL_CODES: Final = {"DE": re.compile(r"\d{5}"), "CH": re.compile(r"\d{4}"), "AT": re.compile(r"\d{4}")}
# One @, something on both sides, a dot in the domain, no spaces: what a mail server will accept in practice.


class Problem(StrEnum):
    """Why a value was refused; the edge turns these into messages in the user's language."""

    PHONE_INVALID = "phone_invalid"
    IBAN_CHECKSUM = "iban_checksum"
    IBAN_LENGTH = "iban_length"
    IBAN_COUNTRY = "iban_country"
    IBAN_INVALID = "iban_invalid"
    BIC_INVALID = "bic_invalid"
    BIC_MISMATCH = "bic_mismatch"
    POSTAL_CODE = "postal_code"
    EMAIL = "email"
    REQUIRED = "required"
    TOO_LONG = "too_long"
    COUNTRY = "country"
    TOO_MANY = "too_many"
    READ_ONLY = "read_only"
    REQUEST_OPEN = "request_open"
    EFFECTIVE_DATE = "effective_date"
    REAUTH_MISSING = "reauth_missing"
    REAUTH_WRONG = "reauth_wrong"


class FieldRejected(InvalidInput):
    code = "field_rejected"

    def __init__(self, field: str, problem: Problem) -> None:
        super().__init__(f"{field}: {problem.value}", fields={field: problem.value})
        self.field = field
        self.problem = problem


def phone_e164(raw: str, *, field: str, default_region: str = "DE") -> str:
    """A phone number as E.164 (+498912345678). National forms are read for `default_region`."""
    import phonenumbers  # noqa: PLC0415 - see the imports

    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise FieldRejected(field, Problem.PHONE_INVALID) from exc
    if not phonenumbers.is_valid_number(number):
        raise FieldRejected(field, Problem.PHONE_INVALID)
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def phone_display(e164: str, *, region: str = "DE") -> str:
    """National form for numbers of `region` (089 12345678), international form otherwise (+41 44 123 45 67)."""
    import phonenumbers  # noqa: PLC0415 - see the imports

    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164  # stored before numbers were checked: shown as it is
    same_country = phonenumbers.region_code_for_number(number) == region
    style = phonenumbers.PhoneNumberFormat.NATIONAL if same_country else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return str(phonenumbers.format_number(number, style))


@dataclass(frozen=True, slots=True)
class BankAccount:
    iban: str  # compact, upper case
    bic: str  # empty when neither given nor derivable
    holder: str


def bank_account(iban_raw: str, bic_raw: str, holder: str) -> BankAccount:
    """Check the IBAN (checksum, length for its country) and the BIC: derived from the bank code where the registry
    knows it, otherwise as given; a given BIC must belong to the IBAN's country."""
    from schwifty import BIC, IBAN  # noqa: PLC0415 - see the imports
    from schwifty.exceptions import SchwiftyException  # noqa: PLC0415

    try:
        iban = IBAN(iban_raw)
    except SchwiftyException as exc:
        name = type(exc).__name__
        problem = {
            "InvalidChecksumDigits": Problem.IBAN_CHECKSUM,
            "InvalidLength": Problem.IBAN_LENGTH,
            "InvalidCountryCode": Problem.IBAN_COUNTRY,
        }.get(name, Problem.IBAN_INVALID)
        raise FieldRejected("iban", problem) from exc
    given = bic_raw.strip().replace(" ", "").upper()
    derived = iban.bic
    if given:
        try:
            bic = BIC(given)
        except SchwiftyException as exc:
            raise FieldRejected("bic", Problem.BIC_INVALID) from exc
        if bic.country_code != iban.country_code:
            raise FieldRejected("bic", Problem.BIC_MISMATCH)
        chosen = str(bic.compact)
    else:
        chosen = str(derived.compact) if derived is not None else ""
    return BankAccount(iban=str(iban.compact), bic=chosen, holder=holder.strip())


def postal_code(code: str, country: str) -> str:
    value = code.strip()
    rule = POSTAL_CODES.get(country.upper())
    if rule is not None and not rule.fullmatch(value):
        raise FieldRejected("postal_code", Problem.POSTAL_CODE)
    return value


def email(raw: str, *, field: str = "email") -> str:
    """A deliverable-looking address by RFC 5321/5322 as email-validator reads them (no NUL, no `<>`, no quoted
    local parts, internationalised domains in their normal form); no DNS lookup: intranet domains need not resolve."""
    from email_validator import EmailNotValidError, validate_email  # noqa: PLC0415 - see the imports

    value = raw.strip()
    try:
        checked = validate_email(value, check_deliverability=False, allow_quoted_local=False)
    except EmailNotValidError as exc:
        raise FieldRejected(field, Problem.EMAIL) from exc
    # RFC 5321 4.5.3.1: 64 octets before the @, 254 in all (what mail servers enforce).
    if len(checked.local_part.encode("utf-8")) > 64 or len(checked.normalized.encode("utf-8")) > 254:
        raise FieldRejected(field, Problem.EMAIL)
    return str(checked.normalized)
