"""Templates build every internal URL by route name: no path is written out, and every `url_for` names a route of
the app with exactly the path parameters the route has (checked for every call, also in branches a page rarely takes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from jinja2 import Environment, nodes
from litestar import Litestar

from ess.app import create_app
from tests.conftest import make_settings

TEMPLATES = Path(__file__).resolve().parents[2] / "ess" / "templates"
STATIC = TEMPLATES.parent / "static"
PAGE_TEMPLATES = sorted(TEMPLATES.rglob("*.html"))

# An internal path written out: an attribute whose value starts with "/" (or "//"), or a comparison with one
# (`current_path == "/vacation"`, `current_path.startswith("/profile")`). External URLs, "mailto:", "#fragment",
# "data:" and `{{ url_for(...) }}` do not start with "/".
LITERAL_PATH = re.compile(
    r"""\b(?:href|action|src|formaction)\s*=\s*["']/"""
    r"""|(?:==|!=)\s*["']/"""
    r"""|startswith\(\s*["']/""",
    re.IGNORECASE,
)
PATH_PARAMETER = re.compile(r"\{(\w+):(\w+)\}")
SAMPLE_VALUES = {"int": 1, "str": "x", "path": "x"}
# `<form method="post" action="{{ url_for('name'...` and `href="{{ url_for('name'...`: the handler must answer the
# method the browser will use.
FORM_TAG = re.compile(r"<form\b[^>]*>", re.IGNORECASE | re.DOTALL)
FORM_METHOD = re.compile(r"""\bmethod\s*=\s*["'](\w+)["']""", re.IGNORECASE)
ROUTE_IN_ATTRIBUTE = r"""\b{attribute}\s*=\s*["']\{{\{{\s*url_for\(\s*["'](\w+)["']"""
FORM_ACTION_ROUTE = re.compile(ROUTE_IN_ATTRIBUTE.format(attribute="action"), re.IGNORECASE)
HREF_ROUTE = re.compile(ROUTE_IN_ATTRIBUTE.format(attribute="(?:href|src)"), re.IGNORECASE)


@dataclass(frozen=True)
class UrlCall:
    template: str
    line: int
    function: str
    route_name: str
    # Each keyword argument, with its value when the template writes a constant (a file name), else None.
    parameters: tuple[tuple[str, object], ...]

    def __str__(self) -> str:
        return f"{self.template}:{self.line} {self.function}({self.route_name!r})"


def literal_paths(source: str) -> list[tuple[int, str]]:
    """(line, matched text) of every internal path the source writes out."""
    return [(source.count("\n", 0, m.start()) + 1, m.group(0)) for m in LITERAL_PATH.finditer(source)]


def url_calls() -> list[UrlCall]:
    """Every call of Litestar's URL template globals in the templates, read from Jinja's syntax tree."""
    environment = Environment(autoescape=True)
    calls = []
    for path in PAGE_TEMPLATES:
        tree = environment.parse(path.read_text(encoding="utf-8"))
        for call in tree.find_all(nodes.Call):
            if not isinstance(call.node, nodes.Name) or call.node.name not in ("url_for", "url_for_static_asset"):
                continue
            where = f"{path.relative_to(TEMPLATES)}:{call.lineno}"
            # A computed route name or parameter set could not be checked here: templates name routes literally.
            assert call.dyn_args is None and call.dyn_kwargs is None, where
            assert call.args and isinstance(call.args[0], nodes.Const), where
            parameters = tuple(
                (keyword.key, keyword.value.value if isinstance(keyword.value, nodes.Const) else None)
                for keyword in call.kwargs
            )
            calls.append(
                UrlCall(
                    str(path.relative_to(TEMPLATES)), call.lineno, call.node.name, str(call.args[0].value), parameters
                )
            )
    return calls


@pytest.fixture(scope="module")
def app() -> Litestar:
    return create_app(make_settings("sqlite+aiosqlite:///:memory:"))


def test_no_template_writes_an_internal_path_out() -> None:
    found = [
        f"{path.relative_to(TEMPLATES)}:{line}: {text}"
        for path in PAGE_TEMPLATES
        for line, text in literal_paths(path.read_text(encoding="utf-8"))
    ]
    assert found == [], "build these URLs with url_for / url_for_static_asset:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        '<a href="/vacation">',
        "<a href='/contact#it'>",
        '<form method="post" action="/vacation/requests/{{ r.id }}/withdraw">',
        '<script src="/static/password-strength.js" defer></script>',
        '<a href="//evil.example/">',
        '<button formaction="/logout">',
        '{% if current_path == "/" %}',
        "{% if current_path != '/password' %}",
        '{% if current_path.startswith("/profile") %}',
    ],
)
def test_the_check_finds_a_written_out_path(source: str) -> None:
    assert literal_paths(source)


@pytest.mark.parametrize(
    "source",
    [
        """<a href="{{ url_for('vacation') }}">""",
        """<a href="{{ url_for('contact') }}#it">""",
        """<form method="post" action="{{ url_for('vacation_withdraw', request_id=r.id) }}">""",
        """<script src="{{ url_for('static', file_path='password-strength.js') }}" defer></script>""",
        """{% if current_path.startswith(url_for('profile')) %}""",
        '<a class="skip-link" href="#main">',
        '<a href="mailto:{{ company.hr_contact.email }}">',
        '<img src="data:image/svg+xml;base64,AAAA" alt="">',
        '<a href="https://www.example.com/privacy">',
    ],
)
def test_the_check_lets_urls_by_name_and_other_links_pass(source: str) -> None:
    assert literal_paths(source) == []


def test_the_templates_build_urls_by_name() -> None:
    assert url_calls(), "no url_for in the templates: has the syntax tree walk stopped finding them?"


def test_no_template_uses_url_for_static_asset() -> None:
    """Litestar's `url_for_static_asset` is deprecated and knows only the old StaticFilesConfig: with the router of
    `create_static_files_router` it raises at render time. Static files are routes: `url_for('static', file_path=...)`.
    """
    assert [str(c) for c in url_calls() if c.function == "url_for_static_asset"] == []


@pytest.mark.parametrize("call", [c for c in url_calls() if c.function == "url_for"], ids=str)
def test_each_url_for_names_a_route_with_its_path_parameters(app: Litestar, call: UrlCall) -> None:
    index = app.get_handler_index_by_name(call.route_name)
    assert index is not None, f"{call}: no route is named {call.route_name!r}"
    types = {name: type_ for path in index["paths"] for name, type_ in PATH_PARAMETER.findall(path)}
    assert {name for name, _ in call.parameters} == set(types), f"{call}: the path parameters are {sorted(types)}"
    built = app.route_reverse(call.route_name, **{name: SAMPLE_VALUES[type_] for name, type_ in types.items()})
    assert built.startswith("/")


@pytest.mark.parametrize("call", [c for c in url_calls() if c.route_name == "static"], ids=str)
def test_each_static_file_exists_and_is_served_under_static(app: Litestar, call: UrlCall) -> None:
    [(name, file_path)] = call.parameters
    assert name == "file_path" and isinstance(file_path, str), f"{call}: name the file as a constant"
    assert (STATIC / file_path).is_file(), f"{call}: no such file in ess/static"
    assert app.route_reverse("static", file_path=file_path) == f"/static/{file_path}"


@pytest.mark.parametrize("path", PAGE_TEMPLATES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_forms_and_links_use_the_handler_for_their_method(app: Litestar, path: Path) -> None:
    """GET and POST of one path are different handlers: a form posts to the POST handler's name, a link or a GET
    form names the page (the URL would be the same, but the name says which handler is meant)."""
    source = path.read_text(encoding="utf-8")
    wanted: list[tuple[str, str]] = []
    for tag in FORM_TAG.findall(source):
        action = FORM_ACTION_ROUTE.search(tag)
        if action is not None:
            method = FORM_METHOD.search(tag)
            wanted.append((action.group(1), (method.group(1) if method else "get").upper()))
    wanted += [(route_name, "GET") for route_name in HREF_ROUTE.findall(source)]
    for route_name, method in wanted:
        index = app.get_handler_index_by_name(route_name)
        assert index is not None, f"{path.name}: no route is named {route_name!r}"
        assert method in index["handler"].http_methods, f"{path.name}: {route_name!r} does not answer {method}"
