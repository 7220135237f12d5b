"""Run the alembic migrations (``songy migrate``; automatic at start-up on the embedded SQLite)."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from songy.adapters.sql.engine import sync_url

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sync_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database schema to ``revision``."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


@functools.cache
def head_revision() -> str:
    """The revision this code's tables are declared at (the newest migration)."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def current_revision(database_url: str) -> str | None:
    """The revision the database is at (``None``: no Songy schema yet). Raises the driver's error when the
    database cannot be reached."""
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def upgrade_reporting(database_url: str) -> list[str]:
    """:func:`upgrade` to the head; the migrations it applied, oldest first (``"0012 versions leases ..."``)."""
    before = current_revision(database_url)
    upgrade(database_url)
    script = ScriptDirectory.from_config(alembic_config(database_url))
    applied = list(script.iterate_revisions(head_revision(), before))
    return [f"{rev.revision} {(rev.doc or '').splitlines()[0].rstrip('.')}".strip() for rev in reversed(applied)]
