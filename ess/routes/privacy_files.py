"""Files the privacy pages hand out: the audit trail as CSV or JSON, a person's data as JSON in a ZIP."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Sequence
from typing import Any, Final

from ess.domain.audit import AuditRecord
from ess.domain.privacy.model import PersonalData

AUDIT_COLUMNS: Final = (
    "id",
    "occurred_at",
    "actor",
    "action",
    "outcome",
    "target",
    "client_address",
    "details",
    "hash",
)
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def audit_row(record: AuditRecord) -> dict[str, Any]:
    event = record.event
    return {
        "id": record.id,
        "occurred_at": event.occurred_at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "outcome": event.outcome.value,
        "target": event.target,
        "client_address": event.client_address,
        "details": dict(event.details),
        "hash": record.hash,
    }


def _cell(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True) if isinstance(value, dict) else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text  # no formulas in a spreadsheet


def audit_csv(records: Sequence[AuditRecord]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(AUDIT_COLUMNS)
    for record in records:
        row = audit_row(record)
        writer.writerow([_cell(row[column]) for column in AUDIT_COLUMNS])
    return out.getvalue()


def audit_json(records: Sequence[AuditRecord]) -> str:
    return json.dumps([audit_row(r) for r in records], ensure_ascii=False, indent=1)


def personal_data_zip(data: PersonalData) -> bytes:
    """data.json with every section, and one file per kind of record, plus a short README."""
    buffer = io.BytesIO()
    document = data.as_json()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(document, ensure_ascii=False, indent=1))
        for section in data.sections:
            archive.writestr(
                f"sections/{section.kind}.json", json.dumps(list(section.records), ensure_ascii=False, indent=1)
            )
        archive.writestr(
            "README.txt",
            "Everything ESS holds about you (GDPR Art. 15 and 20), as JSON (UTF-8).\n"
            "data.json holds all sections; sections/ one file per kind of record.\n"
            "Secrets are masked; tokens and links appear as metadata only.\n",
        )
    return buffer.getvalue()
