"""What the HR import may overwrite: a value the employee changed in ESS is kept while the HR system still sends the
value from before that change (the HR system has not caught up yet); a different value from HR wins (HR changed it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Final

from ess.domain.hr.model import Employee, PostalAddress
from ess.domain.outbox.model import same_value
from ess.domain.profile.model import FieldValue, HistoryEntry, Profile, ProfileField
from ess.domain.types import EmployeeId

# The fields an import carries that employees also change in ESS (bank account and emergency contacts are not in
# the import at all).
IMPORTED_FIELDS: Final = (
    ProfileField.PREFERRED_NAME,
    ProfileField.WORK_PHONE,
    ProfileField.MOBILE_PHONE,
    ProfileField.PRIVATE_PHONE,
    ProfileField.ADDRESS,
    ProfileField.LEGAL_NAME,
)


def _same(left: FieldValue, right: FieldValue) -> bool:
    """Equal as HR systems write them: phones with or without separators, texts with any blanks."""
    return left.keys() == right.keys() and all(same_value(part, left[part], right[part]) for part in left)


def _with_value(employee: Employee, profile_field: ProfileField, value: FieldValue) -> Employee:
    match profile_field:
        case ProfileField.ADDRESS:
            return replace(
                employee, address=PostalAddress(value["street"], value["postal_code"], value["city"], value["country"])
            )
        case ProfileField.LEGAL_NAME:
            return replace(employee, first_name=value["first_name"], last_name=value["last_name"])
        case ProfileField.PREFERRED_NAME:
            return replace(employee, preferred_name=value["preferred_name"])
        case ProfileField.WORK_PHONE:
            return replace(employee, work_phone=value["work_phone"])
        case ProfileField.MOBILE_PHONE:
            return replace(employee, mobile_phone=value["mobile_phone"])
        case _:
            return replace(employee, private_phone=value["private_phone"])


def keep_changes_made_in_ess(
    incoming: Sequence[Employee],
    existing: Mapping[str, Employee],
    latest: Mapping[tuple[EmployeeId, ProfileField], HistoryEntry],
) -> tuple[list[Employee], int]:
    """The employees to save, with ESS changes kept where the import still has the value from before them; and how
    many field values were kept."""
    result: list[Employee] = []
    kept = 0
    for record in incoming:
        before = existing.get(record.personnel_number)
        if before is None or before.id is None:
            result.append(record)
            continue
        merged = record
        for profile_field in IMPORTED_FIELDS:
            entry = latest.get((before.id, profile_field))
            if entry is None:
                continue
            imported = Profile(record).value(profile_field)
            current = Profile(before).value(profile_field)
            if _same(current, entry.new) and not _same(imported, current) and _same(imported, entry.old):
                merged = _with_value(merged, profile_field, current)
                kept += 1
        result.append(merged)
    return result, kept
