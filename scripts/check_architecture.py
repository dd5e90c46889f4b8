"""House rules import-linter cannot check: module and function size, and no web path in the domain.

- No module in ess/domain has more than 400 lines: a larger one holds more than one group of use cases.
- No function in ess has more than 60 lines unless its docstring says why ("Long because ...").
- No string in ess/domain is a web path ("/vacation", f"/password/reset/{token}"): the domain names what a link
  points to (an area's Page enum), the edge builds the URL by route name.

Run by `make lint`; prints every violation and exits 1 when there is one. Usage: check_architecture.py [ROOT]
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Final

MAX_DOMAIN_MODULE_LINES: Final = 400
MAX_FUNCTION_LINES: Final = 60
REASON: Final = "Long because"
WEB_PATH: Final = re.compile(r"^/[a-z]")


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _strings(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every string literal, and the literal start of every f-string, with its line."""
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            first = node.values[0] if node.values else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                yield node.lineno, first.value
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def _docstrings(tree: ast.AST) -> set[int]:
    """Line numbers of docstrings: prose may mention a path."""
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                lines.add(first.value.lineno)
    return lines


def violations(root: Path) -> list[str]:
    found: list[str] = []
    package = root / "ess"
    for path in sorted(package.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source, filename=str(path))
        shown = path.relative_to(root)
        in_domain = (package / "domain") in path.parents
        lines = len(source.splitlines())
        if in_domain and lines > MAX_DOMAIN_MODULE_LINES:
            found.append(f"{shown}: {lines} lines (a domain module has at most {MAX_DOMAIN_MODULE_LINES}): split it")
        for function in _functions(tree):
            length = (function.end_lineno or function.lineno) - function.lineno + 1
            docstring = ast.get_docstring(function) or ""
            if length > MAX_FUNCTION_LINES and REASON not in docstring:
                found.append(
                    f"{shown}:{function.lineno}: {function.name}() has {length} lines (at most {MAX_FUNCTION_LINES} "
                    f'unless its docstring says "{REASON} ...")'
                )
        if in_domain:
            docstrings = _docstrings(tree)
            for line, text in sorted(set(_strings(tree))):
                if line not in docstrings and WEB_PATH.match(text):
                    found.append(f"{shown}:{line}: web path {text!r} in the domain: link to a Page, not a URL")
    return found


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
    found = violations(root)
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
