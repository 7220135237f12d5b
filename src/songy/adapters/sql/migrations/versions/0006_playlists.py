"""Playlists and their ordered tracks (a deleted track leaves every playlist).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "playlists",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_playlists"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_playlists_user_id_users"),
    )
    op.create_index("ix_playlists_user_created", "playlists", ["user_id", "created_at"])
    op.create_table(
        "playlist_tracks",
        sa.Column("playlist_id", sa.String(40), nullable=False),
        sa.Column("music_id", sa.String(40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("playlist_id", "music_id", name="pk_playlist_tracks"),
        sa.ForeignKeyConstraint(
            ["playlist_id"], ["playlists.id"], name="fk_playlist_tracks_playlist_id_playlists", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["music_id"], ["music.id"], name="fk_playlist_tracks_music_id_music", ondelete="CASCADE"
        ),
    )


def downgrade() -> None:
    op.drop_table("playlist_tracks")
    op.drop_index("ix_playlists_user_created", "playlists")
    op.drop_table("playlists")
