"""Articles, narrations and narration chunks.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("title", sa.Text()),
        sa.Column("byline", sa.Text()),
        sa.Column("section", sa.String(200)),
        sa.Column("lang", sa.String(35)),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("canonical_url", sa.Text()),
        sa.Column("image_url", sa.Text()),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latest_narration_id", sa.String(32)),
        sa.Column("current_narration_id", sa.String(32)),
    )
    op.create_index("ix_articles_section", "articles", ["section"])
    op.create_index("ix_articles_published_at", "articles", ["published_at"])
    op.create_table(
        "narrations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("narration_key", sa.String(128), nullable=False),
        sa.Column(
            "article_id",
            sa.String(128),
            sa.ForeignKey("articles.id", ondelete="SET NULL"),
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("chunks_total", sa.Integer(), nullable=False),
        sa.Column("chunks_done", sa.Integer(), nullable=False),
        sa.Column("chunks_cached", sa.Integer(), nullable=False),
        sa.Column("engine", sa.String(32), nullable=False),
        sa.Column("voice", sa.String(64)),
        sa.Column("lang", sa.String(35), nullable=False),
        sa.Column("title", sa.Text()),
        sa.Column("audio_key", sa.String(128)),
        sa.Column("duration_ms", sa.BigInteger()),
        sa.Column("bytes", sa.BigInteger()),
        sa.Column("error", sa.Text()),
        sa.Column("callback_url", sa.Text()),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("ready_at", sa.DateTime(timezone=True)),
        sa.Column("failed_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("narration_key", name="uq_narrations_narration_key"),
    )
    op.create_index("ix_narrations_article_id", "narrations", ["article_id"])
    op.create_index("ix_narrations_state", "narrations", ["state"])
    op.create_table(
        "narration_chunks",
        sa.Column(
            "narration_id",
            sa.String(32),
            sa.ForeignKey("narrations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("chunk_index", sa.Integer(), primary_key=True),
        sa.Column("synth_ms", sa.Integer()),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("articles") as batch:
        batch.create_foreign_key(
            "fk_articles_latest", "narrations", ["latest_narration_id"], ["id"]
        )
        batch.create_foreign_key(
            "fk_articles_current", "narrations", ["current_narration_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.drop_constraint("fk_articles_current", type_="foreignkey")
        batch.drop_constraint("fk_articles_latest", type_="foreignkey")
    op.drop_table("narration_chunks")
    op.drop_table("narrations")
    op.drop_table("articles")
