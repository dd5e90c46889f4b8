"""Builders for domain objects and import rows, with sensible defaults to override per test."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ess.domain.hr.importing import SourceRecord
from ess.domain.hr.model import Employee, WorkLocation, WorkPattern

VALID_ROW: dict[str, str] = {
    "personnel_number": "P90001",
    "login": "erika.mustermann",
    "first_name": "Erika",
    "last_name": "Mustermann",
    "work_email": "erika.mustermann@example-ess.test",
    "private_email": "erika@example.org",
    "mobile_phone": "+491701112233",
    "street": "Leopoldstraße 1",
    "postal_code": "80802",
    "city": "München",
    "address_country": "DE",
    "hire_date": "2020-01-01",
    "country": "DE",
    "subdivision": "BY",
    "days_per_week": "5",
    "annual_leave_days": "30",
    "org_unit": "MUC-IT",
    "org_unit_name": "IT München",
    "roles": "",
}


def row(position: int = 2, **changes: str) -> SourceRecord:
    values = {**VALID_ROW, **changes}
    return SourceRecord(position=position, values={k: v for k, v in values.items() if v is not None})


def employee(**changes: Any) -> Employee:
    defaults: dict[str, Any] = {
        "personnel_number": "P90001",
        "login": "erika.mustermann",
        "first_name": "Erika",
        "last_name": "Mustermann",
        "work_email": "erika.mustermann@example-ess.test",
        "hire_date": date(2020, 1, 1),
        "location": WorkLocation("DE", "BY"),
        "work_pattern": WorkPattern.first_days(5),
        "annual_leave_days": Decimal(30),
    }
    return Employee(**{**defaults, **changes})


def known_regions(country: str, subdivision: str) -> bool:
    return (country, subdivision) in {("DE", "BY"), ("DE", "BE"), ("CH", "ZH"), ("AT", "9")}
