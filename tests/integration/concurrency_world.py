"""Every state-changing use case wired to one PostgreSQL database, and the invariants that must hold however many
of them run at once. Used by tests/integration/test_concurrency.py."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from songy.adapters.audio_verification import DecodingAudioVerifier
from songy.adapters.memory.audio_generator import ScriptedAudioGenerator
from songy.adapters.memory.blob_store import MemoryBlobStore
from songy.adapters.memory.event_bus import InProcessEventBus
from songy.adapters.memory.job_queue import MemoryJobQueue
from songy.adapters.memory.queue_control import MemoryQueueControl
from songy.adapters.sql import tables
from songy.adapters.sql.engine import build_engine
from songy.adapters.sql.unit_of_work import SqlUnitOfWork
from songy.adapters.system import Cuid2Ids
from songy.adapters.webhook_url import WebhookUrlRules
from songy.domain.credits import cost_of
from songy.domain.errors import DomainError, PermanentGenerationError, TransientGenerationError
from songy.domain.events import (
    MusicGenerationCanceled,
    MusicGenerationCompleted,
    MusicGenerationFailed,
    MusicGenerationRequested,
)
from songy.domain.generation_request import GenerationRequest
from songy.domain.music import MusicStatus
from songy.domain.playlist import MAX_TRACKS
from songy.domain.use_cases.accounts import GrantCredits
from songy.domain.use_cases.admin_actions import (
    AdminCancelMusic,
    AdminRetryMusic,
    HoldWhilePaused,
    PauseQueue,
    PurgeFailures,
)
from songy.domain.use_cases.expire_audio import ExpireAudio
from songy.domain.use_cases.generate_music import GenerateMusic
from songy.domain.use_cases.manage_music import CancelMusic, DeleteMusic
from songy.domain.use_cases.playlists import ManagePlaylists
from songy.domain.use_cases.process_generation import Outcome, ProcessGeneration, RetryPolicy
from songy.domain.use_cases.reap_stale_generations import ReapStaleGenerations
from songy.domain.use_cases.relay_outbox import RelayOutbox
from songy.domain.use_cases.resolve_user import ResolveUser
from songy.domain.use_cases.webhook_endpoints import ManageWebhookEndpoints
from songy.domain.user import Identity
from songy.domain.webhooks import MAX_ENDPOINTS_PER_USER
from songy.ports.audio import EXACT
from songy.ports.jobs import GenerationJob

TERMINAL_EVENTS = (MusicGenerationCompleted.name, MusicGenerationFailed.name, MusicGenerationCanceled.name)
INITIAL_CREDITS = 100_000
ADMIN = Identity("ops", roles=frozenset({"admin"}))
# The domain errors each operation may answer when it loses a race or comes too late; anything else fails the run.
EXPECTED_ERRORS = {
    "MUSIC_NOT_FOUND",
    "INVALID_TRANSITION",
    "CONFLICT",
    "PLAYLIST_NOT_FOUND",
    "MUSIC_NOT_READY",
    "VALIDATION_ERROR",
    "INSUFFICIENT_CREDITS",
}


class OffsetClock:
    """Real time, shifted: the reaper and retention look from the future, so every lease has run out."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Ledger:
    """What the test knows independently of the database: credits granted, and each track's cost."""

    granted: Counter[str] = field(default_factory=Counter)
    cost: dict[str, int] = field(default_factory=dict)
    owner: dict[str, str] = field(default_factory=dict)
    revived: Counter[str] = field(default_factory=Counter)  # successful admin retries (FAILED -> GENERATING)


class ConcurrencyWorld:
    """The use cases of the API, the worker and the housekeeping passes over one PostgreSQL schema."""

    def __init__(self, url: str) -> None:
        self.engine = build_engine(url, pool_size=16)
        self.clock = OffsetClock()
        self.ids = Cuid2Ids()
        self.blobs = MemoryBlobStore()
        self.verifier = DecodingAudioVerifier(self.blobs)
        self.queue = MemoryJobQueue()
        self.ledger = Ledger()
        self.identities: list[Identity] = []
        resolve = ResolveUser(self.ids, self.clock, provision_unknown=True, initial_credits=INITIAL_CREDITS)
        retry = RetryPolicy(2, timedelta(0))
        self.generate = GenerateMusic(self.uow, resolve, self.ids, self.clock)
        self.cancel = CancelMusic(self.uow, resolve, self.clock)
        self.delete = DeleteMusic(self.uow, resolve, self.blobs)
        self.grant = GrantCredits(self.uow)
        self.playlists = ManagePlaylists(self.uow, resolve, self.ids, self.clock)
        urls = WebhookUrlRules(allow_http=True, allow_private=True)
        self.endpoints = ManageWebhookEndpoints(self.uow, resolve, self.ids, self.clock, urls)
        self.workers = {
            "complete": self._worker(ScriptedAudioGenerator()),
            "fail": self._worker(_Failing(PermanentGenerationError("the provider rejected the prompt"))),
            "transient": self._worker(_Failing(TransientGenerationError("provider 503"))),
        }
        self.control = MemoryQueueControl()
        self.admin_retry = AdminRetryMusic(self.uow, self.clock)
        self.admin_cancel = AdminCancelMusic(self.uow, self.clock)
        self.purge = PurgeFailures(self.uow, self.clock)
        self.pause = PauseQueue(self.control)
        self.held = HoldWhilePaused(self.workers["complete"], self.control, poll_s=0.01)
        self.reap = ReapStaleGenerations(self.uow, OffsetClock(timedelta(hours=1)), retry, timedelta(minutes=15))
        self.expire = ExpireAudio(self.uow, self.blobs, self.clock, timedelta(0))
        self.relay = RelayOutbox(self.uow, self.queue, InProcessEventBus(), self.clock, blobs=self.blobs)
        self._retry = retry

    def _worker(self, generator: Any) -> ProcessGeneration:
        return ProcessGeneration(
            self.uow, generator, self.blobs, self.clock, RetryPolicy(2, timedelta(0)), self.verifier
        )

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.clock.now, lambda: None)

    async def close(self) -> None:
        await self.engine.dispose()

    # ---- set-up -------------------------------------------------------------------------------------------------
    async def new_user(self) -> Identity:
        identity = Identity(f"user_{self.ids.new_id()}")
        await self.generate(identity, GenerationRequest.create(name="warm-up", prompt="p", length_ms=3000))
        self.ledger.granted[identity.subject] += INITIAL_CREDITS
        self.identities.append(identity)
        await self.refresh_ledger(identity)
        return identity

    async def new_track(
        self, identity: Identity, *, started: bool = False, completed: bool = False, failed: bool = False
    ) -> str:
        request = GenerationRequest.create(name="Song", prompt="lofi", length_ms=self._length())
        music = (await self.generate(identity, request)).music[0]
        self.ledger.cost[music.id] = cost_of(music.length_ms)
        self.ledger.owner[music.id] = identity.subject
        if completed:
            assert await self.workers["complete"](GenerationJob(music.id, 1)) is Outcome.COMPLETED
        elif failed:
            assert await self.workers["fail"](GenerationJob(music.id, 1)) is Outcome.FAILED
        elif started:
            assert await self.workers["complete"]._begin(GenerationJob(music.id, 1)) is not None
        return music.id

    def _length(self) -> int:
        return 3000 + 1000 * (len(self.ledger.cost) % 7)

    async def refresh_ledger(self, identity: Identity) -> None:
        """Record the cost of every track of ``identity`` (tracks made by operations under test included)."""
        async with self.uow() as uow:
            rows = (
                await uow.execute(
                    select(tables.music.c.id, tables.music.c.length_ms)
                    .join(tables.users, tables.users.c.id == tables.music.c.user_id)
                    .where(tables.users.c.clerk_id == identity.subject)
                )
            ).all()
        for music_id, length_ms in rows:
            self.ledger.cost.setdefault(music_id, cost_of(length_ms))
            self.ledger.owner.setdefault(music_id, identity.subject)

    # ---- operations ---------------------------------------------------------------------------------------------
    async def run(
        self, op: str, identity: Identity, music_id: str, playlist_id: str, other: str, attempt: int | None = None
    ) -> str:
        """Run one operation; its answer is ``"ok"``, an outcome, or the code of an expected domain error. A
        worker's job is for ``attempt``, or for the attempt current when the operation starts."""
        try:
            return await self._dispatch(op, identity, music_id, playlist_id, other, attempt)
        except DomainError as exc:
            if exc.code not in EXPECTED_ERRORS:
                raise
            return exc.code

    async def _dispatch(
        self, op: str, identity: Identity, music_id: str, playlist_id: str, other: str, attempt: int | None
    ) -> str:
        if op == "cancel":
            await self.cancel(identity, music_id)
        elif op == "delete":
            await self.delete(identity, music_id)
        elif op in self.workers:
            job = GenerationJob(music_id, attempt or await self._current_attempt(music_id))
            return str(await self.workers[op](job))
        elif op == "held":  # a worker's job that waits while the queue is paused
            job = GenerationJob(music_id, attempt or await self._current_attempt(music_id))
            return str(await self.held(job))
        elif op == "admin_retry":
            await self.admin_retry(ADMIN, music_id)
            self.ledger.revived[music_id] += 1
        elif op == "admin_cancel":
            await self.admin_cancel(ADMIN, music_id)
        elif op == "purge":
            return f"purged {(await self.purge(ADMIN, 0)).purged}"
        elif op in ("pause", "resume"):
            await self.pause(ADMIN, paused=op == "pause")
        elif op == "reap":
            return f"reaped {await self.reap()}"
        elif op == "expire":
            return f"expired {len(await self.expire())}"
        elif op == "generate":
            request = GenerationRequest.create(name="More", prompt="p", length_ms=self._length())
            await self.generate(identity, request)
        elif op == "grant":
            await self.grant(ADMIN, identity.subject, 7)
            self.ledger.granted[identity.subject] += 7
        elif op == "endpoint":
            await self.endpoints.register(identity, "http://127.0.0.1:9/hook", None)
        elif op == "playlist_add":
            await self.playlists.add_track(identity, playlist_id, music_id, None)
        elif op == "playlist_add_other":
            await self.playlists.add_track(identity, playlist_id, other, 0)
        elif op == "playlist_remove":
            await self.playlists.remove_track(identity, playlist_id, music_id)
        elif op == "playlist_reorder":
            playlist, _ = await self.playlists.get(identity, playlist_id)
            await self.playlists.reorder(identity, playlist_id, list(reversed(playlist.track_ids)))
        elif op == "playlist_rename":
            await self.playlists.rename(identity, playlist_id, f"renamed {self.ids.new_id()[:6]}")
        elif op == "playlist_delete":
            await self.playlists.delete(identity, playlist_id)
        else:
            raise ValueError(op)
        return "ok"

    async def _current_attempt(self, music_id: str) -> int:
        async with self.uow() as uow:
            row = (await uow.execute(select(tables.music.c.attempts).where(tables.music.c.id == music_id))).first()
        return max(1, row.attempts) if row else 1

    async def settle(self) -> None:
        """Relay every due outbox message (jobs, discards), as the background relay would."""
        while await self.relay():
            pass
        self.queue.take_all()

    # ---- invariants ---------------------------------------------------------------------------------------------
    async def snapshot(self) -> dict[str, MusicStatus]:
        async with self.uow() as uow:
            rows = (await uow.execute(select(tables.music.c.id, tables.music.c.status))).all()
        return {music_id: MusicStatus(status) for music_id, status in rows}

    async def check_invariants(self, before: dict[str, MusicStatus]) -> None:
        """Everything that must hold after any mix of operations, whatever interleaving the database chose."""
        for identity in self.identities:
            await self.refresh_ledger(identity)
        async with self.uow() as uow:
            music = (await uow.execute(select(tables.music))).all()
            users = {row.clerk_id: row for row in (await uow.execute(select(tables.users))).all()}
            outbox = (
                await uow.execute(select(tables.outbox.c.topic, tables.outbox.c.music_id).order_by(tables.outbox.c.id))
            ).all()
            endpoints = Counter(
                row.user_id for row in (await uow.execute(select(tables.webhook_endpoints.c.user_id))).all()
            )
            tracks = (await uow.execute(select(tables.playlist_tracks))).all()
            playlists = {row.id: row.user_id for row in (await uow.execute(select(tables.playlists))).all()}
        revived = self.ledger.revived  # an admin retry is the one way out of FAILED, and it starts a new life
        terminal_events = Counter(music_id for topic, music_id in outbox if topic in TERMINAL_EVENTS)
        for music_id, ends in terminal_events.items():
            assert ends <= 1 + revived[music_id], f"{music_id} ended {ends} times, retried {revived[music_id]}"
        last_event: dict[str, str] = {}
        lives = Counter[str]()
        for topic, music_id in outbox:  # in commit order (ids ascend): nothing is requested after the end
            if topic in TERMINAL_EVENTS or topic == MusicGenerationRequested.name:
                if last_event.get(music_id) in TERMINAL_EVENTS:
                    lives[music_id] += 1  # only an admin retry requests again after an end
                    assert topic == MusicGenerationRequested.name and lives[music_id] <= revived[music_id], (
                        f"{music_id}: {topic} after its end"
                    )
                last_event[music_id] = topic
        now = {row.id: MusicStatus(row.status) for row in music}
        for music_id, status in before.items():  # no transition out of a terminal state, but a retry's
            if status.is_terminal and music_id in now and now[music_id] is not status:
                assert status is MusicStatus.FAILED and revived[music_id], f"{music_id}: {status} to {now[music_id]}"
        for row in music:
            status = MusicStatus(row.status)
            expected_reserved = 0 if status in (MusicStatus.FAILED, MusicStatus.CANCELED) else self.ledger.cost[row.id]
            assert row.credits_reserved == expected_reserved, f"{row.id} {status} reserves {row.credits_reserved}"
            ends = revived[row.id] + status.is_terminal
            assert terminal_events[row.id] == ends, f"{row.id} {status} vs its events"
            if status is MusicStatus.COMPLETED and row.expired_at is None:
                assert row.object_key in self.blobs.objects, f"completed {row.id} lost its audio"
            if status in (MusicStatus.FAILED, MusicStatus.CANCELED) and row.object_key:
                assert row.object_key not in self.blobs.objects, f"{status} {row.id} kept its audio"
            assert row.lease_expires_at is None or status is MusicStatus.GENERATING
        completed = {music_id for topic, music_id in outbox if topic == MusicGenerationCompleted.name}
        for identity in self.identities:  # credits conserved exactly: balance + reserved = granted - spent
            user = users[identity.subject]
            mine = [row for row in music if row.user_id == user.id]
            reserved = sum(row.credits_reserved for row in mine if row.status == MusicStatus.GENERATING.value)
            spent = sum(
                cost
                for music_id, cost in self.ledger.cost.items()
                if music_id in completed and self.ledger.owner[music_id] == identity.subject
            )
            assert user.credits + reserved == self.ledger.granted[identity.subject] - spent, identity.subject
            assert user.credits >= 0
        assert max(endpoints.values(), default=0) <= MAX_ENDPOINTS_PER_USER, endpoints.most_common(1)
        per_playlist = Counter(track.playlist_id for track in tracks)
        assert max(per_playlist.values(), default=0) <= MAX_TRACKS
        owners = {row.id: row.user_id for row in music}
        for track in tracks:  # a playlist holds only its owner's existing tracks
            assert owners.get(track.music_id) == playlists[track.playlist_id]
        for playlist_id in per_playlist:
            positions = sorted(t.position for t in tracks if t.playlist_id == playlist_id)
            assert positions == list(range(len(positions))), f"playlist {playlist_id} positions {positions}"


class _Failing:
    """A generator whose every call fails with ``error`` after one chunk."""

    tolerance = EXACT

    def __init__(self, error: Exception) -> None:
        self._error = error

    def describe(self, spec: object) -> None:
        return None

    async def generate(self, spec: object) -> Any:
        yield b"\xff\xfb" * 64
        await asyncio.sleep(0)
        raise self._error
