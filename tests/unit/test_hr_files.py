"""Reading HR files a record at a time (`stream_hr_file`) gives what reading them whole gives, and every problem of
reading as `UnreadableHrFile`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ess.adapters.hr_files import UnreadableHrFile, read_hr_file, stream_hr_file
from ess.domain.errors import InvalidInput

CSV_CASES = {
    "comma": "personnel_number,login,last_name\nP1,one,Müller\nP2,two,Schmidt\n",
    "semicolon with BOM": "\ufeffpersonnel_number;login;last_name\nP1;one;Müller\n\n;;\nP2;two;Schmidt\n",
    "quoted line break": 'personnel_number,login,street\nP1,one,"Hauptstr. 1\nHinterhaus"\nP2,two,Weg 2\n',
    "no final newline": "personnel_number,login\nP1,one",
}


@pytest.mark.parametrize("text", CSV_CASES.values(), ids=CSV_CASES.keys())
def test_a_csv_streamed_gives_the_records_read_whole(tmp_path: Path, text: str) -> None:
    path = tmp_path / "hr.csv"
    path.write_text(text, encoding="utf-8")
    streamed = list(stream_hr_file(path))
    assert streamed == read_hr_file(path)
    assert streamed  # the cases are not empty


@pytest.mark.parametrize("name", ["hr.json", "hr.txt"])
def test_json_by_suffix_or_content(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(json.dumps({"employees": [{"personnel_number": "P1", "roles": ["hr", "manager"]}]}), "utf-8")
    [record] = stream_hr_file(path)
    assert record.values == {"personnel_number": "P1", "roles": "hr;manager"}
    assert [record] == read_hr_file(path)


def test_records_come_as_the_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "hr.csv"
    rows = b"".join(b"P%d,login%d\n" % (n, n) for n in range(20_000))  # far more than one read buffer
    path.write_bytes(b"personnel_number,login\n" + rows + b"P-broken,\xff\xfe\n")
    records = stream_hr_file(path)
    assert next(records).values["personnel_number"] == "P0"  # given before the broken line is even read
    with pytest.raises(UnreadableHrFile, match="not UTF-8"):
        list(records)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"personnel_number,login\nP1,one,extra\n", "line 2: more values than columns"),
        (b"", "The file is empty"),
        (b'personnel_number,login\nP1,"one\n', "line"),
    ],
    ids=["more values than columns", "empty", "open quote"],
)
def test_every_reading_problem_is_unreadable(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "hr.csv"
    path.write_bytes(content)
    with pytest.raises(UnreadableHrFile, match=message) as raised:
        list(stream_hr_file(path))
    assert isinstance(raised.value, InvalidInput)  # refused as bad input, like the whole-file reader does


def test_a_missing_file_is_unreadable_once_read(tmp_path: Path) -> None:
    records = stream_hr_file(tmp_path / "missing.csv")  # nothing happens until the import reads it
    with pytest.raises(UnreadableHrFile, match="Cannot read"):
        next(records)
