"""The test PostgreSQL database (``test`` on 127.0.0.1:5432).

Each test process works in its own schema (via ``search_path`` in the URL), so two runs on one machine do not
reset each other's tables.
"""

from __future__ import annotations

import os
import uuid

import psycopg

from songy.adapters.sql.migrate import upgrade

BASE_URL = os.environ.get("SONGY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SCHEMA = f"songy_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
POSTGRES_URL = f"{BASE_URL}?options=-csearch_path%3D{SCHEMA}"


def reset_postgres() -> None:
    """An empty schema of this process's own, then the migrations."""
    dsn = BASE_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{SCHEMA}"')
    upgrade(POSTGRES_URL)


def drop_schema() -> None:
    dsn = BASE_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
