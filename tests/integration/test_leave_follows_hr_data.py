"""Leave follows the HR data: a changed HR file imported after the year was booked recomputes it, and the balance
API shows the result (on SQLite and PostgreSQL). Also the year end for everyone and the projection across deadlines.

Each test drives the change through the real import (a CSV file read by the HR file reader) and reads the balance
through the JSON API of the real app, wired to a clock the test sets.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from ess.adapters.hr_files import read_hr_file
from ess.app import create_app
from ess.bootstrap import Container, build_container
from ess.domain.audit import AuditEvent
from ess.domain.hr_import.importing import ImportEmployees, ImportResult, import_employees
from ess.domain.vacation.hr_changes import BEYOND_ENTITLEMENT, OUTSIDE_EMPLOYMENT
from ess.domain.vacation.model import RequestStatus
from ess.domain.vacation.report import balance_report
from ess.domain.vacation.year_end import YearNotOver, close_year, expire_due, grant_year, send_expiry_warnings
from tests.conftest import make_settings
from tests.fakes import FakeNotifier, FixedClock

DEMO = Path(__file__).resolve().parents[2] / "ess" / "demo" / "company.csv"
PASSWORD = "demo-passwort-2026"
D = Decimal


@dataclass
class Company:
    """The demo company with a clock the test sets, its HR file, and an API client."""

    container: Container
    clock: FixedClock
    client: AsyncTestClient[Litestar]
    folder: Path
    notifier: FakeNotifier
    rows: list[dict[str, str]]

    def set_today(self, day: date) -> None:
        self.clock.advance(datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC) - self.clock.now())

    async def import_file(self, name: str = "company.csv", **changes: dict[str, str]) -> ImportResult:
        """Write the HR file with `changes` (personnel number -> column -> value) and import it."""
        for row in self.rows:
            row.update(changes.get(row["personnel_number"], {}))
        path = self.folder / name
        with path.open("w", newline="", encoding="utf-8") as out:
            columns = list(dict.fromkeys(column for row in self.rows for column in row))
            writer = csv.DictWriter(out, fieldnames=columns, restval="")
            writer.writeheader()
            writer.writerows(self.rows)
        command = ImportEmployees(records=read_hr_file(path), source_name=name, actor="cli:hr")
        return await import_employees(command, deps=replace(self.container.hr_import, notifier=self.notifier))

    def add_row(self, **values: str) -> None:
        self.rows.append({field: values.get(field, "") for field in self.rows[0]})

    async def auth(self, login: str) -> dict[str, str]:
        assert self.container.local_directory is not None
        await self.container.local_directory.provision(login, password=PASSWORD, groups=[])
        response = await self.client.post("/api/v1/auth/token", json={"username": login, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def balance(self, headers: dict[str, str], as_of: date) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/me/vacation/balance?as_of={as_of.isoformat()}", headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def leave(self, headers: dict[str, str], start: date, end: date) -> dict[str, Any]:
        response = await self.client.post(
            "/api/v1/me/leave-requests", json={"start": start.isoformat(), "end": end.isoformat()}, headers=headers
        )
        body: dict[str, Any] = response.json()
        body["status_code"] = response.status_code
        return body

    async def approve(self, request_id: int) -> None:
        hr = await self.auth("hanna.berger")
        response = await self.client.post(
            f"/api/v1/manager/leave-requests/{request_id}/approve", json={"comment": ""}, headers=hr
        )
        assert response.status_code == 200, response.text

    async def pay_out_2026(self, login: str, number: str) -> None:
        """HR books the employee's 2026 leave as paid out (through the API), so that nothing carries into 2027."""
        left = D((await self.balance(await self.auth(login), date(2026, 12, 31)))["remaining"])
        hr = await self.auth("hanna.berger")
        response = await self.client.post(
            "/api/v1/hr/leave-adjustments",
            json={"personnel_number": number, "year": 2026, "days": str(-left), "reason": "paid out"},
            headers=hr,
        )
        assert response.status_code in (200, 201), response.text

    async def audit(self, action: str) -> list[AuditEvent]:
        async with self.container.new_uow() as uow:
            return [e for e in await uow.audit.recent(500) if e.action == action]


@pytest.fixture
async def company(database_url: str, tmp_path: Path) -> AsyncIterator[Company]:
    clock = FixedClock(datetime(2026, 11, 22, 9, 0, tzinfo=UTC))
    settings = make_settings(database_url)
    container = build_container(settings, clock=clock)
    with DEMO.open(encoding="utf-8", newline="") as source:
        rows = list(csv.DictReader(source))
    # The test client serves the app from its own thread and event loop: the app gets its own container (and
    # database connections) on the same database, settings and clock.
    app = create_app(container=build_container(settings, clock=clock))
    async with AsyncTestClient(app=app, base_url="http://127.0.0.1:8000") as client:
        world = Company(container, clock, client, tmp_path, FakeNotifier(), rows)
        await world.import_file()
        yield world
    await container.close()


def entitlement(body: dict[str, Any]) -> Decimal:
    return D(body["entitlement"])


async def test_a_leaver_in_the_first_half_loses_the_pro_rata_share_and_hr_hears_of_the_overdraft(
    company: Company,
) -> None:
    """BUrlG §5(1)c: exit in the first half after the waiting period, 1/12 per full month; §5(3): leave already
    taken is not reclaimed, so the balance goes below zero and HR decides."""
    anna = await company.auth("anna.schmidt")
    await company.pay_out_2026("anna.schmidt", "P10011")  # nothing left over from 2026 to soften the overdraft
    assert entitlement(await company.balance(anna, date(2027, 1, 15))) == 30  # 2027 booked on first view
    february = await company.leave(anna, date(2027, 2, 1), date(2027, 2, 12))  # 10 working days
    april = await company.leave(anna, date(2027, 4, 12), date(2027, 4, 16))  # 5 days, after the coming exit
    await company.approve(february["id"])
    await company.approve(april["id"])

    result = await company.import_file("exit.csv", P10011={"exit_date": "2027-03-31"})

    body = await company.balance(anna, date(2027, 1, 15))
    assert entitlement(body) == 8  # 3 full months: 30 x 3/12 = 7.5, rounded up (§5(2))
    assert body["overdrawn"] is True
    assert D(body["remaining"]) == 8 - 10 - 5
    (follow_up,) = result.leave_conflicts
    assert follow_up.employee.personnel_number == "P10011"
    # April lies after the exit; February is approved, still ahead and no longer covered: both flagged.
    assert {(c.request_id, c.problem) for c in follow_up.conflicts} == {
        (april["id"], OUTSIDE_EMPLOYMENT),
        (february["id"], BEYOND_ENTITLEMENT),
    }
    assert follow_up.overdrawn == ((2027, D(-7)),)
    # Nothing was cancelled: the April leave is still approved, and it says why it is a problem only to HR.
    requests = (await company.client.get("/api/v1/me/leave-requests", headers=anna)).json()
    assert {r["id"]: r["status"] for r in requests}[april["id"]] == RequestStatus.APPROVED.value
    kinds = sorted((n.kind, n.to) for n in company.notifier.notices)
    assert kinds == [
        ("leave_recalculated", ("anna.schmidt@example-ess.test",)),
        ("leave_recalculated_hr", (company.container.settings.company.hr_contact.email,)),
    ]
    # The ledger explains it: old -> new and the cause, and the earlier grant is still there, unchanged.
    async with company.container.new_uow() as uow:
        employee = await uow.employees.by_login("anna.schmidt")
        assert employee is not None and employee.id is not None
        entries = await uow.vacation.entries(employee.id)
    recalc = [e for e in entries if e.entry_type.value == "recalc"]
    assert sum(e.amount for e in recalc) == -22
    assert any("30 -> 8" in e.reason or "-> " in e.reason for e in recalc)
    assert all("exit date 2027-03-31 (was none)" in e.reason and "exit.csv" in e.reason for e in recalc)
    assert sum(e.amount for e in entries if e.entry_type.value == "grant" and e.effective_date.year == 2027) == 30
    (imported,) = [e for e in await company.audit("hr.import") if e.target == "exit.csv"]
    assert (imported.details["leave_recalculated"], imported.details["leave_conflicts"]) == (1, 1)

    # The same file again changes nothing: no second correction, nobody told twice.
    again = await company.import_file("exit.csv")
    assert again.leave == ()
    assert len(company.notifier.notices) == 2


async def test_a_leaver_in_the_second_half_keeps_the_statutory_minimum(company: Company) -> None:
    """BUrlG §5(1) a contrario: exit after 30 June after the waiting period keeps the full statutory 20 days; the
    contractual 10 are cut to 1/12 per month (9 months: 22.5 -> 23 in total). An approved leave beyond it is
    flagged to HR and the employee, not cancelled."""
    anna = await company.auth("anna.schmidt")
    await company.pay_out_2026("anna.schmidt", "P10011")
    await company.balance(anna, date(2027, 1, 15))
    summer = await company.leave(anna, date(2027, 8, 2), date(2027, 9, 3))  # 25 working days
    await company.approve(summer["id"])
    result = await company.import_file(P10011={"exit_date": "2027-09-30"})
    body = await company.balance(anna, date(2027, 6, 1))
    assert entitlement(body) == 23
    assert D(body["remaining"]) == 23 - 25
    (follow_up,) = result.leave_conflicts
    assert [(c.request_id, c.problem) for c in follow_up.conflicts] == [(summer["id"], BEYOND_ENTITLEMENT)]


async def test_a_part_time_switch_is_counted_per_period_both_ways(company: Company) -> None:
    """BAG 9 AZR 406/17 and EuGH C-415/12: each period earns at its own pattern, by full months."""
    anna = await company.auth("anna.schmidt")
    johannes = await company.auth("johannes.maier")
    assert entitlement(await company.balance(anna, date(2027, 1, 15))) == 30
    assert entitlement(await company.balance(johannes, date(2027, 1, 15))) == 18  # 30 x 3/5
    result = await company.import_file(
        P10011={"days_per_week": "3", "work_pattern_valid_from": "2027-07-01"},
        P10025={"days_per_week": "5", "work_pattern_valid_from": "2027-07-01"},
    )
    assert entitlement(await company.balance(anna, date(2027, 1, 15))) == 15 + 9  # fewer days: down
    assert entitlement(await company.balance(johannes, date(2027, 1, 15))) == 9 + 15  # more days: up
    assert {f.employee.personnel_number for f in result.leave} == {"P10011", "P10025"}
    assert result.leave_conflicts == ()
    # 2026 was booked too and did not change: the switch lies in 2027.
    assert entitlement(await company.balance(anna, date(2026, 11, 22))) == 30


async def test_a_corrected_entry_date_recomputes_the_year_of_entry(company: Company) -> None:
    """BUrlG §4/§5(1)a: joined by 30 June, the full year after the waiting period; joined in the second half,
    1/12 per full month."""
    felix = await company.auth("felix.walter")
    assert entitlement(await company.balance(felix, date(2026, 11, 22))) == 3  # 2.11.: one full month, 2.5 -> 3
    await company.import_file(P20027={"hire_date": "2026-06-01"})
    assert entitlement(await company.balance(felix, date(2026, 11, 22))) == 30
    await company.import_file(P20027={"hire_date": "2026-07-01"})
    assert entitlement(await company.balance(felix, date(2026, 11, 22))) == 15  # 6 full months


async def test_close_year_carries_over_for_those_who_never_opened_ess(company: Company) -> None:
    """Nobody's carry-over depends on having logged in; unwarned German leave does not lapse (EuGH C-684/16)."""
    company.set_today(date(2027, 1, 4))
    result = await close_year(2026, deps=company.container.vacation, actor="cli:hr")
    assert result.waiting == []
    assert result.closed == 64
    rows = {r.personnel_number: r for r in await balance_report(date(2027, 1, 4), deps=company.container.vacation)}
    katharina = rows["P10001"]  # never opened ESS
    assert (katharina.carried_over, katharina.entitlement, katharina.remaining) == (30, 30, 60)
    assert rows["P10025"].carried_over == 18
    assert rows["P20027"].carried_over == 3  # Felix, one full month of 2026
    (closed,) = await company.audit("leave.year_closed")
    assert closed.actor == "cli:hr"
    assert (closed.details["year"], closed.details["closed"], closed.details["forced"]) == (2026, 64, False)
    # Idempotent: nothing moves twice.
    assert (await close_year(2026, deps=company.container.vacation)).closed == 0
    assert {r.personnel_number: r for r in await balance_report(date(2027, 1, 4), deps=company.container.vacation)}[
        "P10001"
    ].carried_over == 30


async def test_a_year_that_has_not_ended_is_not_closed_unless_forced(company: Company) -> None:
    company.set_today(date(2026, 12, 1))
    with pytest.raises(YearNotOver, match=r"31\.12\.2026"):
        await close_year(2026, deps=company.container.vacation)
    assert await company.audit("leave.year_closed") == []
    anna = await company.auth("anna.schmidt")
    december = await company.leave(anna, date(2026, 12, 21), date(2026, 12, 23))
    assert december["status_code"] == 201  # still open
    await company.approve(december["id"])
    forced = await close_year(2026, deps=company.container.vacation, actor="cli:hr", force=True)
    assert forced.closed == 64
    (closed,) = await company.audit("leave.year_closed")
    assert closed.details["forced"] is True
    late = await company.leave(anna, date(2026, 12, 28), date(2026, 12, 28))
    assert late["status_code"] == 422
    assert "closed" in late["detail"]


async def test_the_year_end_jobs_are_audited_and_can_run_again(company: Company) -> None:
    vacation = company.container.vacation
    assert await grant_year(2026, deps=vacation, actor="cli:hr") == 64
    assert await grant_year(2026, deps=vacation, actor="cli:hr") == 0
    first = await send_expiry_warnings(2026, deps=replace(vacation, notifier=FakeNotifier()), actor="cli:hr")
    in_germany = sum(1 for row in company.rows if row["country"] == "DE")
    assert first == in_germany  # everybody in Germany (all have days left), whether they opened ESS or not
    assert await send_expiry_warnings(2026, deps=replace(vacation, notifier=FakeNotifier())) == 0
    company.set_today(date(2027, 1, 4))
    await close_year(2026, deps=vacation)
    company.set_today(date(2027, 4, 1))
    lapsed = await expire_due(date(2027, 4, 1), deps=vacation, actor="cli:hr")
    assert lapsed > 0
    assert await expire_due(date(2027, 4, 1), deps=vacation) == 0
    granted = await company.audit("leave.year_granted")
    assert [e.details["granted"] for e in granted] == [0, 64]  # newest first
    assert [e.details["sent"] for e in await company.audit("leave.expiry_warnings_sent")] == [0, first]
    assert D(str((await company.audit("leave.expired"))[-1].details["days"])) == lapsed


async def test_the_projection_across_31_march_without_a_warning(company: Company) -> None:
    """Without a warning in time German leave does not lapse (EuGH C-684/16, BAG 9 AZR 541/15)."""
    anna = await company.auth("anna.schmidt")
    april = await company.balance(anna, date(2027, 4, 15))
    assert (D(april["carried_over"]), D(april["projected_carried_over"])) == (30, 30)
    assert april["projected"] is True
    assert (D(april["expired"]), D(april["remaining"])) == (0, 60)
    assert (await company.balance(anna, date(2027, 3, 1)))["lapses"] == []


async def test_the_projection_across_31_march_with_a_recorded_warning(company: Company) -> None:
    """BUrlG §7(3) with a warning at least 90 days before 31 March: the days lapse there."""
    anna = await company.auth("anna.schmidt")
    await send_expiry_warnings(2026, deps=replace(company.container.vacation, notifier=FakeNotifier()))
    march = await company.balance(anna, date(2027, 3, 1))
    assert march["lapses"] == [{"last_day": "2027-03-31", "days": "30.00"}]
    assert D(march["remaining"]) == 60
    april = await company.balance(anna, date(2027, 4, 15))
    assert (D(april["expired"]), D(april["projected_expired"]), D(april["remaining"])) == (30, 30, 30)
    # After close-year and the expiry job have run, the booked figures are the projected ones.
    company.set_today(date(2027, 1, 4))
    await close_year(2026, deps=company.container.vacation)
    company.set_today(date(2027, 4, 15))
    await expire_due(date(2027, 4, 15), deps=company.container.vacation)
    anna = await company.auth("anna.schmidt")  # months later: a new token
    booked = await company.balance(anna, date(2027, 4, 15))
    assert (D(booked["expired"]), D(booked["remaining"]), booked["projected"]) == (30, 30, False)


async def test_an_austrian_entry_accrues_leave_in_the_first_six_months(company: Company) -> None:
    """UrlG §2(2): in the first six months the claim arises with the time served (ESS counts days)."""
    company.add_row(
        personnel_number="P30099",
        login="lena.gruber",
        first_name="Lena",
        last_name="Gruber",
        work_email="lena.gruber@example-ess.test",
        hire_date="2026-09-01",
        country="AT",
        subdivision="9",
        days_per_week="5",
        annual_leave_days="25",
        manager_personnel_number="P10001",
    )
    await company.import_file()
    lena = await company.auth("lena.gruber")
    body = await company.balance(lena, date(2026, 11, 22))
    assert entitlement(body) == D("8.36")  # 25 x 122/365: the year of entry's share
    assert D(body["accrued"]) == D("5.68")  # 25 x 83/365: 1.9. to 22.11.
    assert body["accrual_complete_on"] == "2026-12-31"
    too_much = await company.leave(lena, date(2026, 11, 23), date(2026, 12, 1))  # 7 working days
    assert too_much["status_code"] == 422
    assert "UrlG §2(2)" in too_much["detail"]
    fits = await company.leave(lena, date(2026, 11, 23), date(2026, 11, 25))  # 3 days
    assert fits["status_code"] == 201
    # In December more has arisen: 3 + 3 days by mid-December fit (25 x 106/365 = 7.26 by 15.12.).
    assert (await company.leave(lena, date(2026, 12, 14), date(2026, 12, 16)))["status_code"] == 201
    assert (await company.balance(lena, date(2027, 1, 15)))["accrued"] is None  # 2027 arises whole on 1.1.


async def test_nothing_is_recalculated_when_nothing_changed(company: Company) -> None:
    """Views and imports that change nothing book nothing: 27.5 days on a 3.5-day week (19.25, BAG: the
    part-time share without rounding) is booked once and never corrected."""
    company.add_row(
        personnel_number="P10099",
        login="paul.teil",
        first_name="Paul",
        last_name="Teil",
        work_email="paul.teil@example-ess.test",
        hire_date="2015-01-01",
        country="DE",
        subdivision="BY",
        work_pattern="1|1|1|0.5|0|0|0",
        annual_leave_days="27.5",
    )
    await company.import_file()
    paul = await company.auth("paul.teil")
    for _ in range(3):
        assert entitlement(await company.balance(paul, date(2026, 11, 22))) == D("19.25")
    assert (await company.import_file("again.csv")).leave == ()
    async with company.container.new_uow() as uow:
        employee = await uow.employees.by_login("paul.teil")
        assert employee is not None and employee.id is not None
        types = [e.entry_type.value for e in await uow.vacation.entries(employee.id)]
    assert "recalc" not in types
    assert types.count("grant") == 2  # statutory and contractual, once


async def test_a_correction_of_a_closed_year_passes_on_into_the_next(company: Company) -> None:
    """A closed year is recomputed too; its correction moves on through the carry-over (never an edit)."""
    company.set_today(date(2027, 1, 4))
    await close_year(2026, deps=company.container.vacation)
    felix = await company.auth("felix.walter")
    before = await company.balance(felix, date(2027, 1, 4))
    assert D(before["carried_over"]) == 3  # one full month of 2026
    result = await company.import_file("entry.csv", P20027={"hire_date": "2026-06-01"})
    (follow_up,) = result.leave
    assert [(c.year, c.before, c.after) for c in follow_up.corrections] == [(2026, D(3), D(30))]
    after = await company.balance(felix, date(2027, 1, 4))
    assert D(after["carried_over"]) == 30
    assert after["projected"] is False  # booked, not projected: 2026 is closed
    assert D(after["remaining"]) == 30 + 30
    async with company.container.new_uow() as uow:
        employee = await uow.employees.by_login("felix.walter")
        assert employee is not None and employee.id is not None
        entries = await uow.vacation.entries(employee.id)
    moves = [(e.entry_type.value, e.amount) for e in entries if e.created_by == "cli:hr" and e.amount]
    # Corrected per kind (statutory +18, contractual +9), then carried out of 2026 and into 2027 as one.
    assert sorted(moves) == sorted(
        [("recalc", D(18)), ("recalc", D(9)), ("carry_out", D(-18)), ("carry_out", D(-9)), ("carry_in", D(27))]
    )
