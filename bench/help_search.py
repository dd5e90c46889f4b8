"""Benchmark: the help search (personal answers, actions, articles) over 2,000 articles, against a raw full-text
query on the same index, and the precision@3 of the quality set (tests/data/help_search_quality.toml).

    .venv/bin/python bench/help_search.py [--articles 2000] [--rounds 5] [--database-url URL]

Without --database-url it builds a fresh, migrated SQLite file (FTS5) in a temporary directory. A PostgreSQL URL
(postgresql+asyncpg://...) must point at an empty database; it is migrated here. The 31 shipped articles are
joined by generated ones about other intranet topics that share some of their words (so the real ones have
competition). The script prints figures, it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import tomllib
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from ess.adapters.help_content import shipped_articles
from ess.adapters.hr_files import read_hr_file
from ess.bootstrap import build_container
from ess.domain.auth.model import Principal
from ess.domain.help.articles import SeedArticle, seed_articles
from ess.domain.help.model import ArticleText, Category
from ess.domain.help.search import search, understand
from ess.domain.hr.model import Role
from ess.domain.hr_import.importing import ImportEmployees, import_employees
from ess.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
QUALITY_SET = ROOT / "tests" / "data" / "help_search_quality.toml"
GOAL_P95_MS = 50.0
GOAL_PRECISION = 0.9


def _words(text: str) -> list[str]:
    return text.split()


TOPICS_DE = _words(
    "Dienstreise Reisekosten Kantine Parkplatz Fortbildung Laptop Drucker Homeoffice Betriebsrat "
    "Jobticket Arbeitsschutz Brandschutz Ersthelfer Firmenwagen Tankkarte Spesen Zeiterfassung "
    "Überstunden Gleitzeit Kernarbeitszeit Betriebsarzt Impfung Weihnachtsfeier Sommerfest Onboarding "
    "Mentoring Bewerbung Praktikum Werkstudent Zeugnis Gehaltsabrechnung Lohnsteuer Sozialversicherung "
    "Altersvorsorge Jubiläum Dienstjubiläum Besprechungsraum Videokonferenz Telefonanlage Software Lizenz "
    "Datenschutzschulung Compliance Einkauf Bestellung Rechnung Lieferant Postfach Kalender Teams "
    "Intranet Newsletter Kantinenplan Fahrrad Leasing"
)
TOPICS_EN = _words(
    "business trip travel expenses canteen parking training laptop printer remote work council ticket "
    "safety fire first aid company car fuel card allowance time tracking overtime flexitime core hours "
    "doctor vaccination party summer onboarding mentoring application internship student reference "
    "payslip tax social insurance pension anniversary meeting room video conference phone system software "
    "licence privacy compliance purchasing order invoice supplier mailbox calendar newsletter bicycle "
    "lease"
)
# Words of the real articles that generated ones use now and then, so that the real ones face competition.
SHARED_DE = _words("Urlaub Passwort Konto Antrag Personalabteilung Tage Adresse Frist E-Mail Link Jahr")
SHARED_EN = _words("leave password account request HR days address deadline e-mail link year")


def migrate(url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")


def _text(rng: random.Random, topics: list[str], shared: list[str], words: int) -> str:
    return " ".join(rng.choice(shared) if rng.random() < 0.08 else rng.choice(topics) for _ in range(words))


def generated(count: int, rng: random.Random) -> list[SeedArticle]:
    articles = []
    for number in range(count):
        texts = {}
        for lang, topics, shared in (("de", TOPICS_DE, SHARED_DE), ("en", TOPICS_EN, SHARED_EN)):
            title = _text(rng, topics, shared, rng.randint(3, 6)).capitalize()
            body = ". ".join(_text(rng, topics, shared, rng.randint(8, 16)) for _ in range(rng.randint(5, 10)))
            texts[lang] = ArticleText(title=title, body=body + ".", keywords="")
        articles.append(SeedArticle(f"intranet-{number:05d}", rng.choice(list(Category)), texts))
    return articles


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[94]


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await call()
    return (time.perf_counter() - start) * 1000


async def run(url: str, articles: int, rounds: int, mail_folder: str) -> None:
    """Long because it is the whole benchmark in order: build, warm up, measure precision, time both searches."""
    settings = load_settings(
        ROOT / "config" / "ess.toml",
        environ={
            "ESS_MODE": "test",
            "ESS_SECRET_KEY": "bench-secret-key-of-sufficient-length-0123456789",
            "ESS_SESSIONS__STORE": "memory",
            "ESS_DATABASE_URL": url,
            "ESS_MAIL__FOLDER": mail_folder,
        },
    )
    container = build_container(settings)
    deps = container.help
    await import_employees(
        ImportEmployees(records=read_hr_file(ROOT / "ess" / "demo" / "company.csv"), source_name="demo", actor="bench"),
        deps=container.hr_import,
    )
    assert container.local_directory is not None
    await container.local_directory.provision(
        "anna.schmidt",
        password="bench-password-0123",  # noqa: S106 - a throwaway account in a throwaway database
        groups=[],
    )
    shipped = shipped_articles()
    started = time.perf_counter()
    await seed_articles(
        [*shipped, *generated(articles - len(shipped), random.Random(20261202))],
        review_due=date(2027, 12, 1),
        deps=deps,
    )
    build_seconds = time.perf_counter() - started
    async with container.new_uow() as uow:
        session = getattr(uow, "session")  # noqa: B009
        texts = (await session.execute(text("SELECT count(*) FROM help_search"))).scalar_one()
    async with container.new_uow() as uow:
        employee = await uow.employees.by_login("anna.schmidt")
        assert employee is not None
    anna = Principal("anna.schmidt", employee.display_name, frozenset({Role.EMPLOYEE}), employee.id)
    with QUALITY_SET.open("rb") as source:
        queries = tomllib.load(source)["query"]

    started = time.perf_counter()
    await search("warm up", "de", principal=None, deps=deps)  # builds the vocabulary cache once per process
    warm_up_ms = (time.perf_counter() - started) * 1000

    hits = 0
    for query in queries:
        principal = anna if query.get("login") else None
        found = await search(query["q"], query["lang"], principal=principal, deps=deps)
        top = [f"{r.kind.value}:{r.key}" for r in found.results[:3]]
        hits += query["expect"] in top

    dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
    ours: list[float] = []
    personal: list[float] = []
    raw: list[float] = []
    for _ in range(rounds):
        for query in queries:
            lang = query["lang"]
            ours.append(await timed(lambda q=query["q"], lang=lang: search(q, lang, principal=None, deps=deps)))
            if query.get("login"):
                personal.append(await timed(lambda q=query["q"], lang=lang: search(q, lang, principal=anna, deps=deps)))
            content = understand(query["q"], deps.cache.vocabulary).content
            raw.append(await timed(lambda c=content, lang=lang: raw_query(container, dialect, c, lang)))

    precision = hits / len(queries)
    ratio = p95(ours) / p95(raw) if p95(raw) else float("nan")
    print(
        f"database: {dialect}; {articles} articles ({texts} indexed texts, DE and EN), built in {build_seconds:.1f} s"
    )
    print(f"quality set: {len(queries)} queries; precision@3 = {precision:.3f} (goal >= {GOAL_PRECISION})")
    print(f"first search of the process (builds the typo vocabulary): {warm_up_ms:.0f} ms")
    print(f"{'what':<52} {'median ms':>10} {'p95 ms':>8}")
    print(f"{'raw full-text query (same terms, same index)':<52} {statistics.median(raw):>10.2f} {p95(raw):>8.2f}")
    print(f"{'help search, anonymous (actions + articles)':<52} {statistics.median(ours):>10.2f} {p95(ours):>8.2f}")
    print(
        f"{'help search, logged in (+ personal answers)':<52} "
        f"{statistics.median(personal):>10.2f} {p95(personal):>8.2f}"
    )
    print(f"p95 help search / raw full-text query: {ratio:.1f}x (goal: help search p95 < {GOAL_P95_MS:.0f} ms)")
    await container.close()


async def raw_query(container: Any, dialect: str, terms: list[str], lang: str) -> list[Any]:
    """The baseline: the engine's own ranked OR query over the same terms, nothing else."""
    if not terms:
        return []
    async with container.new_uow() as uow:
        session = uow.session
        if dialect == "sqlite":
            match = "{title_terms body_terms} : (" + " OR ".join(f'"{t}"*' for t in terms) + ")"
            statement = (
                "SELECT slug, title FROM help_search WHERE help_search MATCH :q AND lang = :lang "
                "ORDER BY bm25(help_search, 0, 0, 0, 0, 0, 8.0, 1.0) LIMIT 8"
            )
        else:
            match = " | ".join(f"{t}:*" for t in terms)
            statement = (
                "SELECT slug, title FROM help_search, to_tsquery('simple', :q) q WHERE document @@ q AND lang = :lang "
                "ORDER BY ts_rank(document, q) DESC LIMIT 8"
            )
        return list(await session.execute(text(statement), {"q": match, "lang": lang}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ess-bench-help-") as workdir:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(workdir) / 'ess.db'}"
        migrate(url)
        asyncio.run(run(url, args.articles, args.rounds, str(Path(workdir) / "mail")))


if __name__ == "__main__":
    main()
