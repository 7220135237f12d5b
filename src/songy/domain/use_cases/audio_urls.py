"""AudioUrls: the ``audioUrl`` of a track as Songy hands it out, signed afresh each time it is shown.

Every place that shows a track (status, list, cancel, playlists, Server-Sent Events, WebSocket, completion
webhooks) asks here, so no unsigned URL of private audio ever leaves Songy. The URL reads the stored object
inline (no download name) and expires after ``ttl``; only with ``public`` (``SONGY_PUBLIC_AUDIO=true``, for
an operator who made the audio public on purpose) is it the object's stable, unsigned URL, as in the seed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import timedelta

from songy.domain.music import Music, MusicStatus
from songy.ports.blobs import BlobStore


class AudioUrls:
    def __init__(self, blobs: BlobStore, ttl: timedelta, *, public: bool = False) -> None:
        self._blobs = blobs
        self.ttl = ttl
        self.public = public

    async def __call__(self, music: Music, *, valid_for: timedelta | None = None) -> str | None:
        """The URL that plays ``music``, valid for ``valid_for`` (default ``ttl``); ``None`` unless the track is
        COMPLETED and its audio still stored."""
        if music.status is not MusicStatus.COMPLETED or music.object_key is None or music.expired_at is not None:
            return None
        if self.public:
            return self._blobs.public_url(music.object_key)
        return (await self._blobs.signed_url(music.object_key, valid_for or self.ttl)).url

    async def many(self, tracks: Iterable[Music]) -> list[str | None]:
        """:meth:`__call__` for each track, in order."""
        return list(await asyncio.gather(*(self(music) for music in tracks)))
