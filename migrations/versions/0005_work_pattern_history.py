"""Work pattern history: each employee's weekly pattern with the date it applies from.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 11:35:17.295010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "work_patterns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("pattern", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_work_patterns_employee_id_employees"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_patterns")),
        sa.UniqueConstraint("employee_id", "valid_from", name="uq_work_patterns_employee_valid_from"),
    )
    with op.batch_alter_table("work_patterns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_patterns_employee_id"), ["employee_id"], unique=False)

    # Everybody's current pattern becomes their first period, from the day they were hired.
    op.execute(
        "INSERT INTO work_patterns (employee_id, valid_from, pattern) SELECT id, hire_date, work_pattern FROM employees"
    )


def downgrade() -> None:
    with op.batch_alter_table("work_patterns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_patterns_employee_id"))

    op.drop_table("work_patterns")
