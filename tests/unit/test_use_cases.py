"""The seed's flow on the in-memory adapters: generate, relay, process, status; retries and failures."""

from __future__ import annotations

from datetime import timedelta

import pytest

from songy.domain.errors import (
    MusicNotFound,
    PermanentGenerationError,
    TransientGenerationError,
    UserNotFound,
)
from songy.domain.events import MusicGenerationRequested
from songy.domain.music import MusicStatus
from songy.domain.use_cases.process_generation import Outcome
from songy.ports.jobs import GenerationJob

from .fakes import ALICE, BOB, World


async def test_generate_answers_generating_and_records_the_event_with_the_row() -> None:
    world = World()
    music_id = await world.request(length_ms=30000)
    music = await world.status(ALICE, music_id)
    assert music.status is MusicStatus.GENERATING and music.audio_url is None
    [message] = world.db.outbox.values()
    assert isinstance(message.event, MusicGenerationRequested) and message.event.music_id == music_id
    assert world.commits_with_events == 1
    assert world.queue.jobs == []  # not enqueued until the relay runs


async def test_full_flow_completes_with_stored_object_and_metadata() -> None:
    world = World()
    music_id = await world.request(name="My Awesome Song", length_ms=45000)
    assert await world.drain() == [Outcome.COMPLETED]
    music = await world.status(ALICE, music_id)
    assert music.status is MusicStatus.COMPLETED
    [key] = world.blobs.objects
    assert key == "music/2024-09-01T00-45-00-000Z_My_Awesome_Song.mp3"
    assert music.audio_url == world.blobs.public_url(key)
    blob = world.blobs.objects[key]
    assert blob.content_type == "audio/mpeg"
    assert blob.metadata["music-id"] == music_id and blob.metadata["length-ms"] == "45000"
    assert blob.metadata["user-id"] == music.user_id
    assert world.events.names() == ["music.generation.requested", "music.generation.completed"]


async def test_other_users_music_is_not_found() -> None:
    world = World()
    music_id = await world.request(ALICE)
    with pytest.raises(MusicNotFound):
        await world.status(BOB, music_id)


async def test_unknown_music_id_is_not_found() -> None:
    world = World()
    await world.request(ALICE)
    with pytest.raises(MusicNotFound):
        await world.status(ALICE, "does-not-exist")


async def test_unknown_user_is_refused_when_users_are_not_provisioned() -> None:
    world = World(provision_unknown=False)
    with pytest.raises(UserNotFound, match="User not found for clerkId"):
        await world.request(ALICE)
    assert world.db.music == {} and world.db.outbox == {}


async def test_transient_failure_is_retried_after_backoff_then_completes() -> None:
    world = World(script=[TransientGenerationError("ElevenLabs 429: rate limited")])
    music_id = await world.request()
    assert await world.drain() == [Outcome.RETRY_SCHEDULED]
    music = await world.status(ALICE, music_id)
    assert music.status is MusicStatus.GENERATING and music.failure_reason == "ElevenLabs 429: rate limited"
    world.clock.advance(timedelta(seconds=29))
    assert await world.drain() == []  # backoff not over yet
    world.clock.advance(timedelta(seconds=1))
    assert await world.drain() == [Outcome.COMPLETED]
    assert (await world.status(ALICE, music_id)).status is MusicStatus.COMPLETED
    assert len(world.blobs.objects) == 1


async def test_transient_failures_exhaust_the_attempts_and_fail_with_reason() -> None:
    world = World(script=[TransientGenerationError("503 upstream"), TransientGenerationError("timeout")])
    music_id = await world.request()
    await world.drain()
    world.clock.advance(timedelta(seconds=30))
    assert await world.drain() == [Outcome.FAILED]
    music = await world.status(ALICE, music_id)
    assert music.status is MusicStatus.FAILED and music.failure_reason == "timeout"
    assert world.events.names()[-1] == "music.generation.failed"
    assert world.blobs.objects == {}


async def test_backoff_grows_exponentially() -> None:
    world = World(script=[TransientGenerationError("a"), TransientGenerationError("b")])
    world.process._retry = world.retry = type(world.retry)(3, timedelta(seconds=30))
    await world.request()
    await world.drain()
    world.clock.advance(timedelta(seconds=30))
    assert await world.drain() == [Outcome.RETRY_SCHEDULED]
    world.clock.advance(timedelta(seconds=59))
    assert await world.drain() == []
    world.clock.advance(timedelta(seconds=1))
    assert await world.drain() == [Outcome.COMPLETED]


async def test_permanent_failure_fails_at_once() -> None:
    world = World(script=[PermanentGenerationError("ElevenLabs rejected the prompt: bad_prompt")])
    music_id = await world.request()
    assert await world.drain() == [Outcome.FAILED]
    music = await world.status(ALICE, music_id)
    assert music.status is MusicStatus.FAILED
    assert music.failure_reason == "ElevenLabs rejected the prompt: bad_prompt"


async def test_unexpected_exception_never_leaves_the_job_generating() -> None:
    world = World(script=[RuntimeError("boom"), RuntimeError("boom again")])
    music_id = await world.request()
    await world.drain()
    world.clock.advance(timedelta(minutes=1))
    await world.drain()
    music = await world.status(ALICE, music_id)
    assert music.status is MusicStatus.FAILED and "boom again" in (music.failure_reason or "")


async def test_redelivered_job_after_completion_is_skipped() -> None:
    world = World()
    music_id = await world.request()
    await world.drain()
    assert await world.process(GenerationJob(music_id, 1)) == Outcome.SKIPPED
    assert world.blobs.puts == 1


async def _killed_after_start(world: World) -> tuple[GenerationJob, str]:
    """Relay the first job and start it; its worker then dies (the lease is never renewed). Returns the job and
    the object key the attempt fixed."""
    await world.relay()
    [job] = world.queue.take_all()
    music = await world.process._begin(job)
    assert music is not None and music.object_key
    return job, music.object_key


async def _reaped_retry(world: World) -> GenerationJob:
    """Let the dead attempt's lease run out, reap it, and relay the retry it schedules."""
    world.clock.advance(timedelta(seconds=31))
    assert await world.reap() == 1
    await world.relay()
    [retry] = world.queue.take_all()
    return retry


async def test_an_attempt_whose_worker_died_is_retried_on_the_same_object_key() -> None:
    world = World()
    music_id = await world.request()
    job, first_key = await _killed_after_start(world)
    assert await world.process(job) == Outcome.SKIPPED  # a redelivery never runs beside a possibly live attempt
    assert world.generator.calls == []
    retry = await _reaped_retry(world)
    assert retry.attempt == 2
    assert await world.process(retry) == Outcome.COMPLETED
    assert list(world.blobs.objects) == [first_key]
    assert (await world.status(ALICE, music_id)).status is MusicStatus.COMPLETED


async def test_a_live_attempt_renewing_its_lease_is_never_reaped() -> None:
    world = World()
    music_id = await world.request()
    job, _ = await _killed_after_start(world)
    for _ in range(10):  # five minutes of a render that keeps renewing
        world.clock.advance(timedelta(seconds=29))
        async with world.uow() as uow:
            assert await uow.music.renew_lease(music_id, job.attempt, world.clock.now() + timedelta(seconds=30))
            await uow.commit()
        assert await world.reap() == 0


async def test_stale_attempt_is_skipped() -> None:
    world = World(script=[TransientGenerationError("429")])
    music_id = await world.request()
    await world.drain()
    world.clock.advance(timedelta(seconds=30))
    await world.drain()
    assert await world.process(GenerationJob(music_id, 1)) == Outcome.SKIPPED


async def test_queue_outage_delays_but_never_loses_the_job() -> None:
    world = World()
    music_id = await world.request()
    world.queue.available = False
    assert await world.relay() == 0
    world.queue.available = True
    assert await world.relay() == 0  # postponed with backoff
    world.clock.advance(timedelta(seconds=1))
    assert await world.drain() == [Outcome.COMPLETED]
    assert (await world.status(ALICE, music_id)).status is MusicStatus.COMPLETED


async def test_reaper_retries_then_fails_a_lost_job() -> None:
    world = World()
    music_id = await world.request()
    await world.relay()
    world.queue.take_all()  # the job is lost with its broker
    world.clock.advance(timedelta(minutes=16))
    assert await world.reap() == 1
    assert await world.drain() == [Outcome.COMPLETED]
    assert (await world.status(ALICE, music_id)).status is MusicStatus.COMPLETED


async def test_every_worker_down_for_an_hour_burns_no_attempt() -> None:
    """Nothing relays while every worker is down: the jobs wait in the outbox, late but not lost. The reaper
    leaves them alone, then and right after the relay hands them over, and each completes on its first attempt."""
    world = World()
    ids = [await world.request() for _ in range(3)]
    world.clock.advance(timedelta(hours=1))
    assert await world.reap() == 0
    assert await world.relay() == 3
    assert await world.reap() == 0  # handed over just now
    assert await world.drain() == [Outcome.COMPLETED] * 3
    for music_id in ids:
        music = await world.status(ALICE, music_id)
        assert music.status is MusicStatus.COMPLETED and music.attempts == 1


async def test_reaper_fails_a_record_out_of_attempts() -> None:
    world = World()
    music_id = await world.request()
    await world.relay()
    [job] = world.queue.take_all()
    await world.process._begin(job)
    world.clock.advance(timedelta(minutes=16))
    await world.reap()
    await world.relay()
    [retry] = world.queue.take_all()
    await world.process._begin(retry)
    world.clock.advance(timedelta(minutes=16))
    await world.reap()
    music = await world.status(ALICE, music_id)
    assert music.status is MusicStatus.FAILED and "stopped renewing its lease" in (music.failure_reason or "")


async def test_pruning_keeps_pending_and_recent_messages() -> None:
    from songy.domain.use_cases.prune_outbox import PruneOutbox

    world = World()
    await world.request()
    await world.drain()
    prune = PruneOutbox(world.uow, world.clock, timedelta(hours=24))
    assert await prune() == 0
    world.clock.advance(timedelta(hours=25))
    assert await prune() == 2  # requested + completed, both published a day ago
    assert world.db.outbox == {}


async def test_same_name_in_the_same_millisecond_gets_distinct_keys() -> None:
    world = World()
    ids = [await world.request(name="Same Song") for _ in range(6)]
    assert await world.drain() == [Outcome.COMPLETED] * 6
    keys = set(world.blobs.objects)
    assert len(keys) == 6
    assert {f"music/2024-09-01T00-45-00-00{i}Z_Same_Song.mp3" for i in range(4)} <= keys
    fallbacks = keys - {f"music/2024-09-01T00-45-00-00{i}Z_Same_Song.mp3" for i in range(4)}
    assert {k.removeprefix("music/2024-09-01T00-45-00-000Z_Same_Song-")[:-4] for k in fallbacks} <= set(ids)


async def test_canceled_while_rendering_discards_the_object() -> None:
    from songy.domain.use_cases.manage_music import CancelMusic
    from songy.ports.audio import AudioSpec

    world = World()
    music_id = await world.request()
    await world.relay()
    [job] = world.queue.take_all()
    music = await world.process._begin(job)
    assert music is not None
    await CancelMusic(world.uow, world.status._resolve_user, world.clock)(ALICE, music_id)
    spec = AudioSpec(music.prompt, music.length_ms, music.output_format, music.model_id)
    await world.blobs.put(music.object_key or "", world.generator.generate(spec), "audio/mpeg", {})
    assert await world.process._finish(job, music.object_key or "", "url", None) == Outcome.SKIPPED
    await world.relay()  # the discard is a durable outbox event
    assert world.blobs.objects == {}
    assert (await world.status(ALICE, music_id)).status is MusicStatus.CANCELED


async def test_final_failure_removes_what_an_interrupted_attempt_stored() -> None:
    world = World(script=[PermanentGenerationError("bad_prompt")])
    music_id = await world.request()
    _, key = await _killed_after_start(world)
    from songy.adapters.memory.blob_store import MemoryBlob

    world.blobs.objects[key] = MemoryBlob(b"partial", "audio/mpeg", {})  # a killed attempt's upload
    assert await world.process(await _reaped_retry(world)) == Outcome.FAILED
    await world.relay()  # the discard is a durable outbox event
    assert world.blobs.objects == {}
    assert (await world.status(ALICE, music_id)).status is MusicStatus.FAILED


async def test_a_discard_that_fails_is_retried_until_the_object_is_gone() -> None:
    from songy.adapters.memory.blob_store import MemoryBlob

    world = World(script=[PermanentGenerationError("bad_prompt")])
    await world.request()
    _, key = await _killed_after_start(world)
    world.blobs.objects[key] = MemoryBlob(b"partial", "audio/mpeg", {})
    assert await world.process(await _reaped_retry(world)) == Outcome.FAILED
    real_delete = world.blobs.delete

    async def broken(key: str) -> None:
        raise TransientGenerationError("S3 503 SlowDown")

    world.blobs.delete = broken  # type: ignore[method-assign]
    await world.relay()
    assert key in world.blobs.objects  # not gone yet, and not forgotten
    world.blobs.delete = real_delete  # type: ignore[method-assign]
    world.clock.advance(timedelta(seconds=1))
    await world.relay()
    assert world.blobs.objects == {}
