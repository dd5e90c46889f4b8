"""The password policy (NIST SP 800-63B: length over composition rules, no truncation, any Unicode)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class PasswordProblem(StrEnum):
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    CONTAINS_CONTEXT = "contains_context"
    SAME_AS_CURRENT = "same_as_current"
    MISMATCH = "mismatch"


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    min_length: int = 12
    # NIST asks to allow at least 64; we allow far more and never truncate.
    max_length: int = 1024
    # Parts of names shorter than this are too common to forbid ("li", "an").
    min_context_word: int = 4

    def problems(self, password: str, *, context: Iterable[str] = ()) -> list[PasswordProblem]:
        """Every rule the password breaks, in a stable order. Length counts characters, not bytes."""
        found: list[PasswordProblem] = []
        if len(password) < self.min_length:
            found.append(PasswordProblem.TOO_SHORT)
        if len(password) > self.max_length:
            found.append(PasswordProblem.TOO_LONG)
        lowered = password.casefold()
        if any(word.casefold() in lowered for word in _context_words(context, self.min_context_word)):
            found.append(PasswordProblem.CONTAINS_CONTEXT)
        return found


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
