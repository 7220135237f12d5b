"""The test PostgreSQL database (``test`` on 127.0.0.1:5432), reset to an empty, migrated schema."""

from __future__ import annotations

import os

import psycopg

from songy.adapters.sql.migrate import upgrade

POSTGRES_URL = os.environ.get("SONGY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def reset_postgres(url: str = POSTGRES_URL) -> None:
    """An empty ``public`` schema, then the migrations."""
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    upgrade(url)
