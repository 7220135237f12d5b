"""Fixtures for tests against real services: PostgreSQL (db ``test``), Redis, S3 over HTTP."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from songy.adapters.sql.engine import build_engine
from songy.adapters.sql.migrate import upgrade

POSTGRES_URL = os.environ.get("SONGY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def reset_postgres(url: str = POSTGRES_URL) -> None:
    """An empty ``public`` schema, then the migrations."""
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    upgrade(url)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    reset_postgres()
    yield POSTGRES_URL


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'songy.db'}"
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgres"])
async def sql_engine(request: pytest.FixtureRequest) -> AsyncIterator[AsyncEngine]:
    url = request.getfixturevalue(f"{request.param}_url")
    engine = build_engine(url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """One moto S3 server for the whole run (tests use their own buckets)."""
    from tests.support.moto import moto_server

    with moto_server() as url:
        yield url
