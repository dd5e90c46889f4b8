"""Reading HR import files (CSV or JSON) into raw records; validation happens in the domain."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from ess.domain.errors import InvalidInput
from ess.domain.hr_import.format import SourceRecord


class UnreadableHrFile(InvalidInput):
    """The file could not be read as CSV or JSON (not UTF-8, broken quoting, more values than columns, ...), raised
    while `stream_hr_file`'s records are being read; nothing has been written then (the import parses every record
    before its transaction begins)."""


def stream_hr_file(path: Path) -> Iterator[SourceRecord]:
    """`read_hr_file` a record at a time: a CSV file is read as it is consumed, so a 100,000-row import never holds
    the file nor its rows as a whole (JSON is parsed as a whole). Every reading problem is an `UnreadableHrFile`."""
    try:
        if path.suffix.lower() == ".json":
            yield from read_hr_file(path)
            return
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = handle.readline()
            if header.lstrip().startswith(("[", "{")):
                yield from _read_json(header + handle.read())
                return
            yield from _csv_records(itertools.chain([header], handle), header)
    except UnreadableHrFile:
        raise
    except InvalidInput as exc:
        raise UnreadableHrFile(exc.message) from exc
    except UnicodeDecodeError as exc:
        raise UnreadableHrFile(f"{path.name} is not UTF-8 text") from exc
    except OSError as exc:
        raise UnreadableHrFile(f"Cannot read {path}: {exc.strerror}") from exc


def read_hr_file(path: Path) -> list[SourceRecord]:
    """CSV (UTF-8, with or without BOM, comma or semicolon) or JSON (an array of objects, or {"employees": [...]})."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"Cannot read {path}: {exc.strerror}") from exc
    return read_hr_bytes(raw, str(path))


def read_hr_bytes(raw: bytes, name: str) -> list[SourceRecord]:
    """The same for a file's content (an upload); `name` tells JSON by its suffix and names the file in errors."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{name} is not UTF-8 text (byte {exc.start})") from exc
    if name.lower().endswith(".json") or text.lstrip().startswith(("[", "{")):
        return _read_json(text)
    return _read_csv(text)


def _read_csv(text: str) -> list[SourceRecord]:
    return list(_csv_records(io.StringIO(text, newline=""), text.split("\n", 1)[0]))


def _csv_records(lines: Iterable[str], header: str) -> Iterator[SourceRecord]:
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.DictReader(lines, delimiter=delimiter, strict=True)
    if not reader.fieldnames:
        raise InvalidInput("The file is empty: expected a header line with column names.")
    first_line = reader.line_num + 1  # a quoted value may span lines: report the line a record starts on
    try:
        for row in reader:
            if None in row:
                raise InvalidInput(f"line {first_line}: more values than columns")
            values = {(k or "").strip(): (v or "") for k, v in row.items()}
            if any(values.values()):  # blank lines are skipped
                yield SourceRecord(position=first_line, values=values)
            first_line = reader.line_num + 1
    except csv.Error as exc:
        raise InvalidInput(f"line {reader.line_num}: {exc}") from exc


def _read_json(text: str) -> list[SourceRecord]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"line {exc.lineno}: not valid JSON ({exc.msg})") from exc
    if isinstance(data, dict):
        data = data.get("employees")
    if not isinstance(data, list):
        raise InvalidInput('Expected a JSON array of employee objects (or {"employees": [...]}).')
    records: list[SourceRecord] = []
    for index, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise InvalidInput(f"record {index}: expected an object")
        values = {str(k): _as_text(v, "|" if k == "work_pattern" else ";") for k, v in item.items()}
        records.append(SourceRecord(position=index, values=values))
    return records


def _as_text(value: object, separator: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return separator.join(str(v) for v in value)
    return str(value)
