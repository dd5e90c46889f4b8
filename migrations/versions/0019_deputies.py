"""Deputies who decide a manager's leave requests for a period, and the reminders sent for waiting requests.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 07:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leave_deputies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(
            ["manager_id"], ["employees.id"], name=op.f("fk_leave_deputies_manager_id_employees"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["deputy_id"], ["employees.id"], name=op.f("fk_leave_deputies_deputy_id_employees"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leave_deputies")),
    )
    op.create_index(op.f("ix_leave_deputies_manager_id"), "leave_deputies", ["manager_id"], unique=False)
    op.create_index(op.f("ix_leave_deputies_deputy_id"), "leave_deputies", ["deputy_id"], unique=False)
    op.create_table(
        "leave_request_reminders",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["leave_requests.id"],
            name=op.f("fk_leave_request_reminders_request_id_leave_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", "stage", name=op.f("pk_leave_request_reminders")),
    )


def downgrade() -> None:
    op.drop_table("leave_request_reminders")
    op.drop_index(op.f("ix_leave_deputies_deputy_id"), table_name="leave_deputies")
    op.drop_index(op.f("ix_leave_deputies_manager_id"), table_name="leave_deputies")
    op.drop_table("leave_deputies")
