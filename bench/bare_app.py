"""The baseline of bench/request_overhead.py: a bare Litestar app with one JSON route and one Jinja page, nothing else;
and the floor of this stack: the same JSON route after one SQLAlchemy Core query (async engine, aiosqlite, one
transaction) on a SQLite file, which every database-backed request pays at least.

.venv/bin/python bench/bare_app.py PORT [--floor]

Only with --floor does it import SQLAlchemy and serve `/json-db`, so the plain bare app's cold start stays that of
Litestar, Jinja and uvicorn alone.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import uvicorn
from litestar import Litestar, get
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


@get("/page", operation_id="bare_page", sync_to_thread=False)
def page_route() -> Template:
    """A small Jinja page."""
    return Template(template_name="page.html", context={"title": "Hello", "items": list(range(10))})


def main(port: int, *, floor: bool) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bare-app-"))
    (folder / "page.html").write_text(PAGE, encoding="utf-8")
    handlers: list[Any] = [json_route, page_route]
    startup: list[Any] = []
    if floor:
        route, create_rows = floor_route(folder)
        handlers.append(route)
        startup.append(create_rows)
    app = Litestar(
        route_handlers=handlers,
        on_startup=startup,
        template_config=TemplateConfig(directory=folder, engine=JinjaTemplateEngine),
    )
    # The same uvicorn options as `ess serve` (ess/cli.py), without its log configuration.
    uvicorn.run(app, host="127.0.0.1", port=port, proxy_headers=False, server_header=False, log_level="warning")


if __name__ == "__main__":
    main(int(sys.argv[1]), floor="--floor" in sys.argv[2:])
