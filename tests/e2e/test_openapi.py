"""Schemathesis over every JSON API operation as an employee, a manager, HR and the helpdesk, against a real
`ess serve` on SQLite: every answer must be documented (status, content type, body schema, headers), none a 5xx."""

from __future__ import annotations

import copy
import json
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from schemathesis.engine import Status, events, from_schema

from tests.e2e.conftest import DEMO_PASSWORD, running_ess

SEED = 20261201
# Fuzzing budget per operation and role; the coverage phase adds its boundary cases (empty, too long, NUL bytes,
# huge integers, wrong types, missing fields, unexpected methods ...) on top.
EXAMPLES_PER_OPERATION = 10
MIN_CASES = 2000
# The run stops at the first scenario (one operation's cases) that ends after this many seconds and then fails if
# fewer than MIN_CASES ran. About 50 s on an idle 2-core machine.
DEADLINE_SECONDS = 90.0
# The first role's run covers every operation, the anonymous ones and undeclared methods included; the others' runs
# what depends on the caller. Every token is issued before any run (the fuzzed logins soon throttle the client).
ROLES = (
    ("employee", "anna.schmidt"),
    ("manager", "markus.weber"),
    ("hr", "hanna.berger"),
    ("helpdesk", "ayse.yilmaz"),  # ivan.petrovic is the demo's locked account
)
# Revoking the token used for the run would turn every later answer into a 401: it runs once, last, alone, with the
# first role's token. changeMyPassword stays in: a fuzzed current password is never the right one (the test checks
# afterwards that each token still works, so a run cannot pass on 401s alone).
REVOKE = "revokeApiToken"


@dataclass
class Tally:
    """What a run did: cases as schemathesis counts them, failures per check, server errors, unique failures."""

    cases: int = 0
    by_phase: Counter[str] = field(default_factory=Counter)
    cases_with_failures: int = 0
    server_errors: int = 0
    failed_checks: Counter[str] = field(default_factory=Counter)
    failures: dict[tuple[str, str, str], str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    cut_short: bool = False

    def add(self, event: events.ScenarioFinished) -> None:
        recorder = event.recorder
        self.cases += len(recorder.cases)
        self.by_phase[event.phase.value] += len(recorder.cases)
        for case_id, node in recorder.cases.items():
            interaction = recorder.interactions.get(case_id)
            if interaction is not None and interaction.response is not None and interaction.response.status_code >= 500:
                self.server_errors += 1
            failed = [check for check in recorder.checks.get(case_id, []) if check.failure_info is not None]
            self.cases_with_failures += bool(failed)
            for check in failed:
                assert check.failure_info is not None
                failure = check.failure_info.failure
                self.failed_checks[check.name] += 1
                key = (node.value.operation.label, check.name, failure.title)
                self.failures.setdefault(key, f"{failure.message.strip()[:300]}\n    {check.failure_info.code_sample}")

    def report(self, title: str) -> str:
        lines = [
            f"{title}: {self.cases} cases, {self.cases_with_failures} with failures, "
            f"{self.server_errors} server errors",
            f"  cases by phase: {dict(sorted(self.by_phase.items()))}",
            f"  failed checks (cases): {dict(sorted(self.failed_checks.items()))}",
            f"  distinct failures (operation, check, title): {len(self.failures)}",
        ]
        lines += [
            f"  - {op} | {check} | {name}\n    {text}" for (op, check, name), text in sorted(self.failures.items())
        ]
        lines += [f"  error: {error}" for error in self.errors]
        if self.cut_short:
            lines.append(f"  the run was cut short after {DEADLINE_SECONDS:.0f} s: later operations and roles untested")
        return "\n".join(lines)


def run(schema: Any, tally: Tally, deadline: float) -> None:
    """Run schemathesis's engine (the same one `st run` uses) over `schema`, adding what it did to `tally`."""
    stream = from_schema(schema).execute()
    for event in stream:
        if isinstance(event, events.ScenarioFinished):
            tally.add(event)
            if event.status == Status.ERROR:
                tally.errors.append(f"{event.recorder.label}: the scenario ended in an error")
        elif isinstance(event, events.NonFatalError | events.FatalError):
            tally.errors.append(str(getattr(event, "info", None) or getattr(event, "exception", "")))
        if time.monotonic() > deadline and not tally.cut_short:
            tally.cut_short = True
            stream.stop()


def config(
    base_url: str, token: str, *, skip: Iterable[str] = (), unexpected_methods: bool = True
) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            # Nothing carried over from an earlier run: the same seed gives the same run.
            "cache": {"enabled": False},
            "base-url": base_url,
            "continue-on-failure": True,
            "auth": {"openapi": {"bearer": {"bearer": token}}},
            "generation": {"max-examples": EXAMPLES_PER_OPERATION, "database": "none"},
            "phases": {
                # Sequences need links between operations, which the document does not declare.
                "stateful": {"enabled": False},
                # Undeclared methods (405 with Allow) are answered by the router, the same for every caller.
                **({} if unexpected_methods else {"coverage": {"unexpected-methods": []}}),
            },
            "checks": {
                # A body the schema allows but a business rule refuses is a 422 (documented, with a code);
                # a 400 for data the schema allows would mean schema and parser disagree, and stays a failure.
                "positive_data_acceptance": {"expected-statuses": ["2xx", 401, 403, 404, 409, 422, 429, "5xx"]},
            },
            "operations": [{"include-operation-id": operation_id, "enabled": False} for operation_id in skip],
        }
    )


def document_of(base_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base_url}/schema/openapi.json", timeout=10) as response:  # noqa: S310
        return dict(json.loads(response.read()))


def anonymous_operations(document: dict[str, Any]) -> list[str]:
    return [
        operation["operationId"]
        for path_item in document["paths"].values()
        for operation in path_item.values()
        if operation.get("security") == []
    ]


def token_for(base_url: str, login: str) -> str:
    request = urllib.request.Request(  # noqa: S310 - our own server on loopback
        f"{base_url}/api/v1/auth/token",
        data=json.dumps({"username": login, "password": DEMO_PASSWORD}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own server on loopback
        return str(json.loads(response.read())["access_token"])


def status_of(base_url: str, path: str, token: str) -> int:
    request = urllib.request.Request(f"{base_url}{path}", headers={"authorization": f"Bearer {token}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own server on loopback
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(scope="module")
def fuzzed_server() -> Iterator[str]:
    """A server of its own: the run changes passwords' failure counters, leave, profiles and tokens."""
    with running_ess(prefix="ess-openapi-") as base_url:
        yield base_url


def test_every_operation_answers_as_documented_for_every_role(
    fuzzed_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base_url = fuzzed_server
    started = time.monotonic()
    deadline = started + DEADLINE_SECONDS
    # All tokens first: the fuzzed logins soon throttle this client's address (429), as they should.
    tokens = {login: token_for(base_url, login) for _, login in ROLES}
    anonymous = anonymous_operations(document_of(base_url))
    tally = Tally()
    for index, (_, login) in enumerate(ROLES):
        if tally.cut_short:
            break
        # The employee's run covers everything once; the other roles' runs what depends on the caller.
        first = index == 0
        settings = config(
            base_url, tokens[login], skip=[REVOKE] if first else [REVOKE, *anonymous], unexpected_methods=first
        )
        run(schemathesis.openapi.from_url(f"{base_url}/schema/openapi.json", config=settings), tally, deadline)
        # Guard against a vacuous pass: had the run ended the token, every later answer would be a (documented) 401.
        assert status_of(base_url, "/api/v1/me", tokens[login]) == 200, f"{login}'s token did not survive the run"
    employee = ROLES[0][1]
    only_revoke = schemathesis.openapi.from_url(
        f"{base_url}/schema/openapi.json", config=config(base_url, tokens[employee], unexpected_methods=False)
    )
    if not tally.cut_short:
        run(only_revoke.include(operation_id=REVOKE), tally, deadline)
    elapsed = time.monotonic() - started

    # The figures of the run, in every pytest run's output (not only when the test fails).
    with capsys.disabled():
        print(f"\n{tally.report('schemathesis')}\n  wall time: {elapsed:.1f} s")  # noqa: T201
    assert not tally.errors, tally.report("schemathesis could not test everything")
    assert tally.cases >= MIN_CASES, tally.report(f"fewer than {MIN_CASES} cases ran (deadline {DEADLINE_SECONDS} s?)")
    assert tally.cases_with_failures == 0, tally.report("the API does not answer as its OpenAPI document says")


def test_the_run_catches_an_undocumented_status(fuzzed_server: str) -> None:
    """The same harness against a document that leaves out the 401 of `getMe`: that must be found."""
    mutilated = copy.deepcopy(document_of(fuzzed_server))
    del mutilated["paths"]["/api/v1/me"]["get"]["responses"]["401"]
    schema = schemathesis.openapi.from_dict(mutilated, config=config(fuzzed_server, "ess_not-a-valid-token"))
    tally = Tally()
    run(schema.include(operation_id="getMe"), tally, time.monotonic() + 30)
    assert tally.failed_checks["status_code_conformance"] > 0, tally.report("the undocumented 401 went unnoticed")
