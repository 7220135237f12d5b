"""ProcessGeneration: the worker's steps for one attempt (render, store, complete; or retry, or fail)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from songy.domain.credits import release_credits
from songy.domain.errors import Conflict, GenerationError, TransientGenerationError
from songy.domain.events import ObjectsDiscarded
from songy.domain.music import Music, MusicStatus
from songy.domain.naming import music_object_key
from songy.ports.audio import AudioGenerator, AudioSpec, StoredAudioVerifier
from songy.ports.blobs import BlobStore, StoredBlob
from songy.ports.jobs import GenerationJob
from songy.ports.repositories import UnitOfWorkFactory
from songy.ports.system import Clock

log = logging.getLogger(__name__)
T = TypeVar("T")
KEY_CANDIDATES = 5
LEASE = timedelta(seconds=20)


class LeaseLost(Exception):
    """The running attempt no longer owns its track: canceled, deleted, or reaped after its lease ran out."""


@dataclass(frozen=True)
class RetryPolicy:
    """``max_attempts`` in all (the seed's 2), waiting ``base_delay * 2**(n-1)`` after failed attempt n."""

    max_attempts: int = 2
    base_delay: timedelta = timedelta(seconds=30)

    def delay_after(self, attempt: int) -> timedelta:
        return self.base_delay * (2 ** max(attempt - 1, 0))


class Outcome(StrEnum):
    COMPLETED = "completed"
    RETRY_SCHEDULED = "retry_scheduled"
    FAILED = "failed"
    SKIPPED = "skipped"


class ProcessGeneration:
    """Run one generation attempt. Safe under at-least-once delivery: an attempt runs at most once (a stale or
    duplicate job is skipped before any provider call), every attempt writes to the record's one object key, and a
    running attempt renews a lease on its record, so the reaper can tell a dead attempt from a slow one and the
    attempt stops as soon as its track is canceled, deleted or reaped."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        generator: AudioGenerator,
        blobs: BlobStore,
        clock: Clock,
        retry_policy: RetryPolicy,
        verifier: StoredAudioVerifier,
        *,
        lease: timedelta = LEASE,
    ) -> None:
        self._uow = uow
        self._generator = generator
        self._blobs = blobs
        self._clock = clock
        self._retry = retry_policy
        self._verifier = verifier
        self._lease = lease

    async def __call__(self, job: GenerationJob) -> Outcome:
        music = await self._begin(job)
        if music is None:
            return Outcome.SKIPPED
        assert music.object_key is not None
        spec = AudioSpec(music.prompt, music.length_ms, music.output_format, music.model_id)
        try:
            stored, metadata = await self._while_leased(job, self._store_and_verify(music, spec))
        except LeaseLost:
            return await self._abandon(job, music.object_key)
        except GenerationError as exc:
            return await self._handle_failure(job, exc)
        except Exception as exc:  # an unexpected bug must not leave the job GENERATING forever
            log.exception("unexpected error generating music %s", music.id)
            return await self._handle_failure(job, TransientGenerationError(f"internal error: {exc!r}"))
        return await self._finish(job, music.object_key, stored.url, metadata)

    async def _store_and_verify(self, music: Music, spec: AudioSpec) -> tuple[StoredBlob, dict[str, Any] | None]:
        """Stream the generator's audio into the blob store, check what was stored before it can complete, and ask
        the generator what it can tell of the track (the status ``metadata``)."""
        assert music.object_key is not None
        stored = await self._blobs.put(
            music.object_key, self._generator.generate(spec), music.output_format.content_type, _metadata(music)
        )
        await self._verifier.verify(music.object_key, spec, self._generator.tolerance)
        return stored, await asyncio.to_thread(self._generator.describe, spec)

    async def _begin(self, job: GenerationJob) -> Music | None:
        now = self._clock.now()
        for candidate in range(KEY_CANDIDATES):
            async with self._uow() as uow:
                music = await uow.music.get(job.music_id)
                if music is None or not music.can_start(job.attempt):
                    log.info(
                        "skipping job %s attempt %s: nothing to do, or it runs elsewhere", job.music_id, job.attempt
                    )
                    return None
                music.begin_attempt(job.attempt, _object_key(music, now, candidate), now, now + self._lease)
                try:
                    await uow.music.save(music)
                    await uow.commit()
                except Conflict:  # another track took this key in the same millisecond
                    continue
                return music
        raise RuntimeError(f"no free object key for music {job.music_id}")

    async def _while_leased(self, job: GenerationJob, work: Awaitable[T]) -> T:
        """Run ``work`` while renewing the attempt's lease every third of its length. The work is cancelled (and
        :class:`LeaseLost` raised) when the record says the attempt no longer owns it, or when the lease could not
        be renewed before it ran out (the database was unreachable): the reaper may then hand it to another."""
        task = asyncio.ensure_future(work)
        renewed = self._clock.now()
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=self._lease.total_seconds() / 3)
                if done:
                    return task.result()
                now = self._clock.now()
                try:
                    async with self._uow() as uow:
                        owned = await uow.music.renew_lease(job.music_id, job.attempt, now + self._lease)
                        await uow.commit()
                except Exception as exc:  # a database blip: keep going while the lease still holds
                    log.warning("could not renew the lease of music %s: %r", job.music_id, exc)
                    owned = now - renewed < self._lease
                else:
                    renewed = now if owned else renewed
                if not owned:
                    raise LeaseLost(job.music_id)
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task

    async def _abandon(self, job: GenerationJob, key: str) -> Outcome:
        """The attempt lost its track while running: whatever it stored is discarded unless the track was
        completed (by nobody else: each attempt runs once) or has moved on to a later attempt with the same key."""
        async with self._uow() as uow:
            music = await uow.music.get(job.music_id)
            if music is None or music.status in (MusicStatus.CANCELED, MusicStatus.FAILED):
                await uow.outbox.add(
                    ObjectsDiscarded(job.music_id, music.user_id if music else "", object_key=key), self._clock.now()
                )
                await uow.commit()
        log.info("music %s attempt %s stopped: the track was canceled, deleted or reaped", job.music_id, job.attempt)
        return Outcome.SKIPPED

    async def _finish(self, job: GenerationJob, key: str, audio_url: str, metadata: dict[str, Any] | None) -> Outcome:
        async with self._uow() as uow:
            music = await uow.music.get(job.music_id)
            if music is None or music.status in (MusicStatus.CANCELED, MusicStatus.FAILED):
                # canceled, deleted, or failed by a twin delivery while this one was still uploading: discard
                await uow.outbox.add(
                    ObjectsDiscarded(job.music_id, music.user_id if music else "", object_key=key), self._clock.now()
                )
                await uow.commit()
                return Outcome.SKIPPED
            if music.is_terminal or music.attempts != job.attempt:
                return Outcome.SKIPPED
            music.complete(audio_url, self._clock.now(), metadata)
            await uow.music.save(music)
            await uow.commit()
        log.info("music %s completed", job.music_id)
        return Outcome.COMPLETED

    async def _handle_failure(self, job: GenerationJob, error: GenerationError) -> Outcome:
        async with self._uow() as uow:
            music = await uow.music.get(job.music_id)
            if music is None or music.is_terminal or music.attempts != job.attempt:
                return Outcome.SKIPPED
            now = self._clock.now()
            if error.transient and job.attempt < self._retry.max_attempts:
                music.schedule_retry(error.reason, self._retry.delay_after(job.attempt), now)
                outcome = Outcome.RETRY_SCHEDULED
            else:
                music.fail(error.reason, now)
                await release_credits(uow, music)
                if music.object_key:  # what an interrupted attempt may have stored
                    await uow.outbox.add(ObjectsDiscarded(music.id, music.user_id, object_key=music.object_key), now)
                outcome = Outcome.FAILED
            await uow.music.save(music)
            await uow.commit()
        log.warning("music %s attempt %s: %s (%s)", job.music_id, job.attempt, error.reason, outcome.value)
        return outcome


def _object_key(music: Music, now: datetime, candidate: int) -> str:
    """The seed's key at ``now``, one millisecond later per collision; the last resort adds the id."""
    if candidate < KEY_CANDIDATES - 1:
        return music_object_key(now + timedelta(milliseconds=candidate), music.name, music.output_format)
    return music_object_key(now, f"{music.name}-{music.id}", music.output_format)


def _metadata(music: Music) -> dict[str, str]:
    return {
        "music-id": music.id,
        "user-id": music.user_id,
        "prompt": music.prompt,
        "model-id": music.model_id,
        "output-format": music.output_format.name,
        "length-ms": str(music.length_ms),
    }
