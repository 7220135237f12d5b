"""GetDownloadLink: an expiring URL for a user's own completed track (409 while it is not ready)."""

from __future__ import annotations

from datetime import timedelta

from songy.domain.errors import MusicNotReady
from songy.domain.music import MusicStatus
from songy.domain.use_cases.get_music_status import GetMusicStatus
from songy.domain.user import Identity
from songy.ports.blobs import BlobStore, SignedUrl


class GetDownloadLink:
    def __init__(self, get_status: GetMusicStatus, blobs: BlobStore, ttl: timedelta) -> None:
        self._get_status = get_status
        self._blobs = blobs
        self._ttl = ttl

    async def __call__(self, identity: Identity, music_id: str) -> SignedUrl:
        music = await self._get_status(identity, music_id)
        if music.status is not MusicStatus.COMPLETED or music.object_key is None:
            raise MusicNotReady(f"music {music_id} is {music.status.value}; a download exists once it is COMPLETED")
        return await self._blobs.signed_url(music.object_key, self._ttl)
