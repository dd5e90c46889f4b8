"""Leave years closed per employee, so that a year with nothing to carry counts as closed too.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 01:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leave_year_closures",
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("leave_year", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_leave_year_closures_employee_id_employees"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("employee_id", "leave_year", name=op.f("pk_leave_year_closures")),
    )
    # Until now a year counted as closed once close-year had carried something out of it.
    op.execute(
        "INSERT INTO leave_year_closures (employee_id, leave_year, closed_at, closed_by) "
        "SELECT b.employee_id, b.leave_year, MIN(l.created_at), 'close-year' "
        "FROM leave_ledger l JOIN leave_buckets b ON b.id = l.bucket_id "
        "WHERE l.entry_type = 'carry_out' GROUP BY b.employee_id, b.leave_year"
    )


def downgrade() -> None:
    op.drop_table("leave_year_closures")
