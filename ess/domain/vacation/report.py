"""The HR balance report: every employee's leave figures for one leave year, and its CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from ess.domain.errors import InvalidInput
from ess.domain.vacation.entitlement import year_entitlement
from ess.domain.vacation.model import ReportPerson, ReportRow
from ess.domain.vacation.ports import VacationDeps

CENT = Decimal("0.01")
# Employees read per query when computing years nobody has opened (well below any database's parameter limit).
_CHUNK = 2000

# Rows per page of the report (the page and the API); the CSV export holds every row.
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

# Spreadsheets run a cell that starts with one of these as a formula (CSV injection, OWASP): names and org units
# come from HR files, so a text cell that starts with one is prefixed with an apostrophe.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

CSV_HEADER = (
    "Personnel number",
    "Name",
    "Org unit",
    "Location",
    "Entitlement",
    "Carried over",
    "Taken",
    "Approved upcoming",
    "Pending",
    "Expired",
    "Remaining",
)


def _sort_key(row: ReportRow | ReportPerson) -> tuple[bool, str, str, str]:
    # Employees without an org unit come last; within a unit, by name (case-insensitive), then personnel number.
    return (row.org_unit == "", row.org_unit.casefold(), row.name.casefold(), row.personnel_number)


@dataclass(frozen=True, slots=True)
class ReportPage:
    """One page of the report: `rows` are the report's rows `offset` to `offset + limit` of `total` (after the
    filter), in the report's order."""

    rows: list[ReportRow]
    total: int
    offset: int
    limit: int

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.rows) < self.total


async def balance_report(as_of: date, *, deps: VacationDeps) -> list[ReportRow]:
    """Every employee employed in the leave year of `as_of`, with the balance on `as_of`, by org unit and name.

    The figures are what the ledger holds; for a year nobody has opened yet (its grant is booked on first use or
    by `grant`/`close-year`) the entitlement is computed from the HR data, exactly as it will be booked.
    """
    rows = sorted(await deps.report.rows(as_of), key=_sort_key)
    return await _with_unbooked_entitlement(rows, as_of, deps)


async def balance_report_page(
    as_of: date, *, deps: VacationDeps, offset: int = 0, limit: int = PAGE_SIZE, search: str = ""
) -> ReportPage:
    """A page of `balance_report`, optionally only the rows whose personnel number, name or org unit contain
    `search` (case-insensitive). Only the page's rows have their unbooked entitlement computed."""
    if offset < 0 or not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(
            "A page starts at 0 or later and holds 1 to %(max)s rows.",
            params={"max": MAX_PAGE_SIZE},
            fields={"offset": "must be 0 or more", "limit": f"must be 1 to {MAX_PAGE_SIZE}"},
        )
    # Sorted and searched on who is listed (one light query), figures only for the page's rows.
    people = sorted(await deps.report.people(as_of), key=_sort_key)
    if needle := search.strip().casefold():
        people = [
            person
            for person in people
            if needle in person.personnel_number.casefold()
            or needle in person.name.casefold()
            or needle in person.org_unit.casefold()
        ]
    numbers = [person.personnel_number for person in people[offset : offset + limit]]
    found = {row.personnel_number: row for row in await deps.report.rows(as_of, numbers)} if numbers else {}
    page = await _with_unbooked_entitlement([found[n] for n in numbers if n in found], as_of, deps)
    return ReportPage(rows=page, total=len(people), offset=offset, limit=limit)


async def _with_unbooked_entitlement(rows: list[ReportRow], as_of: date, deps: VacationDeps) -> list[ReportRow]:
    unbooked = [row.personnel_number for row in rows if not row.booked]
    computed: dict[str, Decimal] = {}
    for start in range(0, len(unbooked), _CHUNK):
        async with deps.new_uow().read_only() as uow:
            employees = await uow.employees.by_personnel_numbers(unbooked[start : start + _CHUNK])
        computed |= {number: year_entitlement(e, as_of.year).total for number, e in employees.items()}
    return [
        replace(row, entitlement=row.entitlement + days, remaining=row.remaining + days)
        if not row.booked and (days := computed.get(row.personnel_number)) is not None
        else row
        for row in rows
    ]


def _text(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def _number(value: Decimal) -> str:
    # Two decimals (half days and pro-rata grants), a decimal point, never "-0.00".
    return f"{value.quantize(CENT) + 0:f}"


def to_csv(rows: Iterable[ReportRow]) -> str:
    """The report as CSV text: a header with English column names, then one line per row.

    Semicolon-separated (Excel in German locales splits on semicolons), CRLF line ends, minimal quoting, no byte
    order mark: encode the text as UTF-8 when writing it out. Numbers use a decimal point with two decimals
    ("12.50"); Excel with a German locale reads them as text or dates unless the import sets "." as the decimal
    separator (Data > From Text/CSV), LibreOffice asks on opening.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in rows:
        texts = (row.personnel_number, row.name, row.org_unit, row.location)
        numbers = (
            row.entitlement,
            row.carried_over,
            row.taken,
            row.approved_upcoming,
            row.pending,
            row.expired,
            row.remaining,
        )
        writer.writerow([*map(_text, texts), *map(_number, numbers)])
    return out.getvalue()
