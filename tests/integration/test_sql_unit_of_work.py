"""The SQL unit of work against SQLite and PostgreSQL: the same contract as the in-memory one."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from songy.adapters.memory.system import FixedClock
from songy.adapters.sql.engine import build_engine, reader_engine
from songy.adapters.sql.unit_of_work import SqlUnitOfWork
from songy.domain.errors import Conflict, DatabaseUnavailable
from songy.domain.events import MusicGenerationRequested
from songy.domain.generation_request import GenerationRequest
from songy.domain.music import Music, MusicStatus
from songy.domain.user import User
from songy.domain.webhooks import WebhookDelivery, WebhookEndpoint
from tests.support.postgres import BASE_URL

pytestmark = pytest.mark.integration

T0 = datetime(2024, 9, 1, 0, 45, 0, 123000, tzinfo=UTC)


class Harness:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.clock = FixedClock(T0)
        self.nudges = 0

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.clock.now, self._nudge)

    def _nudge(self) -> None:
        self.nudges += 1

    async def seed_user(self, clerk_id: str = "user_a") -> User:
        user = User(f"u_{clerk_id}", clerk_id, f"{clerk_id}@example.com", "A", T0, T0)
        async with self.uow() as uow:
            await uow.users.add(user)
            await uow.commit()
        return user

    async def new_music(self, user: User, music_id: str = "m1") -> Music:
        music = Music.request(
            music_id=music_id,
            user_id=user.id,
            request=GenerationRequest.create(name="Song", prompt="lofi", output_format="pcm_16000"),
            now=T0,
        )
        async with self.uow() as uow:
            await uow.music.add(music)
            await uow.commit()
        return music


@pytest.fixture
def harness(sql_engine: AsyncEngine) -> Harness:
    return Harness(sql_engine)


async def test_music_round_trips_with_aware_timestamps(harness: Harness) -> None:
    user = await harness.seed_user()
    await harness.new_music(user)
    async with harness.uow() as uow:
        music = await uow.music.get("m1")
    assert music is not None
    assert (music.name, music.prompt, music.output_format.name, music.status) == (
        "Song",
        "lofi",
        "pcm_16000",
        MusicStatus.GENERATING,
    )
    assert music.created_at == T0 and music.created_at.tzinfo is not None


async def test_row_and_event_commit_together(harness: Harness) -> None:
    user = await harness.seed_user()
    await harness.new_music(user)
    assert harness.nudges == 1
    async with harness.uow() as uow:
        [message] = await uow.outbox.claim_due(T0, 10)
        assert isinstance(message.event, MusicGenerationRequested)
        assert message.event.music_id == "m1" and message.event.attempt == 1


async def test_rollback_keeps_neither_row_nor_event(harness: Harness) -> None:
    user = await harness.seed_user()
    music = Music.request(
        music_id="m2", user_id=user.id, request=GenerationRequest.create(name="n", prompt="p"), now=T0
    )
    async with harness.uow() as uow:
        await uow.music.add(music)
    async with harness.uow() as uow:
        assert await uow.music.get("m2") is None
        assert await uow.outbox.pending_count() == 0


async def test_music_needs_an_existing_user(harness: Harness) -> None:
    ghost = User("nobody", "c", None, None, T0, T0)
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        await harness.new_music(ghost)


async def test_get_owned_isolates_users(harness: Harness) -> None:
    alice, bob = await harness.seed_user("a"), await harness.seed_user("b")
    await harness.new_music(alice)
    async with harness.uow() as uow:
        assert await uow.music.get_owned("m1", alice.id) is not None
        assert await uow.music.get_owned("m1", bob.id) is None


async def test_delayed_events_are_not_due_early(harness: Harness) -> None:
    user = await harness.seed_user()
    await harness.new_music(user)
    async with harness.uow() as uow:
        music = await uow.music.get("m1")
        assert music is not None
        music.begin_attempt(1, "music/k.pcm", T0, T0 + timedelta(seconds=30))
        music.schedule_retry("429", timedelta(seconds=30), T0)
        await uow.music.save(music)
        await uow.commit()
    async with harness.uow() as uow:
        [first] = await uow.outbox.claim_due(T0, 10)
        await uow.outbox.mark_published([first.id], T0)
        await uow.commit()
    async with harness.uow() as uow:
        assert await uow.outbox.claim_due(T0 + timedelta(seconds=29), 10) == []
        [retry] = await uow.outbox.claim_due(T0 + timedelta(seconds=30), 10)
        assert isinstance(retry.event, MusicGenerationRequested) and retry.event.attempt == 2


async def test_postponed_message_counts_attempts(harness: Harness) -> None:
    user = await harness.seed_user()
    await harness.new_music(user)
    async with harness.uow() as uow:
        [message] = await uow.outbox.claim_due(T0, 10)
        await uow.outbox.postpone(message.id, T0 + timedelta(seconds=1), "redis down")
        await uow.commit()
    async with harness.uow() as uow:
        assert await uow.outbox.claim_due(T0, 10) == []
        [again] = await uow.outbox.claim_due(T0 + timedelta(seconds=1), 10)
        assert again.attempts == 1


async def test_stale_means_untouched_since_the_job_was_handed_to_the_queue(harness: Harness) -> None:
    user = await harness.seed_user()
    await harness.new_music(user, "old")
    later = T0 + timedelta(minutes=1)
    async with harness.uow() as uow:  # its job still waits in the outbox (no relay ran): late, not lost
        assert await uow.music.list_stale_generating(later, later, 10) == []
        [message] = await uow.outbox.claim_due(T0, 10)
        await uow.outbox.mark_published([message.id], T0)
        await uow.commit()
    async with harness.uow() as uow:
        assert [m.id for m in await uow.music.list_stale_generating(later, later, 10)] == ["old"]
        assert await uow.music.list_stale_generating(T0, later, 10) == []  # handed over at T0: not stale since T0


async def test_stale_means_a_dead_attempt_whose_lease_ran_out(harness: Harness) -> None:
    user = await harness.seed_user()
    await harness.new_music(user, "running")
    async with harness.uow() as uow:
        music = await uow.music.get("running")
        assert music is not None
        music.begin_attempt(1, "music/running.mp3", T0, T0 + timedelta(seconds=30))
        await uow.music.save(music)
        await uow.commit()
    long_ago = T0 - timedelta(hours=1)  # however long the job has been out, a live lease is not stale
    async with harness.uow() as uow:
        assert await uow.music.list_stale_generating(long_ago, T0 + timedelta(seconds=29), 10) == []
        assert await uow.music.renew_lease("running", 1, T0 + timedelta(seconds=60))
        assert not await uow.music.renew_lease("running", 2, T0 + timedelta(seconds=60))  # not that attempt's
        await uow.commit()
    async with harness.uow() as uow:
        assert await uow.music.list_stale_generating(long_ago, T0 + timedelta(seconds=59), 10) == []
        [dead] = await uow.music.list_stale_generating(long_ago, T0 + timedelta(seconds=60), 10)
        assert dead.id == "running" and dead.lease_expired(T0 + timedelta(seconds=60))


async def test_a_save_that_lost_a_race_raises_conflict_and_writes_nothing(harness: Harness) -> None:
    user = await harness.seed_user()
    await harness.new_music(user)
    async with harness.uow() as first:
        stale = await first.music.get_owned("m1", user.id)
    async with harness.uow() as second:
        winner = await second.music.get_owned("m1", user.id)
        assert winner is not None
        winner.complete("https://audio/m1", T0)
        await second.music.save(winner)
        await second.commit()
    async with harness.uow() as late:
        assert stale is not None
        stale.cancel(T0)
        with pytest.raises(Conflict):
            await late.music.save(stale)
    async with harness.uow() as uow:
        music = await uow.music.get_owned("m1", user.id)
        assert music is not None and music.status is MusicStatus.COMPLETED and music.version == winner.version


async def test_concurrent_writers_do_not_fail(harness: Harness) -> None:
    user = await harness.seed_user()

    async def write(i: int) -> None:
        await harness.new_music(user, f"m{i}")

    await asyncio.gather(*(write(i) for i in range(20)))
    async with harness.uow() as uow:
        assert await uow.outbox.pending_count() == 20


async def test_inbox_accepts_a_message_id_once(harness: Harness) -> None:
    async with harness.uow() as uow:
        assert await uow.inbox.add_if_new("msg_1", "clerk", T0) is True
        assert await uow.inbox.add_if_new("msg_1", "clerk", T0) is False
        assert await uow.inbox.add_if_new("msg_1", "other", T0) is True
        await uow.commit()
    async with harness.uow() as uow:
        assert await uow.inbox.add_if_new("msg_1", "clerk", T0) is False


async def test_user_soft_delete_round_trips(harness: Harness) -> None:
    user = await harness.seed_user("c1")
    async with harness.uow() as uow:
        loaded = await uow.users.get_by_clerk_id("c1")
        assert loaded is not None and not loaded.is_deleted
        loaded.deleted_at = T0 + timedelta(hours=1)
        await uow.users.save(loaded)
        await uow.commit()
    async with harness.uow() as uow:
        again = await uow.users.get_by_clerk_id("c1")
        assert again is not None and again.id == user.id and again.deleted_at == T0 + timedelta(hours=1)


async def test_published_messages_are_pruned_after_they_age(harness: Harness) -> None:
    user = await harness.seed_user()
    await harness.new_music(user, "a")
    await harness.new_music(user, "b")
    async with harness.uow() as uow:
        first, second = await uow.outbox.claim_due(T0, 10)
        await uow.outbox.mark_published([first.id], T0)
        await uow.commit()
    async with harness.uow() as uow:
        assert await uow.outbox.prune_published(T0) == 0
        assert await uow.outbox.prune_published(T0 + timedelta(seconds=1)) == 1
        await uow.commit()
    async with harness.uow() as uow:
        assert [m.id for m in await uow.outbox.claim_due(T0, 10)] == [second.id]


async def test_playlist_round_trip_and_cascade_on_music_delete(harness: Harness) -> None:
    from songy.domain.playlist import Playlist

    user = await harness.seed_user()
    await harness.new_music(user, "a")
    await harness.new_music(user, "b")
    async with harness.uow() as uow:
        await uow.playlists.add(Playlist("p1", user.id, "Mix", T0, T0, ["b", "a"]))
        await uow.commit()
    async with harness.uow() as uow:
        playlist = await uow.playlists.get_owned("p1", user.id)
        assert playlist is not None and playlist.track_ids == ["b", "a"]
        assert await uow.playlists.get_owned("p1", "someone-else") is None
        await uow.music.delete("b")
        await uow.commit()
    async with harness.uow() as uow:
        [listed] = await uow.playlists.list_for_user(user.id)
        assert listed.track_ids == ["a"]


async def test_same_name_same_millisecond_gets_distinct_keys_on_sql(harness: Harness) -> None:
    from songy.adapters.audio_verification import DecodingAudioVerifier
    from songy.adapters.memory.audio_generator import ScriptedAudioGenerator
    from songy.adapters.memory.blob_store import MemoryBlobStore
    from songy.domain.use_cases.process_generation import Outcome, ProcessGeneration, RetryPolicy
    from songy.ports.jobs import GenerationJob

    user = await harness.seed_user()
    for music_id in ("k1", "k2", "k3"):
        await harness.new_music(user, music_id)
    blobs = MemoryBlobStore()
    process = ProcessGeneration(
        harness.uow, ScriptedAudioGenerator(), blobs, harness.clock, RetryPolicy(), DecodingAudioVerifier(blobs)
    )
    outcomes = [await process(GenerationJob(music_id, 1)) for music_id in ("k1", "k2", "k3")]
    assert outcomes == [Outcome.COMPLETED] * 3
    assert len(set(blobs.objects)) == 3


async def test_owned_by_clerk_id_is_one_lookup_that_isolates_users(harness: Harness) -> None:
    owner, other = await harness.seed_user("user_a"), await harness.seed_user("user_b")
    await harness.new_music(owner)
    reads = SqlUnitOfWork(reader_engine(harness.engine), harness.clock.now, harness._nudge, read_only=True)
    async with reads as uow:
        found = await uow.music.get_owned_by_clerk_id("m1", "user_a")
        assert await uow.music.get_owned_by_clerk_id("m1", other.clerk_id) is None
        assert await uow.music.get_owned_by_clerk_id("m1", "nobody") is None
    assert found is not None and found.user_id == owner.id
    async with harness.uow() as uow:
        user = await uow.users.get_by_clerk_id("user_a")
        assert user is not None
        await uow.users.save(replace(user, deleted_at=T0))
        await uow.commit()
    async with reads as uow:
        assert await uow.music.get_owned_by_clerk_id("m1", "user_a") is None  # a deleted user owns nothing


async def _backend_pid(uow: SqlUnitOfWork) -> int:
    return int((await uow.execute(text("SELECT pg_backend_pid()"))).scalar_one())


def _terminate(pid: int) -> None:
    with psycopg.connect(BASE_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


@pytest.mark.parametrize("read_only", [False, True])
async def test_a_pooled_connection_the_server_dropped_is_replaced(postgres_url: str, read_only: bool) -> None:
    engine = build_engine(postgres_url, pool_size=1)
    harness = Harness(engine)
    try:
        user = await harness.seed_user()
        await harness.new_music(user)
        async with harness.uow() as uow:
            pid = await _backend_pid(uow)
        _terminate(pid)  # e.g. a database restart or an idle timeout while the connection sat in the pool
        target = reader_engine(engine) if read_only else engine
        async with SqlUnitOfWork(target, harness.clock.now, harness._nudge, read_only=read_only) as uow:
            music = await uow.music.get_owned_by_clerk_id("m1", "user_a")
            assert await _backend_pid(uow) != pid
        assert music is not None and music.id == "m1"
    finally:
        await engine.dispose()


async def test_a_connection_lost_mid_transaction_is_unavailable_not_retried(postgres_url: str) -> None:
    engine = build_engine(postgres_url, pool_size=1)
    harness = Harness(engine)
    try:
        await harness.seed_user()
        async with harness.uow() as uow:
            pid = await _backend_pid(uow)
            _terminate(pid)
            with pytest.raises(DatabaseUnavailable):
                await uow.users.get_by_clerk_id("user_a")
        async with harness.uow() as uow:  # the pool recovers for the next unit of work
            assert await uow.users.get_by_clerk_id("user_a") is not None
    finally:
        await engine.dispose()


async def test_an_unreachable_database_is_unavailable() -> None:
    engine = build_engine("postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2")
    try:
        with pytest.raises(DatabaseUnavailable):
            async with SqlUnitOfWork(engine, datetime.now, lambda: None):
                pass
    finally:
        await engine.dispose()


async def test_credits_are_reserved_only_from_a_live_user_who_has_them(harness: Harness) -> None:
    rich = await harness.seed_user("user_rich")
    async with harness.uow() as uow:
        await uow.users.add_credits(rich.id, 100)
        await uow.commit()
    async with harness.uow() as uow:
        assert await uow.users.reserve_credits(rich.id, 60) is True
        assert await uow.users.reserve_credits(rich.id, 41) is False  # 40 left: nothing taken
        await uow.commit()
    async with harness.uow() as uow:
        user = await uow.users.get_by_clerk_id("user_rich")
        assert user is not None and user.credits == 40
        await uow.users.save(replace(user, deleted_at=T0))
        await uow.commit()
    async with harness.uow() as uow:
        assert await uow.users.reserve_credits(rich.id, 1) is False  # deleted users buy nothing


async def test_due_deliveries_are_the_oldest_of_each_endpoint_not_busy(harness: Harness) -> None:
    user = await harness.seed_user()
    async with harness.uow() as uow:
        for name in ("e1", "e2", "e3"):
            endpoint = WebhookEndpoint(name, user.id, f"https://h.example/{name}", [], "whsec_x", T0)
            assert await uow.webhooks.add_endpoint(endpoint, limit=10)
        for n, (endpoint_id, age) in enumerate([("e1", 9), ("e1", 8), ("e1", 7), ("e2", 3), ("e3", 5), ("e3", 1)]):
            at = T0 - timedelta(seconds=age)
            delivery = WebhookDelivery(f"d{n}", endpoint_id, user.id, "music.generation.completed", {}, at, at)
            await uow.webhooks.add_delivery(delivery)
        await uow.commit()
    async with harness.uow() as uow:
        due = await uow.webhooks.due_deliveries(T0, 10)
        assert [(d.endpoint_id, d.id) for d in due] == [("e1", "d0"), ("e3", "d4"), ("e2", "d3")]
        assert [d.id for d in await uow.webhooks.due_deliveries(T0, 1)] == ["d0"]
        busy = await uow.webhooks.due_deliveries(T0, 10, busy_endpoints=frozenset({"e1", "e3"}))
        assert [d.id for d in busy] == ["d3"]
        assert await uow.webhooks.due_deliveries(T0 - timedelta(seconds=10), 10) == []
