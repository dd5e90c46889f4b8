"""The personal data an employee keeps up to date themselves, how each field may change, and its history."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Final

from ess.domain.hr.model import Employee
from ess.domain.types import EmployeeId

# A field's value: its parts by name ("street", "postal_code", ...). Comparable, storable as JSON, easy to show.
FieldValue = dict[str, str]


class FieldPolicy(StrEnum):
    """How a change to a field takes effect."""

    READ_ONLY = "read_only"  # changes through HR only
    SELF_SERVICE = "self_service"  # applies at once
    NOTIFY_HR = "notify_hr"  # applies at once, HR hears of it
    APPROVAL = "approval"  # a change request that HR approves or rejects (four eyes)


class ProfileField(StrEnum):
    """The units an employee changes. Composite fields (address, bank account) change as a whole."""

    PREFERRED_NAME = "preferred_name"
    WORK_PHONE = "work_phone"
    MOBILE_PHONE = "mobile_phone"
    PRIVATE_PHONE = "private_phone"
    ADDRESS = "address"
    EMERGENCY_CONTACTS = "emergency_contacts"
    BANK_ACCOUNT = "bank_account"
    LEGAL_NAME = "legal_name"


# The parts of each field, in display order.
FIELD_PARTS: Final[Mapping[ProfileField, tuple[str, ...]]] = {
    ProfileField.PREFERRED_NAME: ("preferred_name",),
    ProfileField.WORK_PHONE: ("work_phone",),
    ProfileField.MOBILE_PHONE: ("mobile_phone",),
    ProfileField.PRIVATE_PHONE: ("private_phone",),
    ProfileField.ADDRESS: ("street", "postal_code", "city", "country"),
    ProfileField.BANK_ACCOUNT: ("iban", "bic", "holder"),
    ProfileField.LEGAL_NAME: ("first_name", "last_name"),
    # Emergency contacts: name_1, relation_1, phone_1, name_2, ... in their order.
    ProfileField.EMERGENCY_CONTACTS: (),
}

DEFAULT_POLICIES: Final[Mapping[ProfileField, FieldPolicy]] = {
    ProfileField.PREFERRED_NAME: FieldPolicy.SELF_SERVICE,
    ProfileField.WORK_PHONE: FieldPolicy.SELF_SERVICE,
    ProfileField.MOBILE_PHONE: FieldPolicy.SELF_SERVICE,
    ProfileField.PRIVATE_PHONE: FieldPolicy.SELF_SERVICE,
    ProfileField.EMERGENCY_CONTACTS: FieldPolicy.SELF_SERVICE,
    ProfileField.ADDRESS: FieldPolicy.NOTIFY_HR,
    ProfileField.BANK_ACCOUNT: FieldPolicy.APPROVAL,
    ProfileField.LEGAL_NAME: FieldPolicy.APPROVAL,
}

# Values only shown masked outside the HR queue (history, mails).
SENSITIVE_PARTS: Final = frozenset({"iban"})
MAX_EMERGENCY_CONTACTS: Final = 5


@dataclass(frozen=True, slots=True)
class ProfilePolicies:
    """The policy per field, from configuration; fields not named keep the defaults."""

    by_field: Mapping[ProfileField, FieldPolicy] = field(default_factory=lambda: dict(DEFAULT_POLICIES))

    @classmethod
    def from_config(cls, configured: Mapping[str, str]) -> ProfilePolicies:
        """Raise ValueError naming an unknown field or policy (checked when the app starts)."""
        policies = dict(DEFAULT_POLICIES)
        for name, value in configured.items():
            try:
                policies[ProfileField(name)] = FieldPolicy(value)
            except ValueError as exc:
                raise ValueError(
                    f"profile.policies: {name} = {value!r} is not valid; fields are "
                    f"{', '.join(f.value for f in ProfileField)}, policies {', '.join(p.value for p in FieldPolicy)}"
                ) from exc
        return cls(by_field=policies)

    def of(self, profile_field: ProfileField) -> FieldPolicy:
        return self.by_field.get(profile_field, FieldPolicy.READ_ONLY)


@dataclass(frozen=True, slots=True)
class EmergencyContact:
    name: str
    relation: str
    phone: str  # E.164


@dataclass(frozen=True, slots=True)
class StoredBankAccount:
    iban: str
    bic: str
    holder: str


@dataclass(frozen=True, slots=True)
class Profile:
    """An employee's HR record with the personal data kept beside it."""

    employee: Employee
    bank_account: StoredBankAccount | None = None
    emergency_contacts: tuple[EmergencyContact, ...] = ()

    def value(self, profile_field: ProfileField) -> FieldValue:
        e, a, b = self.employee, self.employee.address, self.bank_account
        if profile_field is ProfileField.EMERGENCY_CONTACTS:
            return contacts_value(self.emergency_contacts)
        if profile_field is ProfileField.BANK_ACCOUNT:
            return (
                {"iban": b.iban, "bic": b.bic, "holder": b.holder}
                if b
                else dict.fromkeys(("iban", "bic", "holder"), "")
            )
        known = {
            "preferred_name": e.preferred_name,
            "work_phone": e.work_phone,
            "mobile_phone": e.mobile_phone,
            "private_phone": e.private_phone,
            "street": a.street,
            "postal_code": a.postal_code,
            "city": a.city,
            "country": a.country,
            "first_name": e.first_name,
            "last_name": e.last_name,
        }
        return {part: known[part] for part in FIELD_PARTS[profile_field]}


def contacts_value(contacts: tuple[EmergencyContact, ...] | list[EmergencyContact]) -> FieldValue:
    value: FieldValue = {}
    for index, contact in enumerate(contacts, start=1):
        value[f"name_{index}"] = contact.name
        value[f"relation_{index}"] = contact.relation
        value[f"phone_{index}"] = contact.phone
    return value


def contacts_from_value(value: Mapping[str, str]) -> list[EmergencyContact]:
    contacts: list[EmergencyContact] = []
    index = 1
    while f"name_{index}" in value:
        contacts.append(EmergencyContact(value[f"name_{index}"], value[f"relation_{index}"], value[f"phone_{index}"]))
        index += 1
    return contacts


def mask(value: Mapping[str, str]) -> FieldValue:
    """Sensitive parts with all but the country, check digits and last four characters hidden."""
    masked = dict(value)
    for part in SENSITIVE_PARTS & masked.keys():
        text = masked[part]
        if len(text) > 8:
            masked[part] = text[:4] + "•" * (len(text) - 8) + text[-4:]
    return masked


# The directory fields (see Directory.write_attributes) each profile field sets; directory_values gives their values.
DIRECTORY_FIELDS: Final[Mapping[ProfileField, frozenset[str]]] = {
    ProfileField.WORK_PHONE: frozenset({"work_phone"}),
    ProfileField.MOBILE_PHONE: frozenset({"mobile_phone"}),
    ProfileField.PRIVATE_PHONE: frozenset({"private_phone"}),
    ProfileField.ADDRESS: frozenset({"street", "postal_code", "city"}),
    ProfileField.PREFERRED_NAME: frozenset({"display_name"}),
    ProfileField.LEGAL_NAME: frozenset({"display_name"}),
}


def directory_values(profile_field: ProfileField, value: Mapping[str, str], employee: Employee) -> dict[str, str]:
    """The HR fields a directory may hold (see Directory.write_attributes) that this field's value sets."""
    match profile_field:
        case ProfileField.WORK_PHONE | ProfileField.MOBILE_PHONE | ProfileField.PRIVATE_PHONE:
            return dict(value)
        case ProfileField.ADDRESS:
            return {"street": value["street"], "postal_code": value["postal_code"], "city": value["city"]}
        case ProfileField.PREFERRED_NAME:
            return {"display_name": f"{value['preferred_name'] or employee.first_name} {employee.last_name}"}
        case ProfileField.LEGAL_NAME:
            first = employee.preferred_name or value["first_name"]
            return {"display_name": f"{first} {value['last_name']}"}
        case _:
            return {}


class RequestStatus(StrEnum):
    PENDING = "pending"  # waits for HR
    APPROVED = "approved"  # decided (or needs no decision) and waits for its effective date
    APPLIED = "applied"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"

    @property
    def is_open(self) -> bool:
        return self in (RequestStatus.PENDING, RequestStatus.APPROVED)


@dataclass(frozen=True, slots=True)
class ChangeRequest:
    employee_id: EmployeeId
    field: ProfileField
    old: FieldValue
    new: FieldValue
    status: RequestStatus
    created_at: datetime
    created_by: str
    effective_from: date | None = None
    decided_at: datetime | None = None
    decided_by: str = ""
    comment: str = ""
    applied_at: datetime | None = None
    id: int | None = None


class ChangeVia(StrEnum):
    SELF_SERVICE = "self_service"
    NOTIFY_HR = "notify_hr"
    APPROVAL = "approval"
    SCHEDULED = "scheduled"


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    employee_id: EmployeeId
    field: ProfileField
    old: FieldValue
    new: FieldValue
    changed_at: datetime
    changed_by: str
    via: ChangeVia
    request_id: int | None = None
    id: int | None = None


class ProfilePage(StrEnum):
    """The pages personal-data notices link to (the edge turns them into URLs)."""

    OWN = "profile.own"
    HR_QUEUE = "profile.hr_queue"
