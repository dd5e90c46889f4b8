"""Data protection: audit events chained by hash (existing rows back-filled in id order), retention permits that let
the retention job (and only it) delete old audit events, profile history and leavers' leave ledgers, and the last
run of every daily job.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 04:00:00.000000
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
_APPEND_ONLY = ("audit_events", "profile_history", "leave_ledger")


def _hash(previous: str, row: Any) -> str:
    """A frozen copy of ess.domain.audit.chain_hash as it was when this revision was written."""
    occurred = row.occurred_at
    if isinstance(occurred, str):
        occurred = datetime.fromisoformat(occurred)
    occurred = occurred.replace(tzinfo=UTC) if occurred.tzinfo is None else occurred.astimezone(UTC)
    details = row.details if isinstance(row.details, dict) else json.loads(row.details or "{}")
    payload = json.dumps(
        [
            previous,
            occurred.isoformat(timespec="microseconds"),
            row.actor,
            row.action,
            row.target,
            row.client_address,
            row.outcome,
            details,
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _drop_append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
    else:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event}")


def _create_append_only(table: str, *, permit: bool) -> None:
    """UPDATE is always refused; DELETE only while the deleting transaction holds a retention permit for the
    table (a row it inserts and removes again before committing, so no other transaction ever sees it)."""
    permitted = f"EXISTS (SELECT 1 FROM retention_permits WHERE table_name = '{table}')"  # noqa: S608 - fixed names
    allowed = permitted if permit else "FALSE"
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE' AND {allowed} THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION '{table} is append-only';
            END;
            $$
            """
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )
    else:
        op.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )
        condition = f"WHEN NOT {allowed} " if permit else ""
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} {condition}"
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )


def _backfill_chain() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, occurred_at, actor, action, target, client_address, outcome, details "
            "FROM audit_events ORDER BY id"
        )
    ).all()
    previous = GENESIS
    for row in rows:
        digest = _hash(previous, row)
        bind.execute(
            sa.text("UPDATE audit_events SET prev_hash = :prev, hash = :hash WHERE id = :id"),
            {"prev": previous, "hash": digest, "id": row.id},
        )
        previous = digest


def upgrade() -> None:
    op.create_table(
        "retention_permits",
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("table_name", name=op.f("pk_retention_permits")),
    )
    op.create_table(
        "job_runs",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("job", name=op.f("pk_job_runs")),
    )
    for table in _APPEND_ONLY:
        _drop_append_only(table)
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=False, server_default=GENESIS))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=False, server_default=""))
    _backfill_chain()
    for table in _APPEND_ONLY:
        _create_append_only(table, permit=True)


def downgrade() -> None:
    for table in _APPEND_ONLY:
        _drop_append_only(table)
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
    for table in _APPEND_ONLY:
        _create_append_only(table, permit=False)
    op.drop_table("job_runs")
    op.drop_table("retention_permits")
