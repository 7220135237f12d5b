"""Audio in S3: streamed multipart uploads spooled to disk, presigned GETs, the seed's public URL style.

Objects are written without an ACL and the bucket is never touched: audio stays as private as the bucket is,
and is read through presigned GETs (SigV4 over bucket, key, expiry and the response's Content-Disposition).

boto3 is synchronous, so every call runs in a worker thread. botocore errors are mapped here to
:class:`TransientGenerationError` / :class:`PermanentGenerationError` with a reason that names the bucket.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections.abc import AsyncIterable
from datetime import UTC, datetime, timedelta
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, EndpointConnectionError

from songy.adapters.content_disposition import attachment
from songy.domain.errors import GenerationError, PermanentGenerationError, TransientGenerationError
from songy.ports.blobs import SignedUrl, StoredBlob

if TYPE_CHECKING:
    from songy.settings import Settings

log = logging.getLogger(__name__)

PART_SIZE = 8 * 1024 * 1024  # S3's minimum part is 5 MiB
READ_CHUNK = 1024 * 1024
SPOOL_IN_MEMORY = 1024 * 1024  # a part beyond this is spooled to a temporary file, not held in memory
METADATA_VALUE_MAX = 1024  # S3 allows 2 KiB of user metadata in all
PRESIGN_MAX_S = 7 * 24 * 3600  # SigV4 presigned URLs live at most a week
PERMANENT_CODES = {
    "AccessDenied": "access denied",
    "AllAccessDisabled": "access disabled",
    "NoSuchBucket": "bucket does not exist",
    "InvalidAccessKeyId": "invalid AWS access key id",
    "SignatureDoesNotMatch": "AWS secret key does not match",
    "InvalidBucketName": "invalid bucket name",
    "AccountProblem": "AWS account problem",
    "EntityTooLarge": "object too large",
    "MetadataTooLarge": "metadata too large",
}


def _spool() -> IO[bytes]:
    """Where a part collects until it is sent: a worker's memory stays flat whatever the track's size
    (bench/memory.py), and botocore can seek it back to checksum and to retry."""
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)


def ascii_metadata(metadata: dict[str, str]) -> dict[str, str]:
    """S3 user metadata must be ASCII and small: values are percent-encoded and clipped."""
    return {key: quote(value, safe=" ,.:;/-_()")[:METADATA_VALUE_MAX] for key, value in metadata.items()}


class S3BlobStore:
    def __init__(self, client: Any, bucket: str, public_base_url: str, *, part_size: int = PART_SIZE) -> None:
        self._client = client
        self.bucket = bucket
        self._public_base_url = public_base_url.rstrip("/")
        self._part_size = part_size
        self._uploads_seen: dict[str, float] = {}  # unfinished multipart upload id -> when first listed (monotonic)

    @classmethod
    def from_settings(cls, settings: Settings) -> S3BlobStore:
        config = Config(
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
            s3={"addressing_style": "path" if settings.s3_endpoint_url else "auto"},
            signature_version="s3v4",
        )
        client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=settings.s3_secret_access_key,
            config=config,
        )
        if settings.s3_public_base_url:
            public = settings.s3_public_base_url
        elif settings.s3_endpoint_url:
            public = f"{settings.s3_endpoint_url.rstrip('/')}/{settings.s3_bucket}"
        else:
            public = f"https://{settings.s3_bucket}.s3.amazonaws.com"
        return cls(client, settings.s3_bucket, public)

    async def put(
        self, key: str, chunks: AsyncIterable[bytes], content_type: str, metadata: dict[str, str]
    ) -> StoredBlob:
        extra = {"ContentType": content_type, "Metadata": ascii_metadata(metadata)}
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        size = 0
        part = _spool()
        try:
            async for chunk in chunks:
                part.write(chunk)
                size += len(chunk)
                if part.tell() >= self._part_size:  # parts need only be >= 5 MiB, not equal: no splitting
                    if upload_id is None:
                        created = await self._call("create_multipart_upload", key, Key=key, **extra)
                        upload_id = created["UploadId"]
                    parts.append(await self._upload_part(key, upload_id, len(parts) + 1, part))
                    part.close()
                    part = _spool()
            if upload_id is None:
                part.seek(0)
                await self._call("put_object", key, Key=key, Body=part, **extra)
            else:
                if part.tell():
                    parts.append(await self._upload_part(key, upload_id, len(parts) + 1, part))
                await self._call(
                    "complete_multipart_upload", key, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
        except BaseException:
            if upload_id is not None:
                await self._abort(key, upload_id)
            raise
        finally:
            part.close()
        return StoredBlob(key, size, self.public_url(key))

    async def _upload_part(self, key: str, upload_id: str, number: int, part: IO[bytes]) -> dict[str, Any]:
        part.seek(0)
        response = await self._call("upload_part", key, Key=key, UploadId=upload_id, PartNumber=number, Body=part)
        return {"ETag": response["ETag"], "PartNumber": number}

    async def _abort(self, key: str, upload_id: str) -> None:
        try:
            await self._call("abort_multipart_upload", key, Key=key, UploadId=upload_id)
        except GenerationError:
            log.warning("could not abort multipart upload %s of s3://%s/%s", upload_id, self.bucket, key)

    async def check(self) -> None:
        await self._call("head_bucket", "")

    async def create_bucket(self) -> None:
        """Create the (private) bucket in the client's region (``songy doctor --fix``)."""
        region = self._client.meta.region_name
        where = {} if region in (None, "us-east-1") else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        await self._call("create_bucket", "", **where)

    async def exists(self, key: str) -> bool:
        try:
            await self._call("head_object", key, Key=key)
        except GenerationError as exc:
            if "404" in exc.reason or "Not Found" in exc.reason or "NoSuchKey" in exc.reason:
                return False
            raise
        return True

    async def delete(self, key: str) -> None:
        await self._call("delete_object", key, Key=key)

    async def delete_prefix(self, prefix: str) -> int:
        listing = await self._call("list_objects_v2", prefix, Prefix=prefix)
        keys = [{"Key": item["Key"]} for item in listing.get("Contents", [])]
        if keys:
            await self._call("delete_objects", prefix, Delete={"Objects": keys, "Quiet": True})
        return len(keys)

    async def read(self, key: str) -> bytes:
        response = await self._call("get_object", key, Key=key)
        return await asyncio.to_thread(response["Body"].read)

    async def remove_abandoned_uploads(self, older_than: timedelta = timedelta(days=1)) -> int:
        """Abort multipart uploads of this bucket's ``music/`` keys that this process has seen unfinished for more
        than ``older_than`` (a killed worker's; a live one finishes well within a day). The age is judged by this
        process's own clock from when it first listed the upload, never by the server's ``Initiated`` time, which
        a server with a wrong clock (moto reports 2010) would turn into aborting live uploads. A bucket lifecycle
        rule (AbortIncompleteMultipartUpload) does the same without a running process."""
        listing = await self._call("list_multipart_uploads", "music/", Prefix="music/")
        now = time.monotonic()
        listed = {u["UploadId"]: u["Key"] for u in listing.get("Uploads", [])}
        self._uploads_seen = {i: self._uploads_seen.get(i, now) for i in listed}
        stale = [i for i, seen in self._uploads_seen.items() if now - seen > older_than.total_seconds()]
        for upload_id in stale:
            await self._abort(listed[upload_id], upload_id)
            del self._uploads_seen[upload_id]
        return len(stale)

    async def read_into(self, key: str, sink: IO[bytes]) -> None:
        response = await self._call("get_object", key, Key=key)

        def copy() -> None:
            for chunk in response["Body"].iter_chunks(READ_CHUNK):
                sink.write(chunk)

        try:
            await asyncio.to_thread(copy)
        except BotoCoreError as exc:  # the body broke off mid-way (ResponseStreamingError, ReadTimeoutError)
            raise TransientGenerationError(f"S3 read of {key} from bucket {self.bucket} broke off: {exc}") from exc

    def public_url(self, key: str) -> str:
        return f"{self._public_base_url}/{quote(key)}"

    async def signed_url(self, key: str, expires_in: timedelta, filename: str | None = None) -> SignedUrl:
        seconds = min(int(expires_in.total_seconds()), PRESIGN_MAX_S)
        params = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = attachment(filename)
        url = await asyncio.to_thread(
            self._client.generate_presigned_url, "get_object", Params=params, ExpiresIn=seconds
        )
        return SignedUrl(url, datetime.now(UTC) + timedelta(seconds=seconds))

    async def _call(self, operation: str, key: str, **kwargs: Any) -> Any:
        method = getattr(self._client, operation)
        try:
            return await asyncio.to_thread(method, Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            raise self._classify(operation, key, exc) from exc
        except (EndpointConnectionError, ConnectionError) as exc:
            raise TransientGenerationError(f"S3 unreachable during {operation} on bucket {self.bucket}: {exc}") from exc
        except BotoCoreError as exc:
            raise TransientGenerationError(f"S3 {operation} on bucket {self.bucket} failed: {exc}") from exc

    def _classify(self, operation: str, key: str, exc: ClientError) -> GenerationError:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code == "403":  # HEAD answers carry no error body
            code = "AccessDenied"
        elif code == "404" and operation == "head_bucket":
            code = "NoSuchBucket"
        if code in PERMANENT_CODES:
            reason = f"S3 {PERMANENT_CODES[code]} for bucket {self.bucket} ({code} on {operation})"
            log.error("%s: key %s", reason, key)
            return PermanentGenerationError(reason)
        if status >= 500 or status in (408, 429) or code in ("SlowDown", "RequestTimeout", "InternalError"):
            return TransientGenerationError(f"S3 {code} ({status}) on {operation} in bucket {self.bucket}")
        return PermanentGenerationError(f"S3 {code} ({status}) on {operation} in bucket {self.bucket}")
