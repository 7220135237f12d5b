"""Object keys are unique: two tracks never share a stored file.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ux_music_object_key", "music", ["object_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_music_object_key", "music")
