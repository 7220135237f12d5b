"""Conditional saves and live attempts: a ``version`` on music and playlists (a save that lost a race updates
no row), the lease a running attempt renews on its music row (``lease_expires_at``: the reaper acts on dead
attempts only), and the identity provider's time of the last user event applied (``profile_event_at``: a retried
stale ``user.created`` cannot undo a later ``user.deleted``).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("music") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("playlists") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("profile_event_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("profile_event_at")
    with op.batch_alter_table("playlists") as batch:
        batch.drop_column("version")
    with op.batch_alter_table("music") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("version")
