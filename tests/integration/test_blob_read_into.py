"""``BlobStore.read_into``, which the output check uses to read a stored track back: every store writes the
object's bytes to a file chunk by chunk (S3 without holding it whole) and maps a missing object to a
GenerationError."""

from __future__ import annotations

import tempfile
import tracemalloc
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import boto3
import pytest

from songy.adapters.localfs.blob_store import LocalFsBlobStore
from songy.adapters.memory.blob_store import MemoryBlobStore
from songy.adapters.s3.blob_store import S3BlobStore
from songy.domain.errors import GenerationError
from songy.ports.blobs import BlobStore
from songy.settings import Settings

pytestmark = pytest.mark.integration

MEGABYTES = 12


def s3_store(endpoint: str) -> S3BlobStore:
    bucket = f"songy-{uuid.uuid4().hex[:12]}"
    keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **keys).create_bucket(Bucket=bucket)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        blob_store="s3",
        s3_endpoint_url=endpoint,
        s3_bucket=bucket,
        s3_access_key_id="testing",
        s3_secret_access_key="testing",
    )
    return S3BlobStore.from_settings(settings)


@pytest.fixture(params=["memory", "localfs", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "memory":
        return MemoryBlobStore()
    if request.param == "localfs":
        return LocalFsBlobStore(tmp_path / "blobs", "http://127.0.0.1:8000", b"k" * 32)
    return s3_store(request.getfixturevalue("s3_endpoint"))


async def blocks() -> AsyncIterator[bytes]:
    for i in range(MEGABYTES):
        yield bytes([i]) * 2**20


async def test_read_into_writes_the_stored_bytes(store: BlobStore) -> None:
    await store.put("music/long.wav", blocks(), "audio/wav", {})
    with tempfile.TemporaryFile() as sink:
        await store.read_into("music/long.wav", sink)
        sink.seek(0)
        assert sink.read() == b"".join(bytes([i]) * 2**20 for i in range(MEGABYTES))


async def test_read_into_a_missing_object_is_a_generation_error(store: BlobStore) -> None:
    with tempfile.TemporaryFile() as sink, pytest.raises(GenerationError):
        await store.read_into("music/missing.wav", sink)


async def test_s3_read_into_streams(s3_endpoint: str) -> None:
    store = s3_store(s3_endpoint)
    await store.put("music/long.wav", blocks(), "audio/wav", {})
    with tempfile.TemporaryFile() as sink:
        tracemalloc.start()
        try:
            await store.read_into("music/long.wav", sink)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert sink.tell() == MEGABYTES * 2**20
    assert peak < 4 * 2**20, f"{peak / 2**20:.1f} MiB traced reading a {MEGABYTES} MiB object"
