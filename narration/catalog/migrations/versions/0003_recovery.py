"""narrations.due_at and error_category: stalled work is found and failures say why.

``due_at`` is when the narration's next progress is due; past it, the reconciler sends the
missing work again. ``error_category`` is a stable name for the kind of failure
(``tts_refused``, ``store_full`` ...) beside the readable ``error``.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("narrations") as batch:
        batch.add_column(sa.Column("due_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("error_category", sa.String(32)))
        batch.create_index("ix_narrations_due_at", ["due_at"])


def downgrade() -> None:
    with op.batch_alter_table("narrations") as batch:
        batch.drop_index("ix_narrations_due_at")
        batch.drop_column("error_category")
        batch.drop_column("due_at")
