"""The baseline of bench/request_overhead.py: a bare Litestar app with one JSON route and one Jinja page, nothing else;
and the floors of this stack: the same JSON route after SQLAlchemy Core queries on a SQLite file, which every
database-backed request pays at least.

.venv/bin/python bench/bare_app.py PORT [--floor] [--stack] [--ess-page SESSION_COOKIE]

Only with --floor does it import SQLAlchemy and serve the floors:
- `/json-db`: one Core query in one transaction, plain async engine on aiosqlite (every statement a trip to
  aiosqlite's thread);
- `/json-ess-1` and `/json-ess-3`: one and three Core queries in one read-only transaction on ESS's own engine
  (`ess.adapters.sql.database.create_engine`: its SQLite driver runs a read-only transaction's SELECTs on the event
  loop, as ESS's reads run). Three is the issue's budget of statements for an authenticated read.

With --stack it imports, before it serves, the libraries any app on ESS's fixed stack loads at start (SQLAlchemy's
asyncio extension and ORM, aiosqlite, passlib, Babel): the floor of a cold start on that stack, for
bench/cold_start.py. Without either, the plain bare app's cold start stays that of Litestar, Jinja and uvicorn alone.

With --ess-page (and ESS's configuration in the environment, e.g. `EssCluster.env()`) it also serves `/ess-page`:
ESS's own `vacation.html`, in ESS's Jinja environment, rendered with the context of one real `/vacation` request
(made once at start, in this process, with the session cookie given: the context is captured where Litestar hands it
to the template). That is the page's template cost alone - no identity, no database, no middleware - to which the
page's goal ("CPU at most 3x a bare app rendering the same template with the same context") compares ESS.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import uvicorn
from litestar import Litestar, Response, get
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

PAGE = """<!doctype html><html lang="en"><head><title>{{ title }}</title></head>
<body><main><h1>{{ title }}</h1><ul>{% for n in items %}<li>{{ n }}</li>{% endfor %}</ul></main></body></html>"""


@get("/json", operation_id="bare_json", sync_to_thread=False)
def json_route() -> dict[str, object]:
    """A JSON answer of about the size of the balance."""
    return {"year": 2026, "entitlement": "30", "taken": "12.5", "planned": "3", "remaining": "14.5", "expiring": []}


def floor_route(folder: Path) -> tuple[Any, Any]:
    """The `/json-db` handler and its startup hook: one Core query in one transaction on a SQLite file."""
    from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select  # noqa: PLC0415 - only --floor
    from sqlalchemy.ext.asyncio import create_async_engine  # noqa: PLC0415

    metadata = MetaData()
    rows = Table("rows", metadata, Column("id", Integer, primary_key=True), Column("value", String(32)))
    one_row = select(rows.c.id, rows.c.value).where(rows.c.id == 1)
    engine = create_async_engine(f"sqlite+aiosqlite:///{folder}/bare.db")

    @get("/json-db", operation_id="bare_json_db")
    async def json_db_route() -> dict[str, object]:
        """The JSON answer after one Core query in one transaction: the floor of a database-backed request."""
        async with engine.begin() as connection:
            row = (await connection.execute(one_row)).one()
        return {"year": 2026, "id": row.id, "value": row.value, "remaining": "14.5", "expiring": []}

    async def create_rows() -> None:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            await connection.execute(insert(rows).values(id=1, value="one"))

    return json_db_route, create_rows


def ess_floor_routes(folder: Path) -> tuple[list[Any], Any]:
    """`/json-ess-1` and `/json-ess-3` and their startup hook: Core queries in one read-only transaction on ESS's
    engine (its driver, pragmas and begin hook), on a SQLite file."""
    from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select  # noqa: PLC0415 - only --floor

    from ess.adapters.sql.database import READ_ONLY, create_engine  # noqa: PLC0415

    metadata = MetaData()
    rows = Table("rows", metadata, Column("id", Integer, primary_key=True), Column("value", String(32)))
    one_row = select(rows.c.id, rows.c.value).where(rows.c.id == 1)
    engine = create_engine(f"sqlite+aiosqlite:///{folder}/ess-floor.db")
    reader = engine.execution_options(**{READ_ONLY: True})

    async def read(statements: int) -> dict[str, object]:
        async with reader.connect() as connection, connection.begin():
            for _ in range(statements):
                row = (await connection.execute(one_row)).one()
        return {"year": 2026, "id": row.id, "value": row.value, "remaining": "14.5", "expiring": []}

    @get("/json-ess-1", operation_id="bare_json_ess_1")
    async def one_statement() -> dict[str, object]:
        """The JSON answer after one query in a read-only transaction on ESS's engine."""
        return await read(1)

    @get("/json-ess-3", operation_id="bare_json_ess_3")
    async def three_statements() -> dict[str, object]:
        """The JSON answer after three queries in a read-only transaction on ESS's engine."""
        return await read(3)

    async def create_rows() -> None:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            await connection.execute(insert(rows).values(id=1, value="one"))

    return [one_statement, three_statements], create_rows


def import_stack() -> None:
    """Import what any app on ESS's fixed stack loads at start, besides Litestar, Jinja and uvicorn."""
    import aiosqlite  # noqa: F401, PLC0415
    import babel.dates  # noqa: PLC0415
    import babel.numbers  # noqa: PLC0415
    import babel.support  # noqa: F401, PLC0415
    import passlib.context  # noqa: F401, PLC0415
    import sqlalchemy.ext.asyncio  # noqa: PLC0415
    import sqlalchemy.orm  # noqa: F401, PLC0415


def ess_page_route(session_cookie: str) -> Any:
    """The `/ess-page` handler: ESS's vacation.html with a context captured from one real request (see above)."""
    import asyncio  # noqa: PLC0415 - only --ess-page

    import httpx  # noqa: PLC0415

    from ess.app import create_app  # noqa: PLC0415 - ESS only in this mode

    ess = create_app()
    engine = ess.template_engine
    assert engine is not None
    original = engine.get_template
    captured: dict[str, Any] = {}

    class Capturing:
        def __init__(self, name: str) -> None:
            self.template = original(name)

        def render(self, *args: Any, **context: Any) -> str:
            captured.update(context)
            return str(self.template.render(*args, **context))

    async def one_request() -> None:
        transport = httpx.ASGITransport(app=ess)
        async with httpx.AsyncClient(transport=transport, base_url="http://ess.test") as client:
            answer = await client.get("/vacation", headers={"Cookie": f"ess_session={session_cookie}"})
            if answer.status_code != 200:
                raise RuntimeError(f"/vacation in process: {answer.status_code}")

    engine.get_template = Capturing  # type: ignore[method-assign,assignment]
    try:
        asyncio.run(one_request())
    finally:
        engine.get_template = original  # type: ignore[method-assign]
    template = original("vacation.html")

    @get("/ess-page", operation_id="bare_ess_page", sync_to_thread=False)
    def ess_page() -> Response[str]:
        """ESS's vacation.html with the captured context: the template's own cost."""
        return Response(template.render(**captured), media_type="text/html")

    return ess_page


@get("/page", operation_id="bare_page", sync_to_thread=False)
def page_route() -> Template:
    """A small Jinja page."""
    return Template(template_name="page.html", context={"title": "Hello", "items": list(range(10))})


def main(port: int, *, floor: bool, stack: bool, ess_cookie: str | None) -> None:
    if stack:
        import_stack()
    folder = Path(tempfile.mkdtemp(prefix="bare-app-"))
    (folder / "page.html").write_text(PAGE, encoding="utf-8")
    handlers: list[Any] = [json_route, page_route]
    startup: list[Any] = []
    if floor:
        route, create_rows = floor_route(folder)
        handlers.append(route)
        startup.append(create_rows)
        ess_routes, create_ess_rows = ess_floor_routes(folder)
        handlers += ess_routes
        startup.append(create_ess_rows)
    if ess_cookie:
        handlers.append(ess_page_route(ess_cookie))
    app = Litestar(
        route_handlers=handlers,
        on_startup=startup,
        template_config=TemplateConfig(directory=folder, engine=JinjaTemplateEngine),
    )
    # The same uvicorn options as `ess serve` (ess/cli.py), without its log configuration.
    uvicorn.run(app, host="127.0.0.1", port=port, proxy_headers=False, server_header=False, log_level="warning")


if __name__ == "__main__":
    options = sys.argv[2:]
    cookie = options[options.index("--ess-page") + 1] if "--ess-page" in options else None
    main(int(sys.argv[1]), floor="--floor" in options, stack="--stack" in options, ess_cookie=cookie)
