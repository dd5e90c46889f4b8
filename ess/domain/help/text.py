"""Deterministic text matching for the help search, German and English: umlaut folding, a light stemmer, synonyms,
compound splitting and typo tolerance. Articles and queries go through the same functions, so both sides agree."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

_FOLD: Final = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_WORD: Final = re.compile(r"[a-z0-9]+")


def _word_list(text: str) -> list[str]:
    """Words written as text, one space apart (a list literal of 150 strings reads worse)."""
    return text.split()


# Words that carry no topic; kept apart so that intents ("wie viele Tage habe ich noch") can still use them.
STOPWORDS: Final = frozenset(
    _word_list(
        """
    a about an and are as at be by can do does for from have how i if in is it me my of on or the this
    to what when where which who why will with you your aber als am an auch auf aus bei bin bis da das
    dass dem den der des die du ein eine einem einen einer eines er es fuer gibt habe haben hat ich ihr
    im in ist ja kann man mein meine meinem meinen meiner mich mir mit nach nicht noch nur ob oder sie
    sind so und uns von vom was wann warum wenn wer werden wie wird wo zu zum zur
    """
    )
)

# Suffixes a light stemmer strips (longest first), German and English alike; a stem keeps at least 4 letters.
_SUFFIXES: Final = ("ungen", "ung", "ern", "ing", "en", "er", "es", "ed", "em", "e", "s", "n")
_MIN_STEM: Final = 4


def fold(text: str) -> str:
    """Lower case, umlauts as ae/oe/ue, ß as ss, other accents dropped ("Zürich" -> "zuerich", "é" -> "e")."""
    text = unicodedata.normalize("NFC", text.lower()).translate(_FOLD)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The folded words of a text, in order."""
    return _WORD.findall(fold(text))


def stem(word: str) -> str:
    """A light stemmer: "urlaubstage" -> "urlaubstag", "passwords" -> "password", "beantragen" -> "beantrag"."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            return word[: -len(suffix)]
    return word


def _groups(*groups: str) -> dict[str, str]:
    """Synonym groups, written as folded words; every word maps to the group's first (stemmed) word."""
    mapping: dict[str, str] = {}
    for group in groups:
        members = group.split()
        canonical = stem(members[0])
        for member in members:
            mapping[stem(member)] = canonical
    return mapping


# Swiss and Austrian words, English and German, colloquial and formal: each group is one concept.
SYNONYMS: Final = _groups(
    "urlaub ferien leave vacation holiday holidays urlaubs abwesenheit",
    "passwort kennwort password passwoerter pw",
    "resturlaub restferien",
    "tag tage day days",
    "anspruch entitlement urlaubsanspruch",
    "beantrag antrag beantragen request apply einreichen eingeben eintragen",
    "adresse anschrift address wohnadresse wohnort umzug umziehen moved move",
    "konto account benutzerkonto",
    "bank bankverbindung iban lohnkonto gehaltskonto salary",
    "gesperrt locked sperre gesperrt lockout entsperren unlock",
    "vergessen forgotten forgot",
    "verfall verfallen lapse lapses expire expires expiry verfaellt",
    "uebertrag carry uebertragung carryover mitnehmen",
    "vorgesetzt manager chef chefin fuehrungskraft vorgesetzte vorgesetzter boss",
    "faktor factor 2fa mfa totp authenticator",
    "halb half halbtag halbtags",
    "feiertag feiertage bank-holiday",
    "aendern change aenderung update edit korrigieren",
    "telefon phone handy mobil mobile natel",
    "name nachname surname heirat",
    "saldo balance kontostand",
    "stornieren cancel storno zurueckziehen withdraw",
    "genehmig approve approval bewilligt bewilligen freigabe",
    "verzeichnis directory ldap",
)

# Parts German compounds are split into when no better split is known ("Urlaubstage" = Urlaub + Tage).
COMPOUND_PARTS: Final = frozenset(
    stem(w)
    for w in _word_list(
        """
    urlaub ferien rest tag tage anspruch passwort kennwort konto bank adresse antrag aenderung aendern verbindung halb
    feier daten frist jahr wechsel zeit telefon nummer notfall kontakt ablauf sperre plan uebertrag kalender team
    person faktor zwei hilfe anmeldung name saldo natel lohn gehalt
    """
    )
)
_LINKS: Final = ("", "s", "es", "n", "en")  # Fugen: Urlaub-s-tage, Passwort-ä... -n-


def canonical(word: str) -> str:
    """A word's stem, mapped to its synonym group."""
    stemmed = stem(word)
    return SYNONYMS.get(stemmed, SYNONYMS.get(word, stemmed))


def split_compound(word: str, known: frozenset[str] = COMPOUND_PARTS) -> list[str]:
    """The parts of a German compound ("urlaubsanspruch" -> ["urlaub", "anspruch"]), or [] when it does not split.
    Each part is a known word (at least 3 letters), joined with an optional Fugen-s/-n."""
    for cut in range(len(word) - 3, 2, -1):
        head, tail = word[:cut], word[cut:]
        for link in _LINKS:
            if link and not head.endswith(link):
                continue
            base = head[: len(head) - len(link)] if link else head
            if len(base) < 3 or stem(base) not in known:
                continue
            if stem(tail) in known or tail in known:
                return [stem(base), stem(tail)]
            rest = split_compound(tail, known)
            if rest:
                return [stem(base), *rest]
    return []


def terms(text: str, *, keep_stopwords: bool = False) -> list[str]:
    """The search terms of a text: canonical stems, plus the canonical parts of each compound, without stopwords."""
    found: list[str] = []
    for word in words(text):
        if word in STOPWORDS and not keep_stopwords:
            continue
        found.append(canonical(word))
        found.extend(canonical(part) for part in split_compound(word) if canonical(part) != canonical(word))
    return found


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment): swapped letters count once."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[i - 2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def allowed_typos(word: str) -> int:
    """Short words must be exact; 5 to 7 letters allow one mistake, longer words two."""
    if len(word) < 5:
        return 0
    return 1 if len(word) < 8 else 2


@dataclass
class Vocabulary:
    """The words the index knows: typed words are corrected to the nearest of them (symmetric-delete lookup)."""

    known: frozenset[str]
    _by_delete: dict[str, set[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for word in self.known:
            variants = _deletes(word) | {word}
            if allowed_typos(word) > 1:  # symmetric deletes of both sides find every pair of mistakes
                variants |= {d for v in _deletes(word) for d in _deletes(v)}
            for variant in variants:
                self._by_delete.setdefault(variant, set()).add(word)

    @classmethod
    def of(cls, words_: Iterable[str]) -> Vocabulary:
        return cls(frozenset(w for w in words_ if w))

    def correct(self, word: str) -> str:
        """The known word itself, the nearest known word within the allowed typos, or the word unchanged."""
        if word in self.known or (limit := allowed_typos(word)) == 0:
            return word
        candidates: set[str] = set()
        variants = {word} | _deletes(word)
        if limit > 1:
            variants |= {d for v in _deletes(word) for d in _deletes(v)}
        for variant in variants:
            candidates |= self._by_delete.get(variant, set())
        scored = sorted((distance(word, c), -len(c), c) for c in candidates if abs(len(c) - len(word)) <= limit)
        best = [(d, c) for d, _, c in scored if d <= limit]
        return best[0][1] if best else word


def correct_terms(found: Sequence[str], vocabulary: Vocabulary) -> list[str]:
    """Each term corrected against the vocabulary; a corrected compound is split again."""
    corrected: list[str] = []
    for term in found:
        better = vocabulary.correct(term)
        corrected.append(canonical(better))
        if better != term:
            corrected.extend(canonical(p) for p in split_compound(better, COMPOUND_PARTS | vocabulary.known))
    return list(dict.fromkeys(corrected))
