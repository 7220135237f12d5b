"""The S3 blob store against moto's S3 server over HTTP."""

from __future__ import annotations

import tracemalloc
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import boto3
import httpx
import pytest

from songy.adapters.s3.blob_store import S3BlobStore
from songy.domain.errors import PermanentGenerationError, TransientGenerationError
from songy.settings import Settings
from tests.support.moto import locked_bucket

pytestmark = pytest.mark.integration

CREDENTIALS = {"s3_access_key_id": "testing", "s3_secret_access_key": "testing"}


def settings_for(endpoint: str, bucket: str, **extra: object) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        blob_store="s3",
        s3_endpoint_url=endpoint,
        s3_bucket=bucket,
        **CREDENTIALS,  # type: ignore[arg-type]
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    name = f"songy-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=name)
    return name


@pytest.fixture
def store(s3_endpoint: str, bucket: str) -> S3BlobStore:
    return S3BlobStore.from_settings(settings_for(s3_endpoint, bucket))


async def stream(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def test_small_object_with_metadata_and_content_type(store: S3BlobStore, s3_endpoint: str, bucket: str) -> None:
    metadata = {"music-id": "m1", "prompt": "café au lait, 120 bpm", "length-ms": "30000"}
    stored = await store.put("music/2024-09-01T00-45-30-123Z_Song.mp3", stream(b"ab", b"cd"), "audio/mpeg", metadata)
    assert stored.size == 4 and stored.url == f"{s3_endpoint}/{bucket}/music/2024-09-01T00-45-30-123Z_Song.mp3"
    head = store._client.head_object(Bucket=bucket, Key=stored.key)
    assert head["ContentType"] == "audio/mpeg"
    assert head["Metadata"]["music-id"] == "m1" and head["Metadata"]["prompt"] == "caf%C3%A9 au lait, 120 bpm"
    assert await store.read(stored.key) == b"abcd"
    assert await store.exists(stored.key) and not await store.exists("music/nope.mp3")


async def test_large_object_goes_multipart(s3_endpoint: str, bucket: str) -> None:
    store = S3BlobStore.from_settings(settings_for(s3_endpoint, bucket))
    store._part_size = 5 * 1024 * 1024
    chunk = bytes(range(256)) * 4096  # 1 MiB
    stored = await store.put("music/big.pcm", stream(*[chunk] * 12), "audio/L16", {})
    assert stored.size == 12 * len(chunk)
    head = store._client.head_object(Bucket=bucket, Key="music/big.pcm")
    assert head["ContentLength"] == stored.size and head["ETag"].strip('"').endswith("-3")
    assert await store.read("music/big.pcm") == chunk * 12


@pytest.mark.parametrize("megabytes", [4, 14])  # one put_object; three parts
async def test_an_upload_holds_a_spool_not_the_object(s3_endpoint: str, bucket: str, megabytes: int) -> None:
    """Parts collect in a temporary file past 1 MiB: what an upload holds in memory does not grow with the
    object, although every chunk arrives as a new bytes object, as a generator's do."""
    store = S3BlobStore.from_settings(settings_for(s3_endpoint, bucket))
    store._part_size = 5 * 1024 * 1024
    block = bytes(range(256)) * 256  # 64 KiB

    async def fresh_chunks(count: int) -> AsyncIterator[bytes]:
        for _ in range(count):
            yield bytearray(block)  # a new 64 KiB object each time

    await store.put("music/warm.bin", fresh_chunks(1), "application/octet-stream", {})  # botocore's one-time setup
    tracemalloc.start()
    try:
        stored = await store.put("music/spooled.bin", fresh_chunks(16 * megabytes), "audio/L16", {})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert stored.size == megabytes * 2**20
    assert await store.read("music/spooled.bin") == block * (16 * megabytes)
    assert peak < 3 * 2**20, f"{peak / 2**20:.1f} MiB traced for a {megabytes} MiB upload"


async def test_failed_stream_leaves_no_object_and_no_open_upload(s3_endpoint: str, bucket: str) -> None:
    store = S3BlobStore.from_settings(settings_for(s3_endpoint, bucket))
    store._part_size = 5 * 1024 * 1024

    async def broken() -> AsyncIterator[bytes]:
        for _ in range(6):
            yield b"x" * 1024 * 1024
        raise TransientGenerationError("provider stream broke")

    with pytest.raises(TransientGenerationError):
        await store.put("music/broken.mp3", broken(), "audio/mpeg", {})
    assert not await store.exists("music/broken.mp3")
    assert store._client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


async def test_presigned_url_downloads_the_bytes(store: S3BlobStore) -> None:
    await store.put("music/signed.mp3", stream(b"\xff\xfbaudio"), "audio/mpeg", {})
    link = await store.signed_url("music/signed.mp3", timedelta(minutes=5))
    assert "X-Amz-Signature=" in link.url and "X-Amz-Expires=300" in link.url
    async with httpx.AsyncClient() as client:
        response = await client.get(link.url)
    assert response.status_code == 200 and response.content == b"\xff\xfbaudio"


async def test_delete_removes_the_object(store: S3BlobStore) -> None:
    await store.put("music/gone.mp3", stream(b"x"), "audio/mpeg", {})
    await store.delete("music/gone.mp3")
    assert not await store.exists("music/gone.mp3")


async def test_missing_bucket_is_permanent_and_names_the_bucket(s3_endpoint: str) -> None:
    store = S3BlobStore.from_settings(settings_for(s3_endpoint, "no-such-bucket-here"))
    with pytest.raises(PermanentGenerationError, match="bucket does not exist for bucket no-such-bucket-here"):
        await store.put("music/x.mp3", stream(b"x"), "audio/mpeg", {})


async def test_unreachable_endpoint_is_transient() -> None:
    store = S3BlobStore.from_settings(settings_for("http://127.0.0.1:9", "b"))
    with pytest.raises(TransientGenerationError, match="unreachable"):
        await store.put("music/x.mp3", stream(b"x"), "audio/mpeg", {})


def test_default_public_url_is_the_seed_style() -> None:
    store = S3BlobStore.from_settings(
        Settings(_env_file=None, blob_store="s3", s3_bucket="songy-wongy-music")  # type: ignore[call-arg]
    )
    assert store.public_url("music/2024-09-01T00-45-30-123Z_My_Awesome_Song.mp3") == (
        "https://songy-wongy-music.s3.amazonaws.com/music/2024-09-01T00-45-30-123Z_My_Awesome_Song.mp3"
    )


@pytest.fixture(scope="module")
def denied_store() -> Iterator[S3BlobStore]:
    """Credentials of a user with no S3 permission at all, on a moto server that enforces IAM."""
    with locked_bucket("locked") as (endpoint, key_id, secret):
        yield S3BlobStore.from_settings(
            Settings(
                _env_file=None,  # type: ignore[call-arg]
                blob_store="s3",
                s3_endpoint_url=endpoint,
                s3_bucket="locked",
                s3_access_key_id=key_id,
                s3_secret_access_key=secret,
            )
        )


async def test_access_denied_is_permanent_and_names_the_bucket(denied_store: S3BlobStore) -> None:
    with pytest.raises(PermanentGenerationError, match="access denied for bucket locked"):
        await denied_store.put("music/x.mp3", stream(b"x"), "audio/mpeg", {})


async def test_abandoned_multipart_uploads_are_aborted_by_their_age_on_our_clock(
    store: S3BlobStore, s3_endpoint: str, bucket: str
) -> None:
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    upload = client.create_multipart_upload(Bucket=bucket, Key="music/killed-worker.mp3")["UploadId"]

    def pending() -> list[str]:
        return [u["UploadId"] for u in client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]

    # moto reports every upload as initiated in 2010: judged by the server's clock, a live upload would go
    assert await store.remove_abandoned_uploads() == 0
    assert pending() == [upload]
    assert await store.remove_abandoned_uploads(older_than=timedelta(0)) == 1  # seen unfinished since the last pass
    assert pending() == []
