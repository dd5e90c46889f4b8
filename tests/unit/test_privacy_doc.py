"""docs/privacy.md is kept in step with the configuration, and the audit rules hold without a database."""

from __future__ import annotations

import os
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import msgspec
import pytest

from ess.adapters.mail import MailFolderArea
from ess.domain.audit import GENESIS, AuditEvent, Outcome, chain_hash
from ess.domain.errors import PermissionDenied
from ess.domain.hr.model import Role
from ess.domain.privacy.model import HR_EVENTS, SECURITY_EVENTS, RetentionPolicy, audit_scope
from ess.settings import RetentionSettings

ROOT = Path(__file__).resolve().parents[2]
KEYS = [field.name for field in msgspec.structs.fields(RetentionSettings)]


@pytest.mark.parametrize("key", KEYS)
def test_every_retention_key_is_documented_and_in_the_demo_configuration(key: str) -> None:
    doc = (ROOT / "docs" / "privacy.md").read_text(encoding="utf-8")
    assert f"`{key}`" in doc
    configured = tomllib.loads((ROOT / "config" / "ess.toml").read_text(encoding="utf-8"))["retention"]
    assert configured[key] == getattr(RetentionSettings(), key)  # the demo file shows the documented default


def test_retention_periods_and_cutoffs() -> None:
    policy = RetentionPolicy.from_settings({"audit_events_days": 10, "leavers_years": 2, "mail_days": 0})
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert policy.cutoffs(now) == {"audit_events_days": datetime(2026, 11, 21, tzinfo=UTC),
                                   "leavers_years": datetime(2024, 12, 1, tzinfo=UTC)}  # fmt: skip


def test_audit_scopes_by_role() -> None:
    assert audit_scope(frozenset({Role.AUDITOR, Role.EMPLOYEE})) is None
    assert audit_scope(frozenset({Role.HR})) == tuple(sorted(HR_EVENTS))
    assert audit_scope(frozenset({Role.HELPDESK})) == tuple(sorted(SECURITY_EVENTS))
    assert audit_scope(frozenset({Role.HR, Role.ADMIN})) == tuple(sorted({*HR_EVENTS, *SECURITY_EVENTS}))
    with pytest.raises(PermissionDenied):
        audit_scope(frozenset({Role.EMPLOYEE, Role.MANAGER}))


def test_the_hash_covers_every_field_and_the_previous_hash() -> None:
    event = AuditEvent(
        datetime(2026, 1, 1, tzinfo=UTC), "anna", "auth.login", Outcome.SUCCESS, "x", "1.2.3.4", {"a": 1}
    )
    digest = chain_hash(GENESIS, event)
    assert len(digest) == 64 and chain_hash(GENESIS, event) == digest
    changed = [
        AuditEvent(event.occurred_at, "bob", event.action, event.outcome, event.target, event.client_address, {"a": 1}),
        AuditEvent(event.occurred_at, "anna", event.action, Outcome.FAILURE, "x", "1.2.3.4", {"a": 1}),
        AuditEvent(event.occurred_at, "anna", event.action, event.outcome, "x", "1.2.3.4", {"a": 2}),
    ]
    assert all(chain_hash(GENESIS, other) != digest for other in changed)
    assert chain_hash("1" * 64, event) != digest


async def test_the_mail_folder_keeps_recent_files_and_a_dry_run_keeps_all(tmp_path: Path) -> None:
    old, new = tmp_path / "old.eml", tmp_path / "new.eml"
    for path in (old, new, tmp_path / "notes.txt"):
        path.write_text("x", encoding="utf-8")
    cutoff = datetime(2026, 11, 1, tzinfo=UTC)
    os.utime(old, (cutoff.timestamp() - 60, cutoff.timestamp() - 60))
    os.utime(tmp_path / "notes.txt", (0, 0))  # not a mail: never touched
    area = MailFolderArea(tmp_path)
    assert await area.expire(cast(Any, None), {"mail_days": cutoff}, dry_run=True) == {"mail_files": 1}
    assert old.exists()
    assert await area.expire(cast(Any, None), {"mail_days": cutoff}, dry_run=False) == {"mail_files": 1}
    assert not old.exists() and new.exists() and (tmp_path / "notes.txt").exists()
