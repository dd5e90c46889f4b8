"""Directory outbox: HR field changes waiting to be written to the directory.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 12:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "directory_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("expected", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("conflicts", sa.JSON(), nullable=False),
        sa.Column("forced_by", sa.String(length=200), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'applied', 'conflict', 'failed')", name=op.f("ck_directory_outbox_known_status")
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_directory_outbox_employee_id_employees"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_outbox")),
    )
    with op.batch_alter_table("directory_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_directory_outbox_employee_id"), ["employee_id"], unique=False)
        batch_op.create_index("ix_directory_outbox_login_id", ["login", "id"], unique=False)
        batch_op.create_index("ix_directory_outbox_status_next_attempt_at", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("directory_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_directory_outbox_status_next_attempt_at")
        batch_op.drop_index("ix_directory_outbox_login_id")
        batch_op.drop_index(batch_op.f("ix_directory_outbox_employee_id"))

    op.drop_table("directory_outbox")
