"""Password-expiry reminders that were sent, so each offset goes out once per password.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 12:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "password_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=256), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offset_days", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reminders")),
        sa.UniqueConstraint("login", "expires_at", "offset_days", name="uq_password_reminders_login_expires_offset"),
    )
    with op.batch_alter_table("password_reminders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_password_reminders_login"), ["login"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("password_reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_reminders_login"))
    op.drop_table("password_reminders")
