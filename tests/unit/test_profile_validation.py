"""Personal data checks, table-driven: phones, IBAN/BIC, postal codes, e-mail."""

from __future__ import annotations

import pytest

from ess.domain.profile.validation import (
    FieldRejected,
    Problem,
    bank_account,
    email,
    phone_display,
    phone_e164,
    postal_code,
)


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("089 12345678", "DE", "+498912345678"),
        ("+49 170 1234567", "DE", "+491701234567"),
        ("0041 44 123 45 67", "DE", "+41441234567"),
        ("044 123 45 67", "CH", "+41441234567"),
        ("+43 664 1234567", "AT", "+436641234567"),
    ],
)
def test_phones_are_stored_as_e164(raw: str, region: str, e164: str) -> None:
    assert phone_e164(raw, field="mobile_phone", default_region=region) == e164


@pytest.mark.parametrize("raw", ["+49 123", "12", "abc", "", "+49 89 1"])
def test_impossible_phones_are_refused_at_their_field(raw: str) -> None:
    with pytest.raises(FieldRejected) as caught:
        phone_e164(raw, field="mobile_phone")
    assert caught.value.fields == {"mobile_phone": "phone_invalid"}


def test_phones_are_shown_nationally_at_home_and_internationally_abroad() -> None:
    assert phone_display("+498912345678", region="DE") == "089 12345678"
    assert phone_display("+41441234567", region="DE") == "+41 44 123 45 67"


def test_a_good_iban_gets_its_bic_from_the_bank_code() -> None:
    account = bank_account("DE89 3704 0044 0532 0130 00", "", " Anna Schmidt ")
    assert account == type(account)(iban="DE89370400440532013000", bic="COBADEFFXXX", holder="Anna Schmidt")


@pytest.mark.parametrize(
    ("iban", "problem"),
    [
        ("DE89 3704 0044 0532 0130 01", Problem.IBAN_CHECKSUM),  # one digit off (the example)
        ("DE89 3704 0044 0532 0130", Problem.IBAN_LENGTH),
        ("XX89 3704 0044 0532 0130 00", Problem.IBAN_COUNTRY),
        ("not an iban", Problem.IBAN_INVALID),
    ],
)
def test_bad_ibans_are_refused_with_the_reason(iban: str, problem: Problem) -> None:
    with pytest.raises(FieldRejected) as caught:
        bank_account(iban, "", "Anna Schmidt")
    assert (caught.value.field, caught.value.problem) == ("iban", problem)


def test_a_given_bic_is_checked() -> None:
    assert bank_account("DE89370400440532013000", "COBADEFFXXX", "A").bic == "COBADEFFXXX"
    with pytest.raises(FieldRejected) as wrong_country:
        bank_account("DE89370400440532013000", "UBSWCHZH80A", "A")
    assert wrong_country.value.problem is Problem.BIC_MISMATCH
    with pytest.raises(FieldRejected) as malformed:
        bank_account("DE89370400440532013000", "XX", "A")
    assert malformed.value.problem is Problem.BIC_INVALID


@pytest.mark.parametrize(
    ("code", "country", "ok"),
    [("80331", "DE", True), ("8033", "DE", False), ("8001", "CH", True), ("80011", "CH", False), ("1010", "AT", True),
     ("A-1010", "AT", False), ("SW1A 1AA", "GB", True)],
)  # fmt: skip
def test_postal_codes_per_country(code: str, country: str, ok: bool) -> None:
    if ok:
        assert postal_code(code, country) == code
    else:
        with pytest.raises(FieldRejected):
            postal_code(code, country)


@pytest.mark.parametrize(
    ("raw", "ok"),
    [("anna@example.org", True), ("anna@example", False), ("anna example@x.org", False), ("@x.org", False),
     ("anna\x00@example.org", False), ("anna@exam\x00ple.org", False), ("a<b>@example.org", False),
     ("<anna@example.org>", False), ('"a b"@example.org', False), ("anna@@example.org", False),
     ("anna.@example.org", False), ("a" * 65 + "@example.org", False), ("jürgen@müller.example", True)],
)  # fmt: skip
def test_email_syntax(raw: str, ok: bool) -> None:
    """Checked by email-validator (RFC 5321/5322, no DNS): NUL, angle brackets, quoted or over-long local parts fail."""
    if ok:
        assert email(raw) == raw
    else:
        with pytest.raises(FieldRejected):
            email(raw)
