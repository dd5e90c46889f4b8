"""Every refusal says why: each domain error the code raises has a specific German message, shown beside its input.

The walk reads every `raise SomeDomainError(...)` in `ess/domain` (and every message marked with `N_` there), builds
the error as the raiser would, renders it the way a page and the API do, and proves the German text is the
translation of that very message, never the generic fallback.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import ess.app
import ess.domain
from ess.domain.directory.model import DirectoryRejection
from ess.domain.errors import DomainError
from ess.domain.passwords.model import PasswordProblem
from ess.domain.profile.validation import Problem
from ess.i18n import translations
from ess.routes.errors import (
    DIRECTORY_REJECTIONS,
    FORM_MESSAGES,
    PASSWORD_PROBLEMS,
    domain_message,
    form_errors,
)
from ess.routes.problems import domain_errors
from ess.routes.profile_text import PROBLEM_MESSAGES

DOMAIN = Path(__file__).resolve().parents[2] / "ess" / "domain"
GERMAN = translations("de").gettext
# Errors whose messages come from their own tables (one entry per broken rule), not from the raise.
OWN_TABLES = {
    "password_rejected",
    "directory_password_rejected",
    "profile_rejected",
    "field_rejected",
    "import_rejected",
    "sso_refused",  # one message per reason: ess.domain.auth.sso.REFUSALS (tested below)
}
SAMPLES: dict[str, object] = {"date": date(2027, 3, 31), "days": Decimal("2.5"), "year": 2026}


@dataclass(frozen=True)
class Raise:
    where: str
    cls: type[DomainError]
    template: str
    fields: tuple[str, ...]
    rule: str
    params: tuple[str, ...]


def _keywords(call: ast.Call) -> dict[str, ast.expr]:
    return {k.arg: k.value for k in call.keywords if k.arg}


def _constant(module: str, node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):  # a module constant marked with N_
        value = getattr(importlib.import_module(module), node.id, None)
        return value if isinstance(value, str) else None
    return None


def _keys(node: ast.expr | None) -> tuple[str, ...]:
    keys = node.keys if isinstance(node, ast.Dict) else []
    return tuple(k.value for k in keys if isinstance(k, ast.Constant) and isinstance(k.value, str))


def _raises() -> Iterator[Raise]:
    classes = {cls.__name__: cls for cls in domain_errors().values()}
    classes.update({sub.__name__: sub for cls in list(classes.values()) for sub in cls.__subclasses__()})
    for path in sorted(DOMAIN.rglob("*.py")):
        module = "ess." + ".".join(path.relative_to(DOMAIN.parent).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            func = node.exc.func
            cls = classes.get(func.id if isinstance(func, ast.Name) else "")
            if cls is None or cls.code in OWN_TABLES or not node.exc.args:
                continue
            template = _constant(module, node.exc.args[0])
            if template is None:  # a parameter of a helper (decisions: `message=N_(...)`), walked with the N_ marks
                continue
            keywords = _keywords(node.exc)
            fields = keywords.get("fields")
            names = _keys(fields)
            rule = keywords.get("rule")
            params = keywords.get("params")
            yield Raise(
                where=f"{path.name}:{node.lineno}",
                cls=cls,
                template=template,
                fields=names,
                rule=rule.value if isinstance(rule, ast.Constant) and isinstance(rule.value, str) else "",
                params=_keys(params),
            )


# Every domain module imported first, so that every error class is known to `domain_errors()` here and in the
# tests below whatever other tests ran before (the classes register by being imported).
for _module in pkgutil.walk_packages(ess.domain.__path__, "ess.domain."):
    importlib.import_module(_module.name)
RAISES = list(_raises())


def _marked() -> Iterator[str]:
    for path in sorted(DOMAIN.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "N_":
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    yield arg.value


def _build(found: Raise) -> DomainError:
    exc = found.cls.__new__(found.cls)
    DomainError.__init__(
        exc,
        found.template,
        fields=dict.fromkeys(found.fields, "x"),
        rule=found.rule,
        params={name: SAMPLES.get(name, 7) for name in found.params},
    )
    return exc


def test_the_walk_finds_the_refusals_of_a_leave_request() -> None:
    rules = {r.rule for r in RAISES}
    assert len(RAISES) > 100
    assert {
        "leave_end_before_start",
        "leave_no_working_day",
        "leave_not_enough",
        "leave_year_out_of_range",
        "leave_overlap",
        "leave_too_far_in_past",
    } <= rules


@pytest.mark.parametrize("found", RAISES, ids=[r.where for r in RAISES])
def test_every_raised_refusal_has_a_specific_german_message_shown_beside_its_input(found: Raise) -> None:
    exc = _build(found)
    german = GERMAN(found.template)
    assert german != found.template, f"{found.where}: no German translation of {found.template!r}"
    status, errors = form_errors(exc, GERMAN, inputs=set(found.fields), lang="de")
    assert status >= 400
    if found.cls.code in FORM_MESSAGES:  # login and limits: the same vetted words for every cause
        field, message = FORM_MESSAGES[found.cls.code]
        assert errors == {field: [GERMAN(message)]}
        return
    shown = domain_message(exc, GERMAN, "de")
    assert errors == {found.fields[0] if found.fields else "form": [shown]}
    assert "%(" not in shown
    if found.params:
        assert shown == german % _rendered(found)


def _rendered(found: Raise) -> dict[str, str]:
    shown: dict[str, str] = {}
    for name in found.params:
        value = SAMPLES.get(name, 7)
        shown[name] = value.strftime("%d.%m.%Y") if isinstance(value, date) else str(value).replace(".", ",")
    return shown


@pytest.mark.parametrize("message", sorted(set(_marked())))
def test_every_message_marked_in_the_domain_is_translated(message: str) -> None:
    assert GERMAN(message) != message


def test_every_domain_error_code_has_a_specific_message() -> None:
    """Each code either has its vetted words (login, limits), its own table (one message per rule), or is raised
    somewhere with a message the walk above proved translated; none falls back to a generic sentence."""
    raised = {r.cls.code for r in RAISES}
    for code, cls in domain_errors().items():
        if code in FORM_MESSAGES:
            assert GERMAN(FORM_MESSAGES[code][1]) != FORM_MESSAGES[code][1]
        elif code in OWN_TABLES:
            continue
        else:
            assert code in raised or cls is DomainError, f"{code} is never raised with a message"
    assert {*PASSWORD_PROBLEMS} == set(PasswordProblem)
    assert {*DIRECTORY_REJECTIONS} == set(DirectoryRejection)
    assert {*PROBLEM_MESSAGES} == set(Problem)
    for message in [*(m for _, m in PASSWORD_PROBLEMS.values()), *DIRECTORY_REJECTIONS.values()]:
        assert GERMAN(message) != message
    for message in PROBLEM_MESSAGES.values():
        assert GERMAN(message) != message


def test_a_refusal_names_its_rule_and_says_why_with_german_dates_and_numbers() -> None:
    found = next(r for r in RAISES if r.rule == "leave_not_enough")
    exc = _build(found)
    assert exc.rule == "leave_not_enough"
    assert exc.where == "end"
    assert "Nur 7 von 7 Tagen" in domain_message(exc, GERMAN, "de")
    past = _build(next(r for r in RAISES if r.rule == "leave_too_far_in_past"))
    assert "31.03.2027" in domain_message(past, GERMAN, "de")


def test_every_single_sign_on_refusal_has_a_german_message() -> None:
    from ess.domain.auth.sso import REFUSALS  # noqa: PLC0415 - only this test reads the table

    for reason, message in REFUSALS.items():
        assert GERMAN(message) != message, f"{reason}: no German translation of {message!r}"
