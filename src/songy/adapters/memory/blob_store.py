"""A blob store in a dict, with the same all-or-nothing put as the real ones."""

from __future__ import annotations

from collections.abc import AsyncIterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO
from urllib.parse import quote

from songy.domain.errors import TransientGenerationError
from songy.ports.blobs import SignedUrl, StoredBlob


@dataclass
class MemoryBlob:
    data: bytes
    content_type: str
    metadata: dict[str, str]


class MemoryBlobStore:
    def __init__(self, base_url: str = "memory://songy-wongy-music", now: datetime | None = None) -> None:
        self.objects: dict[str, MemoryBlob] = {}
        self.puts = 0
        self._base_url = base_url
        self._now = now

    async def put(
        self, key: str, chunks: AsyncIterable[bytes], content_type: str, metadata: dict[str, str]
    ) -> StoredBlob:
        buffer = bytearray()
        async for chunk in chunks:
            buffer.extend(chunk)
        self.objects[key] = MemoryBlob(bytes(buffer), content_type, dict(metadata))
        self.puts += 1
        return StoredBlob(key, len(buffer), self.public_url(key))

    async def check(self) -> None:
        return None

    async def exists(self, key: str) -> bool:
        return key in self.objects

    async def read(self, key: str) -> bytes:
        return self.objects[key].data

    async def read_into(self, key: str, sink: IO[bytes]) -> None:
        if key not in self.objects:
            raise TransientGenerationError(f"no object {key} in memory")
        sink.write(self.objects[key].data)

    async def delete(self, key: str) -> None:
        self.objects.pop(key, None)

    async def delete_prefix(self, prefix: str) -> int:
        doomed = [k for k in self.objects if k.startswith(prefix)]
        for key in doomed:
            del self.objects[key]
        return len(doomed)

    async def remove_abandoned_uploads(self) -> int:
        return 0  # a put is all or nothing here: nothing partial is ever left

    def public_url(self, key: str) -> str:
        return f"{self._base_url}/{key}"

    async def signed_url(self, key: str, expires_in: timedelta, filename: str | None = None) -> SignedUrl:
        """Shaped like a signed URL (``signature=memory``); nothing checks it."""
        expires_at = (self._now or datetime.now().astimezone()) + expires_in
        download = f"&download={quote(filename, safe='')}" if filename else ""
        return SignedUrl(
            f"{self.public_url(key)}?expires={int(expires_at.timestamp())}{download}&signature=memory", expires_at
        )
