"""Rules of help requests: which context may be sent, that no password or code is ever stored, who works which queue,
and the configuration of topics and handovers."""

from __future__ import annotations

import pytest

from ess.domain.auth.model import Principal
from ess.domain.help_requests.model import HelpRequestError, Team, check_text, clean_context, teams_of
from ess.domain.hr.model import Role
from ess.settings import DEFAULT_CONFIG, SettingsError, load_settings


def test_only_known_context_keys_with_plausible_values_are_kept() -> None:
    raw = {
        "page": "/vacation",
        "error_code": "policy_violation",
        "request_id": "0123abcd",
        "search_terms": "Dienst  fahrrad",
        "password": "geheim",
        "step": "",
    }
    assert clean_context(raw) == {
        "page": "/vacation",
        "error_code": "policy_violation",
        "request_id": "0123abcd",
        "search_terms": "Dienst fahrrad",
    }


@pytest.mark.parametrize(
    ("key", "value"),
    [("page", "https://evil.example/"), ("error_code", "<script>"), ("request_id", "a b"), ("step", "x" * 81)],
)
def test_a_context_value_that_cannot_be_sent_is_refused_by_name(key: str, value: str) -> None:
    with pytest.raises(HelpRequestError) as refused:
        clean_context({key: value})
    assert refused.value.fields == {f"context.{key}": "invalid"}


@pytest.mark.parametrize(
    "message",
    [
        "Mein Passwort: Sommer2026!",
        "mein kennwort ist = geheim",
        "PIN: 1234",
        "The password is: hunter2",
        "Wiederherstellungscode: ABCD-EFGH",
    ],
)
def test_a_password_or_code_in_the_text_is_refused(message: str) -> None:
    with pytest.raises(HelpRequestError) as refused:
        check_text("Anmeldung", message)
    assert refused.value.fields == {"message": "contains a password"}


@pytest.mark.parametrize(
    "message", ["Ich habe mein Passwort vergessen.", "Das Passwort-Formular zeigt einen Fehler", "PIN vergessen"]
)
def test_talking_about_a_password_is_fine(message: str) -> None:
    assert check_text("Anmeldung", message) == ("Anmeldung", message)


def test_subject_and_message_are_required_and_bounded() -> None:
    with pytest.raises(HelpRequestError) as refused:
        check_text("  ", "x" * 5001)
    assert refused.value.fields == {"subject": "required", "message": "too long"}


@pytest.mark.parametrize(
    ("roles", "teams"),
    [
        ({Role.EMPLOYEE}, set()),
        ({Role.EMPLOYEE, Role.MANAGER}, set()),
        ({Role.EMPLOYEE, Role.ADMIN}, set()),
        ({Role.EMPLOYEE, Role.HR, Role.MANAGER}, {Team.HR}),
        ({Role.EMPLOYEE, Role.HELPDESK}, {Team.IT}),
        ({Role.HR, Role.HELPDESK}, {Team.HR, Team.IT}),
    ],
)
def test_hr_works_hr_topics_and_the_helpdesk_it_topics_managers_none(roles: set[Role], teams: set[Team]) -> None:
    assert teams_of(Principal("x", "X", frozenset(roles))) == teams


def test_topics_and_handovers_are_checked_at_start() -> None:
    base = {"ESS_MODE": "demo"}
    load_settings(
        DEFAULT_CONFIG,
        environ={
            **base,
            "ESS_HELP_REQUESTS__HANDOVER__TICKETS__KIND": "mail",
            "ESS_HELP_REQUESTS__HANDOVER__TICKETS__ADDRESS": "tickets@example.test",
        },
    )
    with pytest.raises(SettingsError, match="webhook needs a URL and a secret"):
        load_settings(
            DEFAULT_CONFIG,
            environ={
                **base,
                "ESS_HELP_REQUESTS__HANDOVER__HOOK__KIND": "webhook",
                "ESS_HELP_REQUESTS__HANDOVER__HOOK__URL": "https://tickets.example.test/hook",
                "ESS_HELP_REQUESTS__HANDOVER__HOOK__SECRET": "short",
            },
        )
    with pytest.raises(SettingsError, match="remind_after_hours"):
        load_settings(DEFAULT_CONFIG, environ={**base, "ESS_HELP_REQUESTS__REMIND_AFTER_HOURS": "0"})
