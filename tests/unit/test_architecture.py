"""The house rules of scripts/check_architecture.py hold for ESS, and the check finds each kind of violation."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_architecture", ROOT / "scripts" / "check_architecture.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def _function(name: str, lines: int, docstring: str = "") -> str:
    doc = f'    """{docstring}"""\n' if docstring else ""
    body = "".join(f"    x{i} = {i}\n" for i in range(lines - 1 - bool(docstring)))
    return f"def {name}() -> None:\n{doc}{body}"


def test_ess_keeps_the_rules() -> None:
    assert _checker().violations(ROOT) == []


def test_a_domain_module_over_400_lines_is_reported(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"ess/domain/big.py": "x = 1\n" * 401, "ess/domain/fine.py": "x = 1\n" * 400})
    assert [v.split(":")[0] for v in _checker().violations(root)] == ["ess/domain/big.py"]


def test_a_long_function_needs_its_reason(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "ess/routes/long.py": _function("too_long", 61) + "\n\n" + _function("just_right", 60),
            "ess/app.py": _function("explained", 80, "Long because one table reads best whole."),
        },
    )
    [violation] = _checker().violations(root)
    assert "too_long() has 61 lines" in violation


def test_a_web_path_in_the_domain_is_reported_but_not_in_prose_or_outside(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "ess/domain/links.py": '"""Links to /vacation are built by the edge."""\nPATH = "/vacation/team"\n'
            'def link(token: str) -> str:\n    return f"/password/reset/{token}"\n',
            "ess/routes/pages.py": 'HOME = "/vacation"\n',
        },
    )
    found = _checker().violations(root)
    assert len(found) == 2
    assert "'/vacation/team'" in found[0]
    assert "'/password/reset/'" in found[1]
