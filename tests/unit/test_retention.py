"""Retention: old audio is deleted, the record stays and says so; a dry run changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from songy.domain.errors import MusicExpired, MusicNotFound
from songy.domain.formats import OutputFormat
from songy.domain.music import MusicStatus
from songy.domain.use_cases.expire_audio import ExpireAudio
from songy.domain.use_cases.get_download_link import GetDownloadLink
from songy.domain.use_cases.manage_music import DeleteMusic

from .fakes import ALICE, World


async def completed_world() -> tuple[World, str, ExpireAudio]:
    world = World()
    music_id = await world.request()
    await world.drain()
    return world, music_id, ExpireAudio(world.uow, world.blobs, world.clock, timedelta(days=30))


async def test_nothing_expires_inside_the_retention_period() -> None:
    world, _, expire = await completed_world()
    world.clock.advance(timedelta(days=29))
    assert await expire() == []
    assert len(world.blobs.objects) == 1


async def test_dry_run_reports_and_changes_nothing() -> None:
    world, music_id, expire = await completed_world()
    world.clock.advance(timedelta(days=31))
    report = await expire(dry_run=True)
    assert [t.music_id for t in report] == [music_id]
    assert len(world.blobs.objects) == 1
    assert (await world.status(ALICE, music_id)).expired_at is None


async def test_expiry_deletes_every_format_and_keeps_the_record() -> None:
    world, music_id, expire = await completed_world()
    [key] = world.blobs.objects
    world.blobs.objects[key.rsplit(".", 1)[0] + ".wav_16000.wav"] = world.blobs.objects[key]
    world.clock.advance(timedelta(days=31))
    assert [t.music_id for t in await expire()] == [music_id]
    assert world.blobs.objects == {}
    music = await world.status(ALICE, music_id)
    assert music.status is MusicStatus.COMPLETED and music.audio_url is None and music.expired_at == world.clock.now()
    assert await expire() == []  # once only
    link = GetDownloadLink(world.status, world.blobs, None, timedelta(hours=1))  # type: ignore[arg-type]
    with pytest.raises(MusicExpired):
        await link(ALICE, music_id)


async def test_generating_and_failed_tracks_are_left_alone() -> None:
    world = World()
    await world.request()
    world.clock.advance(timedelta(days=31))
    assert await ExpireAudio(world.uow, world.blobs, world.clock, timedelta(days=30))() == []


class TranscodingWhile:
    """A transcoder that lets something else happen (a delete, an expiry) while it works."""

    def __init__(self, meanwhile: Callable[[], Awaitable[object]]) -> None:
        self._meanwhile = meanwhile

    async def transcode(self, data: bytes, source: OutputFormat, target: OutputFormat) -> bytes:
        await self._meanwhile()
        return b"transcoded"


@pytest.mark.parametrize("meanwhile", ["delete", "expire"])
async def test_a_track_gone_while_a_variant_is_transcoded_leaves_no_variant(meanwhile: str) -> None:
    world, music_id, expire = await completed_world()
    world.clock.advance(timedelta(days=31))
    delete = DeleteMusic(world.uow, world.status._resolve_user, world.blobs)
    action = {"delete": lambda: delete(ALICE, music_id), "expire": expire}[meanwhile]
    link = GetDownloadLink(world.status, world.blobs, TranscodingWhile(action), timedelta(hours=1))
    with pytest.raises(MusicNotFound if meanwhile == "delete" else MusicExpired):
        await link(ALICE, music_id, OutputFormat.parse("wav_16000"))
    assert world.blobs.objects == {}  # neither the original nor the variant stored after the deletion
