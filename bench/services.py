"""What the bench scripts share: paths, the services' URLs, free ports, a fresh PostgreSQL schema, moto S3."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PG = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fresh_schema(schema: str) -> str:
    """An empty PostgreSQL schema; returns the SQLAlchemy URL that works inside it."""
    with psycopg.connect(PG.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{PG}?options=-csearch_path%3D{schema}"


@contextmanager
def moto_bucket(bucket: str) -> Iterator[tuple[str, Any]]:
    """A moto S3 server with ``bucket``; yields its endpoint and a boto3 client."""
    port = free_port()
    moto = subprocess.Popen(
        [BIN / "moto_server", "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(endpoint, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        s3 = boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        s3.create_bucket(Bucket=bucket)
        yield endpoint, s3
    finally:
        moto.terminate()
        moto.wait(timeout=30)


def songy_s3_env(endpoint: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a Songy process on Redis and the moto bucket ``bench``, quiet, with dev tokens."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SONGY_REDIS_URL": REDIS,
        "SONGY_BLOB_STORE": "s3",
        "SONGY_S3_ENDPOINT_URL": endpoint,
        "SONGY_S3_BUCKET": "bench",
        "SONGY_S3_ACCESS_KEY_ID": "x",
        "SONGY_S3_SECRET_ACCESS_KEY": "x",
        "SONGY_DATA_DIR": str(data_dir),
        "SONGY_DEV_TOKEN_SECRET": "bench-secret-" + "x" * 40,
        "SONGY_LOG_LEVEL": "WARNING",
        **extra,
    }
