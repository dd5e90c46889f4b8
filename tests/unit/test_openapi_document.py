"""The OpenAPI document as ess/routes/openapi.py completes it (schemathesis checks the answers against it in e2e)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar, post
from litestar.params import JSONBody

from ess.app import create_app
from ess.routes.openapi import MEANINGS, complete_document
from ess.routes.problems import domain_errors
from tests.conftest import make_settings

ANONYMOUS = {
    "createApiToken",
    "exchangeOidcToken",
    "forgotPassword",
    "resetPassword",
    "unlockAccount",
    "getPasswordPolicy",
    "healthLive",
    "healthReady",
    # The help center: a locked-out person needs help most; a token adds personal answers to the search.
    "search",
    "listHelpArticles",
    "getHelpArticle",
    "giveHelpFeedback",
}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    database = Path(tmp_path_factory.mktemp("openapi")) / "ess.db"
    return create_app(make_settings(f"sqlite+aiosqlite:///{database}")).openapi_schema.to_schema()


def operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for item in document["paths"].values() for op in item.values()}


def problem_codes(operation: dict[str, Any], status: str) -> set[str]:
    schema = operation["responses"][status]["content"]["application/problem+json"]["schema"]
    assert schema["allOf"][0] == {"$ref": "#/components/schemas/Problem"}
    return set(schema["allOf"][1]["properties"]["code"]["enum"])


def test_only_the_anonymous_operations_say_they_need_no_token(document: dict[str, Any]) -> None:
    assert document["security"] == [{"bearer": []}]
    assert {name for name, op in operations(document).items() if op.get("security") == []} == ANONYMOUS
    assert all("security" not in op for name, op in operations(document).items() if name not in ANONYMOUS)


def test_statuses_follow_from_guards_paths_bodies_and_declarations(document: dict[str, Any]) -> None:
    ops = operations(document)
    decide = ops["approveLeaveRequest"]  # manager or HR guard, an id in the path, a body, declared codes
    assert set(decide["responses"]) == {"200", "400", "401", "403", "404", "409", "422"}
    assert problem_codes(decide, "401") == {"authentication_required"}
    assert "WWW-Authenticate" in decide["responses"]["401"]["headers"]
    assert problem_codes(decide, "403") == {"permission_denied"}
    assert problem_codes(decide, "409") == {"conflict"}
    assert problem_codes(decide, "422") == {"policy_violation", "invalid_input"}  # invalid_input: control characters
    (request_id,) = decide["parameters"]
    assert (request_id["schema"]["minimum"], request_id["schema"]["maximum"]) == (1, 2**31 - 1)
    exchange = ops["exchangeOidcToken"]
    assert problem_codes(exchange, "401") >= {"sso_refused", "second_factor_required"}
    token = ops["createApiToken"]
    assert set(token["responses"]) == {"200", "400", "401", "403", "422", "429", "503"}
    assert problem_codes(token, "422") == {"invalid_input"}
    assert problem_codes(token, "401") == {
        "authentication_failed",
        "sso_required",
        "password_change_required",
        "second_factor_required",
        "second_factor_failed",
    }
    assert problem_codes(token, "403") == {"second_factor_enrolment_required"}
    assert token["responses"]["429"]["headers"]["Retry-After"]["required"] is True
    assert set(ops["getMe"]["responses"]) == {"200", "401"}
    assert set(ops["healthLive"]["responses"]) == {"200"}
    assert ops["healthReady"]["responses"]["503"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HealthOut"
    }


def test_request_bodies_are_closed_as_their_structs_are(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name in ("TokenIn", "LeaveRequestIn", "ProfileChangeIn", "ContactIn", "AdjustmentIn", "ResetIn"):
        assert schemas[name]["additionalProperties"] is False, name
    assert "additionalProperties" not in schemas["LeaveRequestOut"]


def test_every_problem_code_is_explained(document: dict[str, Any]) -> None:
    codes = {
        code
        for op in operations(document).values()
        for status, response in op["responses"].items()
        if "application/problem+json" in response.get("content", {})
        for code in problem_codes(op, status)
    }
    assert codes <= set(MEANINGS)
    assert {"password_rejected", "throttled", "not_found"} <= codes


def test_an_unknown_problem_code_stops_the_app_from_being_built() -> None:
    @post("/typo", operation_id="typo", problems=["not_fuond"], sync_to_thread=False)
    def handler(data: JSONBody[dict[str, str]]) -> None:
        return None

    with pytest.raises(ValueError, match="not_fuond"):
        complete_document(Litestar([handler]))


def test_every_domain_error_code_has_one_status() -> None:
    assert {"not_found", "conflict", "password_rejected", "recovery_link_invalid"} <= set(domain_errors())
