"""What the profile pages and mails call fields, parts, problems and states, in the user's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ess.domain.profile import validation
from ess.domain.profile.model import FieldValue, ProfileField, RequestStatus, contacts_from_value
from ess.domain.profile.validation import Problem
from ess.routes.rendering import N_

FIELD_LABELS: Final = {
    ProfileField.PREFERRED_NAME: N_("Preferred name"),
    ProfileField.WORK_PHONE: N_("Work phone"),
    ProfileField.MOBILE_PHONE: N_("Mobile phone"),
    ProfileField.PRIVATE_PHONE: N_("Private phone"),
    ProfileField.ADDRESS: N_("Private address"),
    ProfileField.EMERGENCY_CONTACTS: N_("Emergency contacts"),
    ProfileField.BANK_ACCOUNT: N_("Bank account"),
    ProfileField.LEGAL_NAME: N_("Legal name"),
}

PART_LABELS: Final = {
    "preferred_name": N_("Preferred name"),
    "work_phone": N_("Work phone"),
    "mobile_phone": N_("Mobile phone"),
    "private_phone": N_("Private phone"),
    "street": N_("Street and number"),
    "postal_code": N_("Postal code"),
    "city": N_("City"),
    "country": N_("Country"),
    "iban": N_("IBAN"),
    "bic": N_("BIC"),
    "holder": N_("Account holder"),
    "first_name": N_("First name"),
    "last_name": N_("Last name"),
}

POLICY_LABELS: Final = {
    "read_only": N_("Changed by HR only"),
    "self_service": N_("You can change this; it applies at once."),
    "notify_hr": N_("You can change this; it applies at once and HR is informed."),
    "approval": N_("Changes are checked and approved by HR before they apply."),
}

STATUS_LABELS: Final = {
    RequestStatus.PENDING: N_("waiting for HR"),
    RequestStatus.APPROVED: N_("approved, takes effect on its date"),
    RequestStatus.APPLIED: N_("applied"),
    RequestStatus.REJECTED: N_("rejected"),
    RequestStatus.WITHDRAWN: N_("withdrawn"),
}

PROBLEM_MESSAGES: Final = {
    Problem.PHONE_INVALID: N_(
        "This is not a valid phone number. Please enter it with the area code, e.g. 089 1234567 or +41 44 123 45 67."
    ),
    Problem.IBAN_CHECKSUM: N_("This IBAN is not correct: its check digits do not match. Please check every digit."),
    Problem.IBAN_LENGTH: N_("This IBAN has the wrong length for its country."),
    Problem.IBAN_COUNTRY: N_("This IBAN does not start with a known country code."),
    Problem.IBAN_INVALID: N_("This is not a valid IBAN."),
    Problem.BIC_INVALID: N_("This is not a valid BIC."),
    Problem.BIC_MISMATCH: N_("The BIC belongs to a bank in another country than the IBAN."),
    Problem.POSTAL_CODE: N_(
        "This postal code is not valid for the country (Germany: 5 digits, Austria and Switzerland: 4 digits)."
    ),
    Problem.EMAIL: N_("This is not a valid e-mail address."),
    Problem.REQUIRED: N_("Please fill in this field."),
    Problem.TOO_LONG: N_("This entry is too long (at most 200 characters)."),
    Problem.COUNTRY: N_("Please enter a country as a two-letter code, e.g. DE, AT or CH."),
    Problem.TOO_MANY: N_("At most five emergency contacts can be recorded."),
    Problem.READ_ONLY: N_("This field is changed by HR only."),
    Problem.REQUEST_OPEN: N_("A change of this field is already waiting. Withdraw it first to submit another."),
    Problem.EFFECTIVE_DATE: N_("The date must lie between today and one year from now."),
    Problem.REAUTH_MISSING: N_("Please enter your current password to confirm the change of your bank account."),
    Problem.REAUTH_WRONG: N_("The password is not correct."),
}


def field_errors(fields: Mapping[str, str], gettext: Any) -> dict[str, list[str]]:
    """Per input name, the message for each problem code the domain reported."""
    errors: dict[str, list[str]] = {}
    for name, code in fields.items():
        try:
            message = PROBLEM_MESSAGES[Problem(code)]
        except ValueError:
            message = N_("This entry is not valid.")
        errors.setdefault(name, []).append(gettext(message))
    return errors


def display_parts(value: FieldValue, *, region: str, gettext: Any) -> list[tuple[str, str]]:
    """A value as (part label, text) pairs for people: phones in national form, IBAN in groups of four."""
    shown: list[tuple[str, str]] = []
    contacts = contacts_from_value(value)
    if contacts:
        for contact in contacts:
            shown.append((contact.name, f"{contact.relation}, {phone_text(contact.phone, region)}"))
        return shown
    for part, raw in value.items():
        text = raw
        if part.endswith("phone"):
            text = phone_text(raw, region)
        elif part == "iban":
            text = " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))
        shown.append((gettext(PART_LABELS[part]) if part in PART_LABELS else part, text))
    return shown


def phone_text(e164: str, region: str) -> str:
    if not e164:
        return ""
    return validation.phone_display(e164, region=region)
