"""docs/operations.md's local production walk-through, run as written: its shell blocks, in order, in one bash
(PostgreSQL, Redis, moto as S3, `songy doctor --fix`, serve + worker, a track end to end, both metrics endpoints).
Only the values the document says to change are set: a fresh database schema and free ports."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from songy.adapters.codecs import decode
from songy.domain.formats import OutputFormat
from tests.support.moto import free_port
from tests.support.postgres import BASE_URL
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.e2e

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
SECTION = "## Try the production setup locally"
DSN = BASE_URL.replace("postgresql+psycopg://", "postgresql://")


def walkthrough_blocks() -> list[str]:
    text = DOC.read_text()
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start : end if end != -1 else len(text)]
    return re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)


@pytest.fixture
def fresh_database() -> Iterator[str]:
    schema = f"songy_walk_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield DSN.replace("postgresql://", "postgres://") + f"?options=-csearch_path%3D{schema}"
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_the_local_production_walkthrough_runs_as_written(fresh_database: str, tmp_path: Path) -> None:
    blocks = walkthrough_blocks()
    assert len(blocks) >= 6 and any("songy doctor --fix" in b for b in blocks)
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    bin_dir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SONGY_")} | {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "SONGY_DATABASE_URL": fresh_database,
        "SONGY_REDIS_URL": redis.url,
        "SONGY_PORT": str(free_port()),
        "S3_PORT": str(free_port()),
        "WORKER_METRICS_PORT": str(free_port()),
    }
    # every block as written, one after the other in one shell; stop at the first command that fails, and
    # never leave a server behind
    script = "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\nset -x\n" + "\n".join(blocks)
    work = tmp_path / "work"
    work.mkdir()
    try:
        done = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    finally:
        redis.stop()
    logs = "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in sorted(work.glob("*.log")))
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-800:]}\n{logs}"
    assert "[ok  ] blob store" in done.stdout and "fixed: created bucket songy-local" in done.stdout
    assert "fixed: applied" in done.stdout  # the empty database was migrated by doctor --fix
    samples, rate = decode((work / "local.mp3").read_bytes(), OutputFormat.parse("mp3_44100_128"))
    assert rate == 44100 and abs(len(samples) / rate - 5.0) < 0.05
