"""The baseline of bench/request_overhead.py: a bare Litestar app with one JSON route and one Jinja page, nothing else.

.venv/bin/python bench/bare_app.py PORT
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

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


@get("/page", operation_id="bare_page", sync_to_thread=False)
def page_route() -> Template:
    """A small Jinja page."""
    return Template(template_name="page.html", context={"title": "Hello", "items": list(range(10))})


def main(port: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bare-app-"))
    (folder / "page.html").write_text(PAGE, encoding="utf-8")
    app = Litestar(
        route_handlers=[json_route, page_route],
        template_config=TemplateConfig(directory=folder, engine=JinjaTemplateEngine),
    )
    # The same uvicorn options as `ess serve` (ess/cli.py), without its log configuration.
    uvicorn.run(app, host="127.0.0.1", port=port, proxy_headers=False, server_header=False, log_level="warning")


if __name__ == "__main__":
    main(int(sys.argv[1]))
