"""Turning what an employee typed into a field's canonical value, or into a message per input that is wrong."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Final

from ess.domain.errors import InvalidInput
from ess.domain.profile import validation
from ess.domain.profile.model import (
    FIELD_PARTS,
    MAX_EMERGENCY_CONTACTS,
    EmergencyContact,
    FieldValue,
    ProfileField,
    contacts_value,
)
from ess.domain.profile.validation import FieldRejected, Problem

MAX_TEXT: Final = 200
_CONTACT_KEY: Final = re.compile(r"(name|relation|phone)_(\d{1,2})")


class ProfileRejected(InvalidInput):
    """One or more inputs are wrong: `fields` maps each input name to its Problem code. Nothing was changed."""

    code = "profile_rejected"

    def __init__(self, problems: Mapping[str, Problem]) -> None:
        super().__init__(
            "Some entries are not valid: " + ", ".join(f"{k} ({v.value})" for k, v in problems.items()),
            fields={k: v.value for k, v in problems.items()},
        )
        self.problems = dict(problems)


def _text(raw: Mapping[str, str], name: str, problems: dict[str, Problem], *, required: bool) -> str:
    # NFC so that "ü" typed on a Mac and on Windows is the same value; no control characters.
    value = unicodedata.normalize("NFC", raw.get(name, "")).strip()
    value = "".join(ch for ch in value if unicodedata.category(ch)[0] != "C")
    if required and not value:
        problems[name] = Problem.REQUIRED
    elif len(value) > MAX_TEXT:
        problems[name] = Problem.TOO_LONG
    return value


def _phone(raw: str, name: str, region: str, problems: dict[str, Problem], *, required: bool = False) -> str:
    if not raw.strip():
        if required:
            problems[name] = Problem.REQUIRED
        return ""
    try:
        return validation.phone_e164(raw, field=name, default_region=region)
    except FieldRejected as exc:
        problems[name] = exc.problem
        return ""


def normalise(profile_field: ProfileField, raw: Mapping[str, str], *, region: str) -> FieldValue:
    """The canonical value for the submitted inputs of one field; `region` reads national phone numbers.
    Raises ProfileRejected naming every wrong input."""
    problems: dict[str, Problem] = {}
    value: FieldValue
    match profile_field:
        case ProfileField.WORK_PHONE | ProfileField.MOBILE_PHONE | ProfileField.PRIVATE_PHONE:
            name = profile_field.value
            value = {name: _phone(raw.get(name, ""), name, region, problems)}
        case ProfileField.PREFERRED_NAME:
            value = {"preferred_name": _text(raw, "preferred_name", problems, required=False)}
        case ProfileField.LEGAL_NAME:
            value = {
                "first_name": _text(raw, "first_name", problems, required=True),
                "last_name": _text(raw, "last_name", problems, required=True),
            }
        case ProfileField.ADDRESS:
            value = _address(raw, region, problems)
        case ProfileField.BANK_ACCOUNT:
            value = _bank_account(raw, problems)
        case ProfileField.EMERGENCY_CONTACTS:
            value = _contacts(raw, region, problems)
    if problems:
        raise ProfileRejected(problems)
    return value


def _address(raw: Mapping[str, str], region: str, problems: dict[str, Problem]) -> FieldValue:
    import phonenumbers  # noqa: PLC0415 - on first use, as in ess.domain.profile.validation

    country = raw.get("country", "").strip().upper() or region
    if country not in phonenumbers.SUPPORTED_REGIONS:
        problems["country"] = Problem.COUNTRY
    value = {
        "street": _text(raw, "street", problems, required=True),
        "postal_code": _text(raw, "postal_code", problems, required=True),
        "city": _text(raw, "city", problems, required=True),
        "country": country,
    }
    if "postal_code" not in problems:
        try:
            value["postal_code"] = validation.postal_code(value["postal_code"], country)
        except FieldRejected as exc:
            problems["postal_code"] = exc.problem
    return value


def _bank_account(raw: Mapping[str, str], problems: dict[str, Problem]) -> FieldValue:
    holder = _text(raw, "holder", problems, required=True)
    if not raw.get("iban", "").strip():
        problems["iban"] = Problem.REQUIRED
        return {"iban": "", "bic": "", "holder": holder}
    try:
        account = validation.bank_account(raw.get("iban", ""), raw.get("bic", ""), holder)
    except FieldRejected as exc:
        problems[exc.field] = exc.problem
        return {"iban": "", "bic": "", "holder": holder}
    return {"iban": account.iban, "bic": account.bic, "holder": account.holder}


def _contacts(raw: Mapping[str, str], region: str, problems: dict[str, Problem]) -> FieldValue:
    """Rows left completely empty are dropped; the others keep their order and are numbered from 1 again."""
    indexes = sorted({int(m.group(2)) for key in raw if (m := _CONTACT_KEY.fullmatch(key))})
    contacts: list[EmergencyContact] = []
    for index in indexes:
        names = (f"name_{index}", f"relation_{index}", f"phone_{index}")
        if not any(raw.get(n, "").strip() for n in names):
            continue
        name = _text(raw, names[0], problems, required=True)
        relation = _text(raw, names[1], problems, required=True)
        phone = _phone(raw.get(names[2], ""), names[2], region, problems, required=True)
        contacts.append(EmergencyContact(name, relation, phone))
    if len(contacts) > MAX_EMERGENCY_CONTACTS:
        problems["emergency_contacts"] = Problem.TOO_MANY
    return contacts_value(contacts)


def submitted_fields(raw: Mapping[str, str]) -> set[ProfileField]:
    """Which fields a flat form or API body touches, by the names of its inputs."""
    touched: set[ProfileField] = set()
    for profile_field, parts in FIELD_PARTS.items():
        if any(part in raw for part in parts):
            touched.add(profile_field)
    if any(_CONTACT_KEY.fullmatch(key) for key in raw) or "emergency_contacts" in raw:
        touched.add(ProfileField.EMERGENCY_CONTACTS)
    return touched
