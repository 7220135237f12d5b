"""Engine construction with the per-database settings that make the same code correct on both."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def build_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An async engine. SQLite gets WAL, a busy timeout, foreign keys and ``BEGIN IMMEDIATE``
    (so concurrent writers wait instead of failing on a lock upgrade)."""
    if not is_sqlite(url):  # no pre-ping: SqlUnitOfWork replaces a dropped connection on its first statement
        return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size)
    engine = create_async_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def sync_url(url: str) -> str:
    """The synchronous driver URL for the same database (alembic runs synchronously)."""
    parsed = make_url(url)
    driver = {"sqlite+aiosqlite": "sqlite", "postgresql+asyncpg": "postgresql+psycopg"}.get(parsed.drivername)
    return parsed.set(drivername=driver).render_as_string(hide_password=False) if driver else url


def reader_engine(engine: AsyncEngine) -> AsyncEngine:
    """The same pool in ``AUTOCOMMIT``, for read-only units of work: a read is one round trip. SQLite keeps its
    transactional engine (its ``BEGIN IMMEDIATE`` hook must not run outside a transaction it can commit)."""
    if engine.dialect.name == "sqlite":
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")
