"""Leave ledger: buckets, append-only ledger entries, requests and their days (one active booking per day).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 11:12:13.621242
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leave_buckets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("leave_year", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_leave_buckets_employee_id_employees"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leave_buckets")),
    )
    with op.batch_alter_table("leave_buckets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_leave_buckets_employee_id"), ["employee_id"], unique=False)

    op.create_table(
        "leave_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("start_half", sa.Boolean(), nullable=False),
        sa.Column("end_half", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("substitute", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=256), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_leave_requests_employee_id_employees"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leave_requests")),
    )
    with op.batch_alter_table("leave_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_leave_requests_employee_id"), ["employee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_leave_requests_status"), ["status"], unique=False)

    op.create_table(
        "leave_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bucket_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=7, scale=2), nullable=False),
        sa.Column("entry_type", sa.String(length=16), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bucket_id"],
            ["leave_buckets.id"],
            name=op.f("fk_leave_ledger_bucket_id_leave_buckets"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_leave_ledger_employee_id_employees"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["leave_requests.id"],
            name=op.f("fk_leave_ledger_request_id_leave_requests"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leave_ledger")),
    )
    with op.batch_alter_table("leave_ledger", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_leave_ledger_bucket_id"), ["bucket_id"], unique=False)
        batch_op.create_index(
            "ix_leave_ledger_employee_id_effective_date", ["employee_id", "effective_date"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_leave_ledger_request_id"), ["request_id"], unique=False)

    op.create_table(
        "leave_request_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("fraction", sa.Numeric(precision=3, scale=1), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_leave_request_days_employee_id_employees"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["leave_requests.id"],
            name=op.f("fk_leave_request_days_request_id_leave_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leave_request_days")),
    )
    with op.batch_alter_table("leave_request_days", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_leave_request_days_request_id"), ["request_id"], unique=False)
        batch_op.create_index(
            "uq_leave_request_days_active_day",
            ["employee_id", "day"],
            unique=True,
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )

    _protect_ledger()


# Like the audit log, the ledger is append-only in the database itself: cancelling books a reversal.
def _protect_ledger() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION leave_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'leave_ledger is append-only';
            END;
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER leave_ledger_append_only BEFORE UPDATE OR DELETE ON leave_ledger "
            "FOR EACH ROW EXECUTE FUNCTION leave_ledger_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER leave_ledger_no_{event.lower()} BEFORE {event} ON leave_ledger "
                "BEGIN SELECT RAISE(ABORT, 'leave_ledger is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS leave_ledger_append_only ON leave_ledger")
        op.execute("DROP FUNCTION IF EXISTS leave_ledger_append_only()")
    with op.batch_alter_table("leave_request_days", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_leave_request_days_active_day", sqlite_where=sa.text("active"), postgresql_where=sa.text("active")
        )
        batch_op.drop_index(batch_op.f("ix_leave_request_days_request_id"))

    op.drop_table("leave_request_days")
    with op.batch_alter_table("leave_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leave_ledger_request_id"))
        batch_op.drop_index("ix_leave_ledger_employee_id_effective_date")
        batch_op.drop_index(batch_op.f("ix_leave_ledger_bucket_id"))

    op.drop_table("leave_ledger")
    with op.batch_alter_table("leave_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leave_requests_status"))
        batch_op.drop_index(batch_op.f("ix_leave_requests_employee_id"))

    op.drop_table("leave_requests")
    with op.batch_alter_table("leave_buckets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leave_buckets_employee_id"))

    op.drop_table("leave_buckets")
