"""A lived-in demo company for `ess demo seed`: last year's leave for everybody, HR's expiry warnings for last year
(recorded in time) and its close-year, so that this year starts with carry-over that lapses on 31 March; leave taken
this year, requests from the past (approved, rejected, withdrawn), requests waiting for markus.weber, an open
bank-account change for HR (hanna.berger) to decide, and a locked account (ivan.petrovic) with failed logins for the
helpdesk to unlock. Everything goes through the same use cases as in the app (HR's yearly jobs included), on a clock
set back to when it happened; the audit log records it as done by the demo. All dates follow from today's date."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from ess.bootstrap import Container
from ess.domain.auth.login import LogIn, log_in, resolve_principal
from ess.domain.auth.model import Principal
from ess.domain.errors import DomainError, ServiceUnavailable
from ess.domain.profile.changing import ChangeProfile, change_profile
from ess.domain.shared import Notice
from ess.domain.vacation.decisions import decide
from ess.domain.vacation.requests import RequestLeave, my_requests, request_leave, withdraw
from ess.domain.vacation.year_end import close_year, expire_due, grant_year, send_expiry_warnings

DEMO_PASSWORD: Final = "demo-passwort-2026"  # noqa: S105 - the documented password of the fictional demo company
DEMO_CLIENT: Final = "192.0.2.10"  # TEST-NET-1 (RFC 5737): no real address in the demo's audit log
DEMO_ACTOR: Final = "ess demo seed"
# Who decides a request of someone without a manager in the HR data (HR may decide every request).
FALLBACK_APPROVER: Final = "hanna.berger"


@dataclass(frozen=True, slots=True)
class _Then:
    """The clock on a past day, at ten in the morning (for requests and decisions made back then)."""

    day: date

    def today(self) -> date:
        return self.day

    def now(self) -> datetime:
        return datetime.combine(self.day, time(9), tzinfo=UTC)


class _PastNotices:
    """Last year's notices are history: nobody is mailed today about a request or a warning of a year ago (the
    warnings themselves are recorded as evidence all the same)."""

    async def notify(self, notice: Notice) -> None:
        return None

    async def notify_first(self, notice: Notice) -> None:
        return None


def _weekday_on_or_after(day: date) -> date:
    return day + timedelta(days=max(0, 7 - day.weekday()) if day.weekday() >= 5 else 0)


async def _principal(container: Container, login: str) -> Principal:
    principal = await resolve_principal(login, deps=container.auth, with_groups=False)
    if principal is None:
        raise RuntimeError(f"the demo account {login} has no HR record")
    return principal


async def _leave(
    container: Container,
    login: str,
    start: date,
    days: int,
    *,
    decided: str,
    substitute: str = "",
    approver: str = "markus.weber",
) -> None:
    """A request filed a week before `start`, then approved, rejected or withdrawn the day after filing (or left
    waiting: decided="")."""
    filed = max(start - timedelta(days=7), date(start.year, 1, 2))
    then = replace(container.vacation, clock=_Then(filed))
    employee = await _principal(container, login)
    request = await request_leave(
        RequestLeave(employee, start, start + timedelta(days=days - 1), substitute=substitute), deps=then
    )
    assert request.id is not None
    later = replace(container.vacation, clock=_Then(filed + timedelta(days=1)))
    if decided == "withdrawn":
        await withdraw(request.id, principal=employee, deps=later)
    elif decided:
        manager = await _principal(container, approver)
        comment = "" if decided == "approved" else "Projektabschluss in der Woche, bitte eine Woche später."
        await decide(request.id, approve=decided == "approved", comment=comment, principal=manager, deps=later)


async def seed_history(container: Container) -> bool:
    """The demo's history, once: False when it is there already (the demo's requests exist)."""
    if await my_requests(await _principal(container, "juergen.weiss"), deps=container.vacation):
        return False
    today = container.clock.today()
    await _last_year(container, today.year - 1)
    first = date(today.year, 1, 1)
    # Leave taken earlier this year (weeks spread over the year so far; by 31 March from the carry-over first), a
    # rejected and a withdrawn request.
    taken = [
        ("juergen.weiss", 14, 5),
        ("anna.schmidt", 35, 5),
        ("zoe.lefevre", 40, 3),
        ("maximilian.fischer", 60, 5),
        ("zoe.lefevre", 120, 5),
        ("anna.schmidt", 180, 5),
    ]
    for login, offset, days in taken:
        start = _weekday_on_or_after(first + timedelta(days=offset))
        if start + timedelta(days=days + 7) < today:
            await _leave(container, login, start, days, decided="approved", substitute="")
    past = _weekday_on_or_after(first + timedelta(days=90))
    if past + timedelta(days=14) < today:
        await _leave(container, "maximilian.fischer", past, 3, decided="rejected")
        await _leave(container, "juergen.weiss", past + timedelta(days=21), 2, decided="withdrawn")
    # Waiting for markus.weber: two requests of his team, one with a substitute from the team.
    soon = _weekday_on_or_after(today + timedelta(days=21))
    await _leave(container, "juergen.weiss", soon, 5, decided="", substitute="Zoë Lefèvre")
    await _leave(container, "zoe.lefevre", soon + timedelta(days=14), 2, decided="")
    # An open bank-account change for HR to decide. It needs the notice to his private address first (the bank-change
    # safeguard): with no mail server to take it, the demo goes on without this one change.
    fischer = await _principal(container, "maximilian.fischer")
    with suppress(ServiceUnavailable):
        await change_profile(
            ChangeProfile(
                fischer,
                {"iban": "DE02 1203 0000 0000 2020 51", "bic": "", "holder": "Maximilian Fischer"},
                client=DEMO_CLIENT,
                current_password=DEMO_PASSWORD,
            ),
            deps=container.profile,
        )
    await _lock(container, "ivan.petrovic")
    # The daily expiry job, after this year's history: leave taken by 31 March drew on the carry-over first.
    await expire_due(today, deps=container.vacation, actor=DEMO_ACTOR)
    return True


async def _last_year(container: Container, year: int) -> None:
    """Last year as HR ran it: the year granted in January, everybody's summer leave (three or four weeks,
    staggered, decided by their manager; not for who joined that year), the expiry warnings on 1 October (in time
    for 31 March: the BUrlG duty to warn) and close-year on 2 January (the daily expiry job runs once this year's
    history is in). What was left over is carried into this year and lapses on 31 March unless taken by then
    (shown on the balance page with its deadline, and as lapsed after it)."""
    today = container.clock.today()
    container = replace(container, vacation=replace(container.vacation, notifier=_PastNotices()))
    await grant_year(year, deps=replace(container.vacation, clock=_Then(date(year, 1, 2))), actor=DEMO_ACTOR)
    async with container.new_uow() as uow:
        numbers = sorted(await uow.employees.all_personnel_numbers())
        employees = sorted((await uow.employees.by_personnel_numbers(numbers)).values(), key=lambda e: e.login)
    logins = {e.personnel_number: e.login for e in employees}
    for index, employee in enumerate(employees):
        start = _weekday_on_or_after(date(year, 6, 2) + timedelta(weeks=index % 10))
        if employee.hire_date.year >= year or not employee.is_employed_on(date(year, 12, 31)):
            continue  # who joined last year (leave still arising in AT) or left keeps last year untouched
        approver = logins.get(employee.manager_personnel_number or "", FALLBACK_APPROVER)
        if approver == employee.login:
            approver = "daniel.schaefer"
        weeks = 3 + index % 2
        await _leave(container, employee.login, start, 7 * weeks - 2, decided="approved", approver=approver)
    warned = replace(container.vacation, clock=_Then(date(year, 10, 1)))
    await send_expiry_warnings(year, deps=warned, actor=DEMO_ACTOR)
    closing = replace(container.vacation, clock=_Then(min(date(year + 1, 1, 2), today)))
    await close_year(year, deps=closing, actor=DEMO_ACTOR)


async def _lock(container: Container, login: str) -> None:
    """Wrong passwords until the directory locks the account, through the login (audited, for the helpdesk)."""
    for attempt in range(30):
        if (await container.recovery.directory.account_status(login)).locked:
            return
        with suppress(DomainError):  # refused, as meant
            await log_in(LogIn(login, f"falsch-{attempt}", DEMO_CLIENT), deps=container.auth)
        if attempt >= 5:  # past the login throttle: straight at the directory, which counts and locks
            await container.recovery.directory.authenticate(login, f"falsch-{attempt}")
