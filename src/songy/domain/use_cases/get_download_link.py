"""GetDownloadLink: an expiring URL for a user's own completed track, in its format or transcoded once
into another and cached next to the original (409 while the track is not ready)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

from songy.domain.errors import MusicExpired, MusicNotFound, MusicNotReady
from songy.domain.formats import OutputFormat
from songy.domain.music import Music, MusicStatus
from songy.domain.naming import variant_object_key
from songy.domain.use_cases.get_music_status import GetMusicStatus
from songy.domain.user import Identity
from songy.ports.audio import Transcoder
from songy.ports.blobs import BlobStore, SignedUrl


class GetDownloadLink:
    def __init__(self, get_status: GetMusicStatus, blobs: BlobStore, transcoder: Transcoder, ttl: timedelta) -> None:
        self._get_status = get_status
        self._blobs = blobs
        self._transcoder = transcoder
        self._ttl = ttl

    async def __call__(
        self, identity: Identity, music_id: str, output_format: OutputFormat | None = None
    ) -> tuple[SignedUrl, OutputFormat]:
        """The link and the format it serves."""
        music = _servable(await self._get_status(identity, music_id))
        assert music.object_key is not None
        if output_format is None or output_format == music.output_format:
            return await self._blobs.signed_url(
                music.object_key, self._ttl, _filename(music.object_key)
            ), music.output_format
        key = variant_object_key(music.object_key, output_format)
        if not await self._blobs.exists(key):
            original = await self._blobs.read(music.object_key)
            data = await self._transcoder.transcode(original, music.output_format, output_format)
            metadata = {"music-id": music.id, "user-id": music.user_id, "output-format": output_format.name}
            await self._blobs.put(key, _once(data), output_format.content_type, metadata)
            await self._kept_only_if_still_servable(identity, music_id, key)
        return await self._blobs.signed_url(key, self._ttl, _filename(key)), output_format

    async def _kept_only_if_still_servable(self, identity: Identity, music_id: str, key: str) -> None:
        """The track may have been deleted or expired while it was transcoded, and its deletion removed the files
        that existed then, not this one. Looking again after the variant is stored closes the race: a deletion
        committed before this look is seen here (and the variant removed), one committed after it removes the
        variant itself, since its files are deleted after its commit."""
        try:
            _servable(await self._get_status(identity, music_id))
        except (MusicNotFound, MusicExpired, MusicNotReady):
            await self._blobs.delete(key)
            raise


def _servable(music: Music) -> Music:
    """``music`` if it has audio to download; raises 410 (expired) or 409 (not ready) otherwise."""
    if music.expired_at is not None:
        raise MusicExpired(f"the audio of {music.id} expired on {music.expired_at.date().isoformat()}")
    if music.status is not MusicStatus.COMPLETED or music.object_key is None:
        raise MusicNotReady(f"music {music.id} is {music.status.value}; a download exists once it is COMPLETED")
    return music


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _filename(key: str) -> str:
    return key.rsplit("/", 1)[-1]
