"""narrations.dispatched_at: when the row's job was last sent, to recover lost jobs.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("narrations") as batch:
        batch.add_column(sa.Column("dispatched_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("narrations") as batch:
        batch.drop_column("dispatched_at")
