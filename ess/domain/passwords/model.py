"""The password policy (NIST SP 800-63B: length over composition rules, no truncation, any Unicode)."""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol

from ess.domain.directory.model import normalise_password

# Digits, punctuation and spaces people put around a common word to pass old composition rules ("Sommer2024!").
_DECORATION: Final = string.digits + string.punctuation + " "
# Keyboard rows and sequences: a password that is a piece of one of these is no secret.
_SEQUENCES: Final = (
    "01234567890123456789",
    "98765432109876543210",
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
    "zyxwvutsrqponmlkjihgfedcbazyxwvutsrqponmlkjihgfedcba",
    "qwertzuiopüasdfghjklöäyxcvbnm",
    "qwertyuiopasdfghjklzxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
    "1qay2wsx3edc4rfv5tgb6zhn7ujm8ik9ol0p",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
)
# Fewer distinct characters than this is a repetition ("aaaaaaaaaaaa", "abababababab").
_MIN_DISTINCT: Final = 5


class PasswordProblem(StrEnum):
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    CONTAINS_CONTEXT = "contains_context"
    SAME_AS_CURRENT = "same_as_current"
    MISMATCH = "mismatch"
    BLOCKLISTED = "blocklisted"  # a common password or word, alone or with digits and symbols around it
    REPETITIVE = "repetitive"  # repeated or sequential characters ("aaaa...", "1234...", "qwertz...")
    BREACHED = "breached"  # found in a breach corpus (Have I Been Pwned)


class Blocklist(Protocol):
    """Common passwords and words, compared after NFC and case folding."""

    def __contains__(self, candidate: object) -> bool: ...


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    min_length: int = 12
    # NIST asks to allow at least 64; we allow far more and never truncate.
    max_length: int = 1024
    # Parts of names shorter than this are too common to forbid ("li", "an").
    min_context_word: int = 4
    # The offline list of common passwords and words (None: no list, e.g. in unit tests of other rules).
    blocklist: Blocklist | None = None
    # Words of the organisation every password must avoid (company name, product names), besides the user's own.
    organisation_words: tuple[str, ...] = ()

    def problems(self, password: str, *, context: Iterable[str] = ()) -> list[PasswordProblem]:
        """Every rule the password breaks, in a stable order. Length counts characters (after NFC), not bytes."""
        password = normalise_password(password)
        found: list[PasswordProblem] = []
        if len(password) < self.min_length:
            found.append(PasswordProblem.TOO_SHORT)
        if len(password) > self.max_length:
            found.append(PasswordProblem.TOO_LONG)
        lowered = password.casefold()
        words = _context_words([*context, *self.organisation_words], self.min_context_word)
        if any(word.casefold() in lowered for word in words):
            found.append(PasswordProblem.CONTAINS_CONTEXT)
        if self.blocklist is not None and password and self.is_blocklisted(password):
            found.append(PasswordProblem.BLOCKLISTED)
        if password and _is_repetitive(lowered):
            found.append(PasswordProblem.REPETITIVE)
        return found

    def is_blocklisted(self, password: str) -> bool:
        """On the list as a whole, or a listed word with only digits, symbols and spaces around it."""
        if self.blocklist is None:
            return False
        lowered = normalise_password(password).casefold()
        core = lowered.strip(_DECORATION)
        return lowered in self.blocklist or (bool(core) and core in self.blocklist)


def _is_repetitive(lowered: str) -> bool:
    if len(set(lowered)) < _MIN_DISTINCT:
        return True
    return len(lowered) >= 4 and any(lowered in sequence for sequence in _SEQUENCES)


def _context_words(values: Iterable[str], min_length: int) -> set[str]:
    """Login, names and e-mail split into their parts: "anna.schmidt@example.org" -> anna, schmidt, example."""
    words: set[str] = set()
    for value in values:
        for part in value.replace("@", " ").replace(".", " ").replace("-", " ").replace("_", " ").split():
            if len(part) >= min_length:
                words.add(part)
        if len(value) >= min_length:
            words.add(value)
    return words


class PasswordPage(StrEnum):
    """The pages password notices link to (the edge turns them into URLs)."""

    CHANGE = "password.change"
