"""The pure rules of the login second factor: signed step, device and challenge values; recovery codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ess.domain.hr.model import Role
from ess.domain.mfa import tickets
from ess.domain.mfa.model import (
    RECOVERY_ALPHABET,
    MfaPolicy,
    hash_code,
    looks_like_totp,
    new_recovery_codes,
    normalise_code,
    shown_code,
)

KEY = b"k" * 32
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
FIVE_MINUTES = timedelta(minutes=5)


def test_a_ticket_is_bound_to_its_key_purpose_login_and_lifetime() -> None:
    value = tickets.issue(tickets.PASSWORD_STEP, "anna.schmidt", key=KEY, now=NOW)
    found = tickets.read(tickets.PASSWORD_STEP, value, key=KEY, now=NOW + timedelta(minutes=4), lifetime=FIVE_MINUTES)
    assert found is not None
    assert found.login == "anna.schmidt"
    assert (
        tickets.read(tickets.PASSWORD_STEP, value, key=KEY, now=NOW + timedelta(minutes=6), lifetime=FIVE_MINUTES)
        is None
    )
    assert tickets.read(tickets.REMEMBERED, value, key=KEY, now=NOW, lifetime=FIVE_MINUTES) is None
    assert tickets.read(tickets.PASSWORD_STEP, value, key=b"x" * 32, now=NOW, lifetime=FIVE_MINUTES) is None
    assert tickets.read(tickets.PASSWORD_STEP, value, key=b"", now=NOW, lifetime=FIVE_MINUTES) is None
    _, issued, nonce, mac = value.split(".")
    other_login = tickets.issue(tickets.PASSWORD_STEP, "markus.weber", key=KEY, now=NOW).split(".")[0]
    moved = ".".join((other_login, issued, nonce, mac))
    assert tickets.read(tickets.PASSWORD_STEP, moved, key=KEY, now=NOW, lifetime=FIVE_MINUTES) is None
    later = ".".join((value.split(".")[0], str(int(issued) + 3600), nonce, mac))
    assert tickets.read(tickets.PASSWORD_STEP, later, key=KEY, now=NOW, lifetime=FIVE_MINUTES) is None
    for junk in ("", "a.b.c", "....", "x" * 3000, "bm8.notanumber.n.m"):
        assert tickets.read(tickets.PASSWORD_STEP, junk, key=KEY, now=NOW, lifetime=FIVE_MINUTES) is None


def test_a_passkey_challenge_travels_in_its_ticket() -> None:
    challenge = tickets.new_challenge()
    assert len(challenge) == 32
    value = tickets.challenge_ticket("anna.schmidt", challenge, key=KEY, now=NOW)
    found = tickets.read(tickets.CHALLENGE, value, key=KEY, now=NOW, lifetime=FIVE_MINUTES)
    assert found is not None
    assert tickets.challenge_of(found) == challenge
    assert tickets.user_handle("anna.schmidt", key=KEY) != tickets.user_handle("markus.weber", key=KEY)
    assert b"anna" not in tickets.user_handle("anna.schmidt", key=KEY)


def test_recovery_codes_are_random_unambiguous_and_typed_loosely() -> None:
    codes = new_recovery_codes()
    assert len(codes) == len(set(codes)) == 10
    assert all(len(c) == 10 and set(c) <= set(RECOVERY_ALPHABET) for c in codes)
    assert not set("01ilo") & set(RECOVERY_ALPHABET)
    code = codes[0]
    shown = shown_code(code)
    assert shown == f"{code[:5]}-{code[5:]}"
    assert normalise_code(f" {shown.upper()} ") == code
    assert hash_code("key", shown) == hash_code("key", code) != hash_code("other key", code)
    assert code not in hash_code("key", code)
    assert looks_like_totp("123 456") and not looks_like_totp(code) and not looks_like_totp("１２３４５６")


def test_roles_that_need_a_second_factor() -> None:
    policy = MfaPolicy(required_roles=frozenset({Role.HR, Role.ADMIN}))
    assert policy.required_for(frozenset({Role.EMPLOYEE, Role.HR}))
    assert not policy.required_for(frozenset({Role.EMPLOYEE, Role.MANAGER}))
    assert not MfaPolicy().required_for(frozenset(Role))
