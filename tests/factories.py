"""Builders for domain objects and import rows, with sensible defaults to override per test."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from ess.domain.directory.ports import Directory
from ess.domain.hr.model import Employee, WorkLocation, WorkPattern
from ess.domain.hr_import.format import SourceRecord
from ess.domain.outbox.model import RetryPolicy
from ess.domain.outbox.ports import OutboxDeps
from ess.domain.shared import Clock, Notifier

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


def outbox_deps(
    new_uow: Callable[[], Any],
    directory: Directory,
    clock: Clock,
    policy: RetryPolicy | None = None,
    *,
    notifier: Notifier | None = None,
    hr_recipients: Sequence[str] = (),
) -> OutboxDeps:
    """The write-back's dependencies over the given unit of work, directory and clock."""
    return OutboxDeps(
        new_uow=new_uow,
        directory=directory,
        clock=clock,
        policy=policy or RetryPolicy(),
        wake=asyncio.Event(),
        notifier=notifier,
        hr_recipients=tuple(hr_recipients),
    )
