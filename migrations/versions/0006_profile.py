"""Profile: bank accounts, emergency contacts, change requests and the (append-only) change history.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 12:26:20.587616
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bank_accounts",
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=False),
        sa.Column("bic", sa.String(length=11), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_bank_accounts_employee_id_employees"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("employee_id", name=op.f("pk_bank_accounts")),
    )
    op.create_table(
        "emergency_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("relation", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_emergency_contacts_employee_id_employees"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_contacts")),
        sa.UniqueConstraint("employee_id", "position", name="uq_emergency_contacts_employee_position"),
    )
    with op.batch_alter_table("emergency_contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_emergency_contacts_employee_id"), ["employee_id"], unique=False)

    op.create_table(
        "profile_change_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("old_value", sa.JSON(), nullable=False),
        sa.Column("new_value", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=256), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_profile_change_requests_employee_id_employees"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profile_change_requests")),
    )
    with op.batch_alter_table("profile_change_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_profile_change_requests_employee_id"), ["employee_id"], unique=False)
        batch_op.create_index("ix_profile_change_requests_status_created_at", ["status", "created_at"], unique=False)

    op.create_table(
        "profile_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("old_value", sa.JSON(), nullable=False),
        sa.Column("new_value", sa.JSON(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=256), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_profile_history_employee_id_employees")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["profile_change_requests.id"],
            name=op.f("fk_profile_history_request_id_profile_change_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profile_history")),
    )
    with op.batch_alter_table("profile_history", schema=None) as batch_op:
        batch_op.create_index("ix_profile_history_employee_id_changed_at", ["employee_id", "changed_at"], unique=False)

    _protect_history()


# Like the audit log, the history of personal data is append-only, enforced by the database.
def _protect_history() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION profile_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'profile_history is append-only';
            END;
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER profile_history_append_only BEFORE UPDATE OR DELETE ON profile_history "
            "FOR EACH ROW EXECUTE FUNCTION profile_history_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER profile_history_no_{event.lower()} BEFORE {event} ON profile_history "
                "BEGIN SELECT RAISE(ABORT, 'profile_history is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS profile_history_append_only ON profile_history")
        op.execute("DROP FUNCTION IF EXISTS profile_history_append_only()")
    with op.batch_alter_table("profile_history", schema=None) as batch_op:
        batch_op.drop_index("ix_profile_history_employee_id_changed_at")

    op.drop_table("profile_history")
    with op.batch_alter_table("profile_change_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_profile_change_requests_status_created_at")
        batch_op.drop_index(batch_op.f("ix_profile_change_requests_employee_id"))

    op.drop_table("profile_change_requests")
    with op.batch_alter_table("emergency_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergency_contacts_employee_id"))

    op.drop_table("emergency_contacts")
    op.drop_table("bank_accounts")
