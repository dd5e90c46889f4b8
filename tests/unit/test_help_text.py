"""The help search's matching rules, without a database: folding, stemming, synonyms, compounds, typos, intents."""

from __future__ import annotations

import pytest

from ess.domain.help.intents import ACTION_PATTERNS, ANSWER_PATTERNS, best_match
from ess.domain.help.model import ActionKind, AnswerTopic
from ess.domain.help.search import understand
from ess.domain.help.text import Vocabulary, canonical, distance, fold, split_compound, terms


@pytest.mark.parametrize(
    ("typed", "folded"),
    [("Übertrag", "uebertrag"), ("Straße", "strasse"), ("Zürich", "zuerich"), ("Café", "cafe"), ("ÄÖÜ", "aeoeue")],
)
def test_umlauts_and_accents_fold(typed: str, folded: str) -> None:
    assert fold(typed) == folded


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Ferien", "Urlaub"),
        ("Kennwort", "Passwort"),
        ("password", "Passwort"),
        ("Anschrift", "Adresse"),
        ("Natel", "Telefon"),
        ("Vorgesetzter", "Chef"),
        ("holidays", "Urlaub"),
        ("Urlaubstage", "Urlaubstag"),
        ("beantragen", "Antrag"),
    ],
)
def test_synonyms_and_inflections_meet(one: str, other: str) -> None:
    assert terms(one)[0] == terms(other)[0]


@pytest.mark.parametrize(
    ("word", "parts"),
    [
        ("urlaubsanspruch", ["urlaub", "anspruch"]),
        ("urlaubstage", ["urlaub", "tag"]),
        ("passwortaenderung", ["passwort", "aenderung"]),
        ("resturlaub", ["rest", "urlaub"]),
        ("bankverbindung", ["bank", "verbindung"]),
        ("haus", []),
    ],
)
def test_german_compounds_split_into_known_parts(word: str, parts: list[str]) -> None:
    assert [canonical(p) for p in split_compound(word)] == [canonical(p) for p in parts]


def test_typos_are_corrected_to_the_nearest_known_word_within_limits() -> None:
    vocabulary = Vocabulary.of(["passwort", "password", "vergessen", "urlaub", "bankverbindung", "tag"])
    assert vocabulary.correct("pasword") == "password"
    assert vocabulary.correct("paswort") == "passwort"
    assert vocabulary.correct("vergesen") == "vergessen"
    assert vocabulary.correct("urluab") == "urlaub"  # swapped letters count once
    assert vocabulary.correct("banverbindugn") == "bankverbindung"  # two mistakes in a long word
    assert vocabulary.correct("tga") == "tga"  # short words must be exact
    assert vocabulary.correct("zebra") == "zebra"
    assert distance("urlaub", "urluab") == 1


def test_a_query_is_understood_whole_and_in_parts() -> None:
    understood = understand("Wie viele Ferientage habe ich noch?", Vocabulary.of(["urlaub", "tag"]))
    assert {"urlaub", "tag", "noch"} <= set(understood.everything)
    assert "noch" not in understood.content
    match = best_match(ANSWER_PATTERNS[AnswerTopic.BALANCE], frozenset(understood.everything), understood.words)
    assert match is not None and match.covers_query


def test_a_pattern_must_match_whole() -> None:
    forgot = ACTION_PATTERNS[ActionKind.FORGOT_PASSWORD]
    assert best_match(forgot, frozenset(terms("Passwort vergessen")), {}) is not None
    assert best_match(forgot, frozenset(terms("Passwort")), {}) is None
