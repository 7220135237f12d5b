"""Soft deletion of users and the processed-messages inbox for idempotent webhooks.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True)))
    op.create_table(
        "processed_messages",
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "message_id", name="pk_processed_messages"),
    )


def downgrade() -> None:
    op.drop_table("processed_messages")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("deleted_at")
