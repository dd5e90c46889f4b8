"""Self-service analytics: journey events without personal identifiers, one summary row per journey, annotations.

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-02 04:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flow", sa.String(length=32), nullable=False),
        sa.Column("journey", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_events")),
    )
    op.create_index("ix_analytics_events_day_flow_step", "analytics_events", ["day", "flow", "step"], unique=False)
    op.create_index("ix_analytics_events_at", "analytics_events", ["at"], unique=False)
    op.create_table(
        "analytics_journeys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flow", sa.String(length=32), nullable=False),
        sa.Column("journey", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_day", sa.Date(), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seconds", sa.Integer(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("solved", sa.String(length=8), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_journeys")),
        sa.UniqueConstraint("flow", "journey", name="uq_analytics_journeys_flow_journey"),
    )
    op.create_index("ix_analytics_journeys_day_flow", "analytics_journeys", ["started_day", "flow"], unique=False)
    op.create_index("ix_analytics_journeys_started_at", "analytics_journeys", ["started_at"], unique=False)
    op.create_table(
        "analytics_daily",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("flow", sa.String(length=32), nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in ("started", "completed", "failed", "escalated", "solved_yes", "solved_partly", "solved_no")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_daily")),
        sa.UniqueConstraint("day", "flow", name="uq_analytics_daily_day_flow"),
    )
    op.create_table(
        "analytics_daily_details",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("flow", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_daily_details")),
        sa.UniqueConstraint("day", "flow", "kind", "label", name="uq_analytics_daily_details_key"),
    )
    op.create_index("ix_analytics_daily_details_kind_day", "analytics_daily_details", ["kind", "day"], unique=False)
    op.create_table(
        "analytics_annotations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("owner", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_annotations")),
    )


def downgrade() -> None:
    op.drop_table("analytics_annotations")
    op.drop_index("ix_analytics_daily_details_kind_day", table_name="analytics_daily_details")
    op.drop_table("analytics_daily_details")
    op.drop_table("analytics_daily")
    op.drop_index("ix_analytics_journeys_started_at", table_name="analytics_journeys")
    op.drop_index("ix_analytics_journeys_day_flow", table_name="analytics_journeys")
    op.drop_table("analytics_journeys")
    op.drop_index("ix_analytics_events_at", table_name="analytics_events")
    op.drop_index("ix_analytics_events_day_flow_step", table_name="analytics_events")
    op.drop_table("analytics_events")
