"""The blob store port: where rendered audio lives."""

from __future__ import annotations

from collections.abc import AsyncIterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Protocol


@dataclass(frozen=True)
class StoredBlob:
    key: str
    size: int
    url: str


@dataclass(frozen=True)
class SignedUrl:
    url: str
    expires_at: datetime


class BlobStore(Protocol):
    async def put(
        self, key: str, chunks: AsyncIterable[bytes], content_type: str, metadata: dict[str, str]
    ) -> StoredBlob:
        """Store the stream under ``key`` (replacing what was there); nothing is visible until it completes.

        Raises :class:`songy.domain.errors.GenerationError` subclasses on storage faults.
        """
        ...

    async def exists(self, key: str) -> bool: ...

    async def check(self) -> None:
        """Raise when the store cannot be used (readiness)."""
        ...

    async def read(self, key: str) -> bytes:
        """The whole object (used for transcoding)."""
        ...

    async def read_into(self, key: str, sink: IO[bytes]) -> None:
        """Write the object to ``sink`` chunk by chunk, never holding it whole (used to verify what was stored).

        Raises :class:`songy.domain.errors.GenerationError` subclasses on storage faults.
        """
        ...

    async def delete(self, key: str) -> None: ...

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every object whose key starts with ``prefix``; return how many."""
        ...

    async def remove_abandoned_uploads(self) -> int:
        """Remove what uploads of dead processes left behind (partial files, unfinished multipart uploads) and
        nothing a live upload still uses; returns how many."""
        ...

    def public_url(self, key: str) -> str:
        """The stable, unsigned URL of the object. It works only where the operator made the audio public
        (``SONGY_PUBLIC_AUDIO=true``); Songy hands it out only then."""
        ...

    async def signed_url(self, key: str, expires_in: timedelta, filename: str | None = None) -> SignedUrl:
        """An expiring URL that reads the object: signed over the key, the expiry and ``filename`` (served as an
        attachment of that name when given, inline otherwise), so none of them can be changed."""
        ...
