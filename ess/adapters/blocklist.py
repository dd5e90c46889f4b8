"""The offline blocklist shipped with ESS: common passwords and words, loaded once, on first use."""

from __future__ import annotations

import gzip
import threading
from importlib.resources import files
from typing import Final

# 237,682 entries from the zxcvbn-ts word lists (MIT); source and licence in ess/adapters/data/NOTICE.md.
BLOCKLIST_RESOURCE: Final = "common-passwords.txt.gz"


class ShippedBlocklist:
    """Implements the domain's Blocklist on the bundled list. Entries are NFC-normalised and case-folded;
    callers compare case-folded candidates (PasswordPolicy does)."""

    def __init__(self, resource: str = BLOCKLIST_RESOURCE) -> None:
        self._resource = resource
        self._entries: frozenset[str] | None = None
        self._lock = threading.Lock()

    @property
    def entries(self) -> frozenset[str]:
        if self._entries is None:
            with self._lock:
                if self._entries is None:
                    raw = (files("ess.adapters") / "data" / self._resource).read_bytes()
                    self._entries = frozenset(gzip.decompress(raw).decode("utf-8").splitlines())
        return self._entries

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, candidate: object) -> bool:
        return isinstance(candidate, str) and candidate in self.entries
