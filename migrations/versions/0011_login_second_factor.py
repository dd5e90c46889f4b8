"""Second factors at login (TOTP, passkeys) and one-time recovery codes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 02:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_factors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=256), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=60), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("credential_id", sa.String(length=1400), nullable=True),
        sa.Column("sign_count", sa.Integer(), nullable=False),
        sa.Column("last_step", sa.Integer(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_factors")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_login_factors_credential_id")),
    )
    op.create_index(op.f("ix_login_factors_login"), "login_factors", ["login"], unique=False)
    op.create_table(
        "login_recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=256), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_recovery_codes")),
    )
    op.create_index(op.f("ix_login_recovery_codes_login"), "login_recovery_codes", ["login"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_login_recovery_codes_login"), table_name="login_recovery_codes")
    op.drop_table("login_recovery_codes")
    op.drop_index(op.f("ix_login_factors_login"), table_name="login_factors")
    op.drop_table("login_factors")
