"""What the console runs with: the areas it operates on, and the few outside things only the edge can build."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from ess.domain.hr_import.format import SourceRecord
from ess.domain.hr_import.ports import HrImportDeps
from ess.domain.mail.ports import MailDeps
from ess.domain.outbox.ports import OutboxDeps
from ess.domain.privacy.ports import PrivacyDeps


@dataclass(frozen=True, slots=True)
class DirectoryCheck:
    name: str
    ok: bool | None  # None: could not tell
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ConsoleDeps:
    outbox: OutboxDeps
    mail: MailDeps
    hr_import: HrImportDeps
    privacy: PrivacyDeps
    # The same checks as `ess directory check`.
    check_directory: Callable[[], Awaitable[list[DirectoryCheck]]]
    # An uploaded HR file (its bytes and name) as raw records; InvalidInput for an unreadable file.
    read_hr_upload: Callable[[bytes, str], list[SourceRecord]]
    # The effective settings as (key, value) lines, every secret left out.
    settings_lines: Sequence[tuple[str, str]] = ()
