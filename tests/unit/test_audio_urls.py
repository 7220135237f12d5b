"""AudioUrls and the completion webhook: the URL of a track is signed and expiring wherever Songy hands it out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from songy.domain.events import MusicGenerationCompleted
from songy.domain.music import Music, MusicStatus
from songy.domain.use_cases.audio_urls import AudioUrls
from songy.domain.use_cases.webhook_endpoints import RETRY_SCHEDULE, FanOutWebhooks
from songy.domain.webhooks import BACKOFF, WebhookEndpoint

from .fakes import ALICE, World

TTL = timedelta(minutes=20)


def expires_of(url: str) -> datetime:
    return datetime.fromtimestamp(int(parse_qs(urlsplit(url).query)["expires"][0]), UTC)


async def completed_track(world: World) -> Music:
    music_id = await world.request()
    await world.drain()
    music = await world.status(ALICE, music_id)
    assert music.status is MusicStatus.COMPLETED and music.object_key is not None
    return music


async def test_a_completed_track_gets_a_fresh_signed_url_and_no_other_does() -> None:
    world = World()
    music = await completed_track(world)
    urls = AudioUrls(world.blobs, TTL)
    url = await urls(music)
    assert url is not None and url != music.audio_url and "signature=" in url
    assert urlsplit(url).path == urlsplit(world.blobs.public_url(music.object_key or "")).path
    assert abs(expires_of(url) - (datetime.now(UTC) + TTL)) < timedelta(seconds=5)
    assert "download" not in parse_qs(urlsplit(url).query)  # plays inline
    for status in (MusicStatus.GENERATING, MusicStatus.FAILED, MusicStatus.CANCELED):
        music.status = status
        assert await urls(music) is None
    music.status = MusicStatus.COMPLETED
    music.expired_at = datetime.now(UTC)  # retention removed the audio
    assert await urls(music) is None


async def test_public_audio_is_the_stable_unsigned_url() -> None:
    world = World()
    music = await completed_track(world)
    url = await AudioUrls(world.blobs, TTL, public=True)(music)
    assert url == world.blobs.public_url(music.object_key or "") and "?" not in url


async def fan_out(world: World, music: Music, fan: FanOutWebhooks) -> dict[str, object]:
    now = world.clock.now()
    async with world.uow() as uow:
        endpoint = WebhookEndpoint("we1", music.user_id, "https://h.example/", [], "s", now)
        assert await uow.webhooks.add_endpoint(endpoint, limit=10)
        await uow.commit()
    async with world.uow() as uow:
        event = MusicGenerationCompleted(music.id, music.user_id, audio_url=music.audio_url or "")
        assert await fan(uow, event) == 1
        await uow.commit()
    [delivery] = world.db.deliveries.values()
    return delivery.payload["data"]  # type: ignore[no-any-return]


async def test_the_completion_webhook_carries_a_url_signed_past_its_last_retry() -> None:
    world = World()
    music = await completed_track(world)
    data = await fan_out(world, music, FanOutWebhooks(world.ids, world.clock, AudioUrls(world.blobs, TTL)))
    url = str(data["audioUrl"])
    assert url != music.audio_url and "signature=" in url  # never the stored, unsigned URL
    assert RETRY_SCHEDULE == sum(BACKOFF, timedelta()) > timedelta(hours=1)
    assert abs(expires_of(url) - (datetime.now(UTC) + TTL + RETRY_SCHEDULE)) < timedelta(seconds=5)


async def test_without_a_signer_the_webhook_carries_no_url() -> None:
    world = World()
    music = await completed_track(world)
    data = await fan_out(world, music, FanOutWebhooks(world.ids, world.clock))
    assert data["musicId"] == music.id and "audioUrl" not in data
