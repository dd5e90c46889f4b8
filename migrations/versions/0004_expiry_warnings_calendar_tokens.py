"""Evidence of expiry warnings, and private calendar feed tokens.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 11:15:32.028362
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_calendar_tokens_employee_id_employees"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_tokens_token_hash")),
    )
    with op.batch_alter_table("calendar_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_tokens_employee_id"), ["employee_id"], unique=False)

    op.create_table(
        "expiry_warnings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("leave_year", sa.Integer(), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("days_stated", sa.Numeric(precision=7, scale=2), nullable=False),
        sa.Column("deadline_stated", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_expiry_warnings_employee_id_employees"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expiry_warnings")),
    )
    with op.batch_alter_table("expiry_warnings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_expiry_warnings_employee_id"), ["employee_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("expiry_warnings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_expiry_warnings_employee_id"))

    op.drop_table("expiry_warnings")
    with op.batch_alter_table("calendar_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_tokens_employee_id"))

    op.drop_table("calendar_tokens")
