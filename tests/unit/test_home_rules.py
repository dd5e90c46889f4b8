"""The start page's counts in the menu: what waits for each of the caller's roles."""

from __future__ import annotations

from datetime import UTC, datetime

from ess.domain.home.model import MenuCounts, StartPage
from ess.domain.recovery.helpdesk import LoginTrouble


def test_an_empty_start_page_counts_nothing() -> None:
    assert StartPage().counts == MenuCounts()
    assert StartPage().counts.total == 0


def test_only_locked_accounts_count_for_the_helpdesk() -> None:
    when = datetime(2026, 12, 2, 9, tzinfo=UTC)
    shown = StartPage(trouble=[LoginTrouble("a", 3, when, locked=True), LoginTrouble("b", 1, when, locked=False)])
    assert shown.counts == MenuCounts(locked=1)
    assert shown.counts.total == 1
