"""The music id of each outbox message, so the reaper can tell a job still waiting to be handed to the queue
(workers down, relay behind) from one that was handed over and then lost.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("music_id", sa.String(40)))
        batch.create_index("ix_outbox_music_id", ["music_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE outbox SET music_id = payload->>'music_id'")
    else:
        op.execute("UPDATE outbox SET music_id = json_extract(payload, '$.music_id')")


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_music_id")
        batch.drop_column("music_id")
