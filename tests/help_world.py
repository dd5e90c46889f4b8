"""A help center on a real database: the demo company imported, the shipped articles seeded, a fixed clock."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from ess.adapters.help_content import shipped_articles
from ess.adapters.hr_files import read_hr_file
from ess.bootstrap import Container, build_container
from ess.cli import DEMO_COMPANY
from ess.demo_history import DEMO_PASSWORD
from ess.domain.auth.model import Principal
from ess.domain.help.articles import seed_articles
from ess.domain.help.ports import HelpDeps
from ess.domain.help.search import search
from ess.domain.hr.model import Role
from ess.domain.hr_import.importing import ImportEmployees, import_employees
from tests.conftest import make_settings
from tests.fakes import FixedClock

QUALITY_SET = Path(__file__).resolve().parent / "data" / "help_search_quality.toml"


def quality_queries() -> list[dict[str, Any]]:
    with QUALITY_SET.open("rb") as source:
        return list(tomllib.load(source)["query"])


@dataclass
class HelpWorld:
    container: Container
    clock: FixedClock

    @property
    def deps(self) -> HelpDeps:
        return self.container.help

    async def principal(self, login: str, *roles: Role) -> Principal:
        async with self.container.new_uow() as uow:
            employee = await uow.employees.by_login(login)
            assert employee is not None and employee.id is not None
            manager = await uow.employees.has_reports(employee.id)
        found = {Role.EMPLOYEE, *roles, *([Role.MANAGER] if manager else [])}
        return Principal(login, employee.display_name, frozenset(found), employee.id)

    async def keys(self, query: str, lang: str = "de", principal: Principal | None = None) -> list[str]:
        answer = await search(query, lang, principal=principal, deps=self.deps)
        return [f"{r.kind.value}:{r.key}" for r in answer.results]


async def make_world(database_url: str) -> HelpWorld:
    clock = FixedClock(datetime(2026, 11, 22, 9, 0, tzinfo=UTC))
    container = build_container(make_settings(database_url), clock=clock)
    await import_employees(
        ImportEmployees(records=read_hr_file(DEMO_COMPANY), source_name="company.csv", actor="test"),
        deps=container.hr_import,
    )
    assert container.local_directory is not None
    for login in ("anna.schmidt", "markus.weber", "hanna.berger", "ivan.petrovic", "admin"):
        groups = ["ess-admins"] if login == "admin" else []
        await container.local_directory.provision(login, password=DEMO_PASSWORD, groups=groups)
    await seed_articles(shipped_articles(), review_due=date(2027, 11, 22), deps=container.help)
    return HelpWorld(container, clock)


@pytest.fixture
async def help_world(database_url: str) -> AsyncIterator[HelpWorld]:
    world = await make_world(database_url)
    try:
        yield world
    finally:
        await world.container.close()
