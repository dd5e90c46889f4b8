"""The HR balance report: every employee's leave figures for one leave year, and its CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

from ess.domain.errors import InvalidInput
from ess.domain.vacation.entitlement import year_entitlement
from ess.domain.vacation.model import ZERO, ReportPerson, ReportRow, ReportTotals
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


_Sortable = TypeVar("_Sortable", ReportRow, ReportPerson)


def _sort_key(row: ReportRow | ReportPerson) -> tuple[bool, str, str, str]:
    # Employees without an org unit come last; within a unit, by name (case-insensitive), then personnel number.
    return (row.org_unit == "", row.org_unit.casefold(), row.name.casefold(), row.personnel_number)


# "Lapses soon": days of buckets that lapse within this many days after the report date.
LAPSE_HORIZON_DAYS = 90
# What the report can be sorted by: who is listed, and the figures (sorted by the database from the year sums; by
# entitlement or remaining in Python, every filtered row's figures read, while someone's year is not booked yet).
PERSON_SORTS = ("org_unit", "name", "personnel_number", "location")
FIGURE_SORTS = ("entitlement", "carried_over", "taken", "approved_upcoming", "pending", "remaining", "lapsing")
SORTS = PERSON_SORTS + FIGURE_SORTS


@dataclass(frozen=True, slots=True)
class ReportQuery:
    """Which rows of the report, in which order: `search` in personnel number, name or org unit (case-insensitive),
    `unit` an org unit's name, `region` a location ("DE-BY") or a country ("DE"), `lapses_soon` only those with
    days that lapse within LAPSE_HORIZON_DAYS; `sort` one of SORTS."""

    search: str = ""
    unit: str = ""
    region: str = ""
    lapses_soon: bool = False
    sort: str = "org_unit"
    descending: bool = False
    offset: int = 0
    limit: int = PAGE_SIZE
    # The totals of every filtered row, summed by the report port (`LeaveReport.totals`).
    totals: bool = True

    def check(self) -> None:
        if self.offset < 0 or not 1 <= self.limit <= MAX_PAGE_SIZE:
            raise InvalidInput(
                f"A page starts at 0 or later and holds 1 to {MAX_PAGE_SIZE} rows.",
                fields={"offset": "must be 0 or more", "limit": f"must be 1 to {MAX_PAGE_SIZE}"},
            )
        if self.sort not in SORTS:
            raise InvalidInput(
                "The report cannot be sorted by that column.", fields={"sort": f"must be one of {', '.join(SORTS)}"}
            )

    def keeps(self, person: ReportPerson | ReportRow) -> bool:
        needle = self.search.strip().casefold()
        return (
            (
                not needle
                or needle in person.personnel_number.casefold()
                or needle in person.name.casefold()
                or needle in person.org_unit.casefold()
            )
            and (not self.unit or person.org_unit == self.unit)
            and (not self.region or person.location == self.region or person.location.startswith(f"{self.region}-"))
            and (not self.lapses_soon or person.lapsing > 0)
        )


@dataclass(frozen=True, slots=True)
class ReportPage:
    """One page of the report: `rows` are the report's rows `offset` to `offset + limit` of `total` (after the
    filter), in the query's order; `totals` are over every row of the filter; `units` and `regions` what the
    filters can choose from; `lapse_by` the last day "lapses soon" looks at."""

    rows: list[ReportRow]
    total: int
    offset: int
    limit: int
    totals: ReportTotals | None = None
    units: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    lapse_by: date | None = None

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


async def balance_report_page(as_of: date, *, deps: VacationDeps, query: ReportQuery | None = None) -> ReportPage:
    """A page of `balance_report` as `query` filters and sorts it, with the totals of every filtered row.

    Filtered and sorted by who is listed (one light query); figures only for the page's rows, unless the sort is
    by a figure (then every filtered row's); the totals are summed by the database."""
    query = query or ReportQuery()
    query.check()
    lapse_by = as_of + timedelta(days=LAPSE_HORIZON_DAYS)
    if not query.search.strip() and await _database_can_sort(as_of, query, lapse_by, deps):
        return await _page_sorted_by_database(as_of, query, lapse_by, deps)
    # What lapses is summed for everyone only to filter or sort by it; otherwise for the page's rows alone.
    lapsing_needed = query.lapses_soon or query.sort == "lapsing"
    everyone = await deps.report.people(as_of, lapse_by=lapse_by if lapsing_needed else None)
    people = [person for person in everyone if query.keeps(person)]
    filtered = len(people) != len(everyone)
    if query.sort in PERSON_SORTS:
        people = _sorted(people, query)
        numbers = [person.personnel_number for person in people[query.offset : query.offset + query.limit]]
        page = await _rows_of(numbers, as_of, lapse_by, deps)
    else:
        # Everyone's figures from the sums to sort by one; the page's rows themselves from the ledger.
        listed = [person.personnel_number for person in people] if filtered else None
        summed = await deps.report.summed_rows(as_of, listed, lapse_by=lapse_by if lapsing_needed else None)
        ordered = _sorted(await _with_unbooked_entitlement(summed, as_of, deps), query)
        cut = [row.personnel_number for row in ordered[query.offset : query.offset + query.limit]]
        page = await _rows_of(cut, as_of, lapse_by, deps)
    totals = None
    if query.totals:
        totals = await _totals(as_of, [p.personnel_number for p in people] if filtered else None, deps)
    return ReportPage(
        rows=page,
        total=len(people),
        offset=query.offset,
        limit=query.limit,
        totals=totals,
        units=tuple(sorted({p.org_unit for p in everyone if p.org_unit}, key=str.casefold)),
        regions=tuple(sorted({p.location for p in everyone if p.location})),
        lapse_by=lapse_by,
    )


async def _database_can_sort(as_of: date, query: ReportQuery, lapse_by: date, deps: VacationDeps) -> bool:
    """Whether the database can sort the query's rows: by who is listed, or by a figure it holds for all of them
    (the entitlement of a year not booked yet is computed here, so entitlement and remaining only when none is)."""
    if query.sort not in {"entitlement", "remaining"}:
        return True
    lapsing_by = lapse_by if query.lapses_soon else None
    return not await deps.report.any_unbooked(as_of, unit=query.unit, region=query.region, lapse_by=lapsing_by)


async def _page_sorted_by_database(as_of: date, query: ReportQuery, lapse_by: date, deps: VacationDeps) -> ReportPage:
    """A page without a search: filtered, sorted and cut by the database, so only the page's personnel numbers
    travel and only the page's rows are read from the ledger."""
    lapsing_by = lapse_by if query.lapses_soon else None
    numbers, total = await deps.report.listed(
        as_of,
        unit=query.unit,
        region=query.region,
        lapse_by=lapsing_by,
        sort=query.sort,
        descending=query.descending,
        offset=query.offset,
        limit=query.limit,
        lapsing_until=lapse_by,
    )
    totals = None
    if query.totals:
        everyone = None
        if query.unit or query.region or query.lapses_soon:
            everyone = (await deps.report.listed(as_of, unit=query.unit, region=query.region, lapse_by=lapsing_by))[0]
        totals = await _totals(as_of, everyone, deps)
    units, regions = await deps.report.choices(as_of)
    return ReportPage(
        rows=await _rows_of(numbers, as_of, lapse_by, deps),
        total=total,
        offset=query.offset,
        limit=query.limit,
        totals=totals,
        units=units,
        regions=regions,
        lapse_by=lapse_by,
    )


async def _rows_of(numbers: list[str], as_of: date, lapse_by: date, deps: VacationDeps) -> list[ReportRow]:
    """The report's rows of `numbers`, in that order."""
    found = {r.personnel_number: r for r in await deps.report.rows(as_of, numbers, lapse_by=lapse_by)}
    return await _with_unbooked_entitlement([found[n] for n in numbers if n in found], as_of, deps)


def _sorted(items: list[_Sortable], query: ReportQuery) -> list[_Sortable]:
    """By the query's column, then in the report's order (ties, and the people without an org unit last)."""
    ordered = sorted(items, key=_sort_key)
    if query.sort == "org_unit":
        return list(reversed(ordered)) if query.descending else ordered
    if query.sort in {"name", "personnel_number", "location"}:
        return sorted(ordered, key=lambda item: str(getattr(item, query.sort)).casefold(), reverse=query.descending)
    return sorted(ordered, key=lambda item: getattr(item, query.sort), reverse=query.descending)


async def _totals(as_of: date, numbers: list[str] | None, deps: VacationDeps) -> ReportTotals:
    """The totals of the rows (every row when `numbers` is None), with the unbooked entitlement added."""
    if numbers is not None and not numbers:
        return ReportTotals(0, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO)
    totals = await deps.report.totals(as_of, numbers)
    extra = sum((days for _number, days in (await _unbooked_entitlement(list(totals.unbooked), as_of, deps))), ZERO)
    return replace(totals, entitlement=totals.entitlement + extra, remaining=totals.remaining + extra, unbooked=())


async def _unbooked_entitlement(numbers: list[str], as_of: date, deps: VacationDeps) -> list[tuple[str, Decimal]]:
    computed: list[tuple[str, Decimal]] = []
    for start in range(0, len(numbers), _CHUNK):
        async with deps.new_uow().read_only() as uow:
            employees = await uow.employees.by_personnel_numbers(numbers[start : start + _CHUNK])
        computed += [(number, year_entitlement(e, as_of.year).total) for number, e in employees.items()]
    return computed


async def _with_unbooked_entitlement(rows: list[ReportRow], as_of: date, deps: VacationDeps) -> list[ReportRow]:
    computed = dict(await _unbooked_entitlement([row.personnel_number for row in rows if not row.booked], as_of, deps))
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


async def report_csv(as_of: date, *, deps: VacationDeps, rows_per_piece: int = 2000) -> AsyncIterator[str]:
    """`balance_report` as CSV text in pieces of `rows_per_piece` rows: one statement reads every row (reading by
    slices re-aggregated the ledger for each slice, three to five times slower), the text goes out piece by
    piece, so the whole CSV is never held as one string."""
    rows = await balance_report(as_of, deps=deps)
    yield to_csv(())
    for start in range(0, len(rows), rows_per_piece):
        yield to_csv(rows[start : start + rows_per_piece], header=False)


def to_csv(rows: Iterable[ReportRow], *, header: bool = True) -> str:
    """The report as CSV text: a header with English column names, then one line per row.

    Semicolon-separated (Excel in German locales splits on semicolons), CRLF line ends, minimal quoting, no byte
    order mark: encode the text as UTF-8 when writing it out. Numbers use a decimal point with two decimals
    ("12.50"); Excel with a German locale reads them as text or dates unless the import sets "." as the decimal
    separator (Data > From Text/CSV), LibreOffice asks on opening.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    if header:
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
