"""Whether the database can be used (readiness, the dependency gauges): it answers, and its schema is the one this
code needs (an unmigrated or older database answers, and every write would then fail with a 500)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine

from songy.adapters.sql.migrate import head_revision


class SchemaOutOfDate(RuntimeError):
    """The database answers, but not at the schema this code needs."""


def schema_message(current: str | None, needed: str) -> str:
    at = current or "nothing (no Songy tables)"
    return f"schema at {at}, code needs {needed}: run songy migrate"


class SqlDatabaseCheck:
    def __init__(self, engine: AsyncEngine, needed: str | None = None) -> None:
        self._engine = engine
        self._needed = needed

    async def check(self) -> None:
        """One query on a pooled connection: the revision alembic recorded. Raises :class:`SchemaOutOfDate`."""
        needed = self._needed or head_revision()
        async with self._engine.connect() as conn:
            try:
                current = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            except (ProgrammingError, OperationalError) as exc:
                if "alembic_version" not in str(exc):
                    raise
                current = None
        if current != needed:
            raise SchemaOutOfDate(schema_message(current, needed))
