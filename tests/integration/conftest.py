"""Fixtures for tests against real services: PostgreSQL (db ``test``), Redis, S3 over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from songy.adapters.sql.engine import build_engine
from songy.adapters.sql.migrate import upgrade
from tests.support.postgres import POSTGRES_URL, reset_postgres


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
