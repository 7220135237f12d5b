"""What the generator tells of a finished track (the synthesizer: its reading of the prompt), shown as the status
``metadata``.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("music") as batch:
        batch.add_column(sa.Column("generation_metadata", sa.JSON()))


def downgrade() -> None:
    with op.batch_alter_table("music") as batch:
        batch.drop_column("generation_metadata")
