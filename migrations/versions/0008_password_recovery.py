"""Password recovery: one-time links, recovery profiles (mobile, TOTP) and the verified private e-mail.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 12:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("employees", schema=None) as batch_op:
        batch_op.add_column(sa.Column("private_email_verified_at", sa.DateTime(timezone=True), nullable=True))
    # Private addresses imported by HR before this revision came from the trusted source: they count as verified.
    op.execute("UPDATE employees SET private_email_verified_at = updated_at WHERE private_email <> ''")

    op.create_table(
        "recovery_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("login", sa.String(length=256), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.String(length=254), nullable=False),
        sa.Column("failed_codes", sa.Integer(), nullable=False),
        sa.Column("sms_code_hash", sa.String(length=64), nullable=False),
        sa.Column("sms_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_recovery_tokens_token_hash")),
    )
    with op.batch_alter_table("recovery_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_tokens_login"), ["login"], unique=False)

    op.create_table(
        "recovery_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=256), nullable=False),
        sa.Column("mobile", sa.String(length=32), nullable=False),
        sa.Column("mobile_verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mobile_code_hash", sa.String(length=64), nullable=False),
        sa.Column("mobile_code_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("totp_secret", sa.Text(), nullable=False),
        sa.Column("totp_pending", sa.Text(), nullable=False),
        sa.Column("totp_last_step", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_profiles")),
        sa.UniqueConstraint("login", name=op.f("uq_recovery_profiles_login")),
    )


def downgrade() -> None:
    op.drop_table("recovery_profiles")
    with op.batch_alter_table("recovery_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_tokens_login"))
    op.drop_table("recovery_tokens")
    with op.batch_alter_table("employees", schema=None) as batch_op:
        batch_op.drop_column("private_email_verified_at")
