"""Profile rules without storage: policies from configuration, submissions to values, masking, directory fields."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ess.domain.hr.model import Employee, WorkLocation, WorkPattern
from ess.domain.profile.model import (
    DEFAULT_POLICIES,
    FieldPolicy,
    ProfileField,
    ProfilePolicies,
    contacts_from_value,
    directory_values,
    mask,
)
from ess.domain.profile.submission import ProfileRejected, normalise, submitted_fields


def anna(**changes: object) -> Employee:
    values: dict[str, object] = {
        "personnel_number": "P10011",
        "login": "anna.schmidt",
        "first_name": "Anna",
        "last_name": "Schmidt",
        "work_email": "anna.schmidt@example-ess.test",
        "hire_date": date(2019, 4, 1),
        "location": WorkLocation("DE", "BY"),
        "work_pattern": WorkPattern.first_days(5),
        "annual_leave_days": Decimal(30),
        **changes,
    }
    return Employee(**values)  # type: ignore[arg-type]


def test_default_policies_are_the_documented_ones() -> None:
    policies = ProfilePolicies()
    assert policies.of(ProfileField.MOBILE_PHONE) is FieldPolicy.SELF_SERVICE
    assert policies.of(ProfileField.EMERGENCY_CONTACTS) is FieldPolicy.SELF_SERVICE
    assert policies.of(ProfileField.ADDRESS) is FieldPolicy.NOTIFY_HR
    assert policies.of(ProfileField.BANK_ACCOUNT) is FieldPolicy.APPROVAL
    assert policies.of(ProfileField.LEGAL_NAME) is FieldPolicy.APPROVAL
    assert set(DEFAULT_POLICIES) == set(ProfileField)


def test_configuration_overrides_single_fields_and_names_mistakes() -> None:
    policies = ProfilePolicies.from_config({"address": "approval", "work_phone": "read_only"})
    assert policies.of(ProfileField.ADDRESS) is FieldPolicy.APPROVAL
    assert policies.of(ProfileField.WORK_PHONE) is FieldPolicy.READ_ONLY
    assert policies.of(ProfileField.MOBILE_PHONE) is FieldPolicy.SELF_SERVICE
    with pytest.raises(ValueError, match="home_phone"):
        ProfilePolicies.from_config({"home_phone": "approval"})
    with pytest.raises(ValueError, match="sometimes"):
        ProfilePolicies.from_config({"address": "sometimes"})


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("0170 1234567", "+491701234567"),
        ("+49 (170) 123-4567", "+491701234567"),
        ("0041 44 668 18 00", "+41446681800"),
        ("", ""),
    ],
)
def test_phones_are_stored_as_e164(raw: str, stored: str) -> None:
    assert normalise(ProfileField.MOBILE_PHONE, {"mobile_phone": raw}, region="DE") == {"mobile_phone": stored}


def test_a_national_number_is_read_for_the_employees_country() -> None:
    assert normalise(ProfileField.WORK_PHONE, {"work_phone": "044 668 18 00"}, region="CH") == {
        "work_phone": "+41446681800"
    }


@pytest.mark.parametrize(
    ("inputs", "problems"),
    [
        ({"mobile_phone": "+49 123"}, {"mobile_phone": "phone_invalid"}),
        ({"mobile_phone": "call me"}, {"mobile_phone": "phone_invalid"}),
    ],
)
def test_bad_phones_are_named(inputs: dict[str, str], problems: dict[str, str]) -> None:
    with pytest.raises(ProfileRejected) as caught:
        normalise(ProfileField.MOBILE_PHONE, inputs, region="DE")
    assert caught.value.fields == problems


def test_every_wrong_part_of_an_address_is_named_at_once() -> None:
    with pytest.raises(ProfileRejected) as caught:
        normalise(
            ProfileField.ADDRESS, {"street": "", "postal_code": "1234", "city": "Berlin", "country": "DE"}, region="DE"
        )
    assert caught.value.fields == {"street": "required", "postal_code": "postal_code"}
    with pytest.raises(ProfileRejected) as country:
        normalise(
            ProfileField.ADDRESS, {"street": "A 1", "postal_code": "1010", "city": "Wien", "country": "XX"}, region="DE"
        )
    assert country.value.fields == {"country": "country"}


def test_postal_codes_follow_the_country() -> None:
    vienna = normalise(
        ProfileField.ADDRESS,
        {"street": "Neubaugasse 44", "postal_code": "1070", "city": "Wien", "country": "at"},
        region="DE",
    )
    assert vienna == {"street": "Neubaugasse 44", "postal_code": "1070", "city": "Wien", "country": "AT"}
    with pytest.raises(ProfileRejected):
        normalise(
            ProfileField.ADDRESS,
            {"street": "X 1", "postal_code": "10700", "city": "Wien", "country": "AT"},
            region="DE",
        )


def test_texts_are_trimmed_normalised_and_stripped_of_control_characters() -> None:
    value = normalise(ProfileField.PREFERRED_NAME, {"preferred_name": "  Ju\u0308rgen\u0007 "}, region="DE")
    assert value == {"preferred_name": "Jürgen"}


def test_bank_accounts_are_checked_and_the_bic_derived() -> None:
    value = normalise(
        ProfileField.BANK_ACCOUNT,
        {"iban": "de89 3704 0044 0532 0130 00", "bic": "", "holder": "Anna Schmidt"},
        region="DE",
    )
    assert value == {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "holder": "Anna Schmidt"}
    with pytest.raises(ProfileRejected) as caught:
        normalise(ProfileField.BANK_ACCOUNT, {"iban": "DE89 3704 0044 0532 0130 01", "holder": ""}, region="DE")
    assert caught.value.fields == {"holder": "required", "iban": "iban_checksum"}


def test_emergency_contacts_drop_empty_rows_and_at_most_five_count() -> None:
    rows = {f"{part}_{i}": "" for i in range(1, 4) for part in ("name", "relation", "phone")}
    rows |= {"name_2": "Eva", "relation_2": "Mutter", "phone_2": "0171 7654321"}
    value = normalise(ProfileField.EMERGENCY_CONTACTS, rows, region="DE")
    assert value == {"name_1": "Eva", "relation_1": "Mutter", "phone_1": "+491717654321"}
    assert [c.name for c in contacts_from_value(value)] == ["Eva"]
    six = {f"{p}_{i}": v for i in range(1, 7) for p, v in (("name", "X"), ("relation", "Y"), ("phone", "0171 7654321"))}
    with pytest.raises(ProfileRejected) as caught:
        normalise(ProfileField.EMERGENCY_CONTACTS, six, region="DE")
    assert caught.value.fields == {"emergency_contacts": "too_many"}


def test_which_fields_a_submission_touches() -> None:
    assert submitted_fields({"mobile_phone": "1", "street": "x", "_csrf_token": "t"}) == {
        ProfileField.MOBILE_PHONE,
        ProfileField.ADDRESS,
    }
    assert submitted_fields({"name_1": "Eva"}) == {ProfileField.EMERGENCY_CONTACTS}
    assert submitted_fields({"iban": "x"}) == {ProfileField.BANK_ACCOUNT}


def test_masking_hides_the_account_number_but_not_the_rest() -> None:
    masked = mask({"iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "holder": "Anna Schmidt"})
    assert masked == {"iban": "DE89••••••••••••••3000", "bic": "COBADEFFXXX", "holder": "Anna Schmidt"}
    assert mask({"mobile_phone": "+491701234567"}) == {"mobile_phone": "+491701234567"}


def test_directory_fields_of_each_profile_field() -> None:
    e = anna(preferred_name="")
    assert directory_values(ProfileField.PREFERRED_NAME, {"preferred_name": "Anni"}, e) == {
        "display_name": "Anni Schmidt"
    }
    assert directory_values(ProfileField.LEGAL_NAME, {"first_name": "Anna", "last_name": "Weber"}, e) == {
        "display_name": "Anna Weber"
    }
    assert directory_values(
        ProfileField.ADDRESS, {"street": "A 1", "postal_code": "80802", "city": "München", "country": "DE"}, e
    ) == {"street": "A 1", "postal_code": "80802", "city": "München"}
    assert directory_values(ProfileField.BANK_ACCOUNT, {"iban": "x", "bic": "", "holder": "y"}, e) == {}
    assert directory_values(ProfileField.EMERGENCY_CONTACTS, {}, e) == {}
