"""The alembic migrations build exactly the schema the code declares, on SQLite and PostgreSQL, and go down."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from songy.adapters.sql.engine import sync_url
from songy.adapters.sql.migrate import downgrade, upgrade
from songy.adapters.sql.tables import metadata

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_migrations_match_the_tables(backend: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(f"{backend}_url")
    engine = create_engine(sync_url(url))
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []


def test_downgrade_to_base_and_up_again(sqlite_url: str) -> None:
    downgrade(sqlite_url, "base")
    upgrade(sqlite_url)
    engine = create_engine(sync_url(sqlite_url))
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    engine.dispose()
