"""An unmigrated or older PostgreSQL database: `songy serve` says so at start and readiness fails naming the schema
(instead of "ready" and a 500 on the first write); `songy migrate` prints what it applied."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from songy.adapters.sql.migrate import head_revision, upgrade
from tests.support.postgres import BASE_URL
from tests.support.songy_serve import Serve

pytestmark = pytest.mark.integration
SONGY = str(Path(sys.executable).with_name("songy"))
DSN = BASE_URL.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def empty_schema_url() -> Iterator[str]:
    """A schema of its own with no table, as libpq users write the URL (``postgres://``)."""
    schema = f"songy_fresh_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield DSN.replace("postgresql://", "postgres://") + f"?options=-csearch_path%3D{schema}"
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def migrate(url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SONGY_")} | {"SONGY_DATABASE_URL": url}
    return subprocess.run([SONGY, "migrate"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_serve_on_an_unmigrated_database_is_not_ready_and_says_why(empty_schema_url: str, tmp_path: Path) -> None:
    head = head_revision()
    serve = Serve(tmp_path, SONGY_DATABASE_URL=empty_schema_url)
    try:
        ready = httpx.get(f"{serve.base_url}/health/ready", timeout=10)
        expected = f"schema at nothing (no Songy tables), code needs {head}: run songy migrate"
        assert ready.status_code == 503, ready.text
        assert ready.json()["error"]["details"] == [{"field": "database", "message": f"SchemaOutOfDate: {expected}"}]
        assert expected in serve.log()  # said at start, before anyone asks

        applied = migrate(empty_schema_url, tmp_path)
        assert applied.returncode == 0, applied.stderr
        lines = applied.stdout.splitlines()
        assert lines[0].startswith("applied 0001 ") and lines[-2].startswith(f"applied {head} ")
        assert lines[-1] == f"database is at the latest schema ({head}): applied {int(head)} migrations"
        assert httpx.get(f"{serve.base_url}/health/ready", timeout=10).status_code == 200

        again = migrate(empty_schema_url, tmp_path)
        assert again.stdout.splitlines() == [f"database is at the latest schema ({head}): nothing to apply"]
    finally:
        serve.stop()


def test_an_older_schema_is_named_with_the_revision_it_is_at(empty_schema_url: str, tmp_path: Path) -> None:
    older = f"{int(head_revision()) - 1:04d}"
    upgrade(empty_schema_url.replace("postgres://", "postgresql+psycopg://"), older)
    serve = Serve(tmp_path, SONGY_DATABASE_URL=empty_schema_url)
    try:
        ready = httpx.get(f"{serve.base_url}/health/ready", timeout=10)
        assert ready.status_code == 503
        assert f"schema at {older}, code needs {head_revision()}: run songy migrate" in ready.text
    finally:
        serve.stop()
