"""Paths by route name are remembered, but a client choosing path parameters cannot grow that memory for ever."""

from __future__ import annotations

from litestar import Litestar, get
from litestar.params import FromPath

from ess.routes.rendering import reverse


@get("/articles/{slug:str}", name="article", sync_to_thread=False)
def article(slug: FromPath[str]) -> str:
    return slug


def test_remembered_paths_stay_right_and_bounded() -> None:
    app = Litestar([article])
    for number in range(5_000):  # e.g. a slug taken from the query string, a new one each request
        assert reverse(app, "article", slug=f"s{number}") == f"/articles/s{number}"
    assert 0 < len(app.state["ess_paths"]) <= 2048
    assert reverse(app, "article", slug="s1") == "/articles/s1"
