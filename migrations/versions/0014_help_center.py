"""Help center: articles with versions, feedback, searches that found nothing, and the full-text index
(SQLite FTS5; PostgreSQL tsvector with a GIN index, plus pg_trgm when the server has it).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 02:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "help_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("review_due", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_articles")),
        sa.UniqueConstraint("slug", name=op.f("uq_help_articles_slug")),
    )
    op.create_table(
        "help_article_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("keywords", sa.String(length=500), nullable=False),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["help_articles.id"],
            name=op.f("fk_help_article_versions_article_id_help_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_article_versions")),
        sa.UniqueConstraint("article_id", "lang", "version", name="uq_help_article_versions_version"),
    )
    op.create_index(op.f("ix_help_article_versions_article_id"), "help_article_versions", ["article_id"], unique=False)
    op.create_table(
        "help_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_feedback")),
    )
    op.create_index("ix_help_feedback_kind_key", "help_feedback", ["kind", "key"], unique=False)
    op.create_table(
        "help_missed_queries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query", sa.String(length=200), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_missed_queries")),
        sa.UniqueConstraint("query", "lang", name="uq_help_missed_queries_query_lang"),
    )
    op.create_table(
        "help_index_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_index_state")),
    )
    op.execute("INSERT INTO help_index_state (id, generation) VALUES (1, 0)")
    if op.get_bind().dialect.name == "sqlite":
        # The domain hands over terms already folded and stemmed: unicode61 only splits them at spaces.
        op.execute(
            "CREATE VIRTUAL TABLE help_search USING fts5("
            "slug UNINDEXED, lang UNINDEXED, category UNINDEXED, title UNINDEXED, snippet UNINDEXED, "
            "title_terms, body_terms, tokenize = 'unicode61 remove_diacritics 2', prefix = '3 4')"
        )
        op.execute("CREATE VIRTUAL TABLE help_search_vocab USING fts5vocab(help_search, row)")
        return
    op.execute(
        "CREATE TABLE help_search ("
        "id serial PRIMARY KEY, slug varchar(80) NOT NULL, lang varchar(2) NOT NULL, category varchar(16) NOT NULL, "
        "title varchar(200) NOT NULL, snippet text NOT NULL, title_terms text NOT NULL, body_terms text NOT NULL, "
        "document tsvector GENERATED ALWAYS AS ("
        "setweight(to_tsvector('simple', title_terms), 'A') || setweight(to_tsvector('simple', body_terms), 'B')"
        ") STORED)"
    )
    op.execute("CREATE INDEX ix_help_search_document ON help_search USING gin (document)")
    op.execute("CREATE INDEX ix_help_search_slug ON help_search (slug, lang)")
    # pg_trgm ships with Debian's postgresql package and is a trusted extension (PostgreSQL 13+): the database
    # owner may create it. Without it the search still works (the domain corrects typos itself).
    op.execute(
        "DO $$ BEGIN "
        "IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN "
        "CREATE EXTENSION IF NOT EXISTS pg_trgm; "
        "CREATE INDEX ix_help_search_title_trgm ON help_search USING gin (title_terms gin_trgm_ops); "
        "END IF; "
        "EXCEPTION WHEN insufficient_privilege THEN NULL; "
        "END $$"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS help_search_vocab")
    op.execute("DROP TABLE IF EXISTS help_search")
    op.drop_table("help_index_state")
    op.drop_table("help_missed_queries")
    op.drop_index("ix_help_feedback_kind_key", table_name="help_feedback")
    op.drop_table("help_feedback")
    op.drop_index(op.f("ix_help_article_versions_article_id"), table_name="help_article_versions")
    op.drop_table("help_article_versions")
    op.drop_table("help_articles")
