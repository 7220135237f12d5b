"""What an operator (the ``admin`` role) can do from ``/admin``: retry a FAILED track, cancel a GENERATING one,
purge old failures, pause and resume the queue's consumption. Each change locks the record and saves it on its
version, like every other change of a track, and each is logged with who did it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from songy.domain.credits import cost_of, release_credits
from songy.domain.errors import (
    FieldError,
    Forbidden,
    InsufficientCredits,
    InvalidTransition,
    MusicNotFound,
    ValidationError,
)
from songy.domain.events import MusicDeleted
from songy.domain.ids import is_id
from songy.domain.music import Music, MusicStatus
from songy.domain.user import Identity
from songy.ports.jobs import GenerationJob, JobQueue, QueueUnavailable
from songy.ports.queue_control import QueueControl
from songy.ports.repositories import UnitOfWorkFactory
from songy.ports.system import Clock

log = logging.getLogger(__name__)
PURGE_BATCH = 100
MAX_PURGE_DAYS = 3650


def require_admin(identity: Identity) -> None:
    if not identity.is_admin:
        raise Forbidden("admin role required")


class AdminRetryMusic:
    """FAILED -> GENERATING with a fresh attempt budget (``Music.retry``); its owner's credits are reserved
    again, or the retry is refused (402) when the balance no longer covers them."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, identity: Identity, music_id: str) -> Music:
        require_admin(identity)
        if not is_id(music_id):
            raise MusicNotFound()
        async with self._uow() as uow:
            music = await uow.music.get(music_id)  # locked until the commit
            if music is None:
                raise MusicNotFound()
            if music.status is not MusicStatus.FAILED:
                raise InvalidTransition(f"only a FAILED track can be retried; music {music_id} is {music.status}")
            cost = cost_of(music.length_ms)
            if not await uow.users.reserve_credits(music.user_id, cost):
                raise InsufficientCredits(f"the owner's balance does not cover the {cost} credits this track needs")
            music.retry(self._clock.now())
            music.credits_reserved = cost
            await uow.music.save(music)
            await uow.commit()
        log.info("admin %s retried music %s (%d credits reserved again)", identity.subject, music_id, cost)
        return music


class AdminCancelMusic:
    """GENERATING -> CANCELED for any user's track; its reservation goes back to its owner."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, identity: Identity, music_id: str) -> Music:
        require_admin(identity)
        if not is_id(music_id):
            raise MusicNotFound()
        async with self._uow() as uow:
            music = await uow.music.get(music_id)
            if music is None:
                raise MusicNotFound()
            if music.status is not MusicStatus.GENERATING:
                raise InvalidTransition(f"only a GENERATING track can be canceled; music {music_id} is {music.status}")
            music.cancel(self._clock.now())
            await release_credits(uow, music)
            await uow.music.save(music)
            await uow.commit()
        log.info("admin %s canceled music %s", identity.subject, music_id)
        return music


@dataclass(frozen=True)
class PurgeReport:
    purged: int
    older_than_days: float


class PurgeFailures:
    """Delete FAILED tracks whose failure is older than ``older_than_days`` (their credits went back when they
    failed). Rows are locked as they are taken, skipping any another change holds: a track being retried at that
    moment is either purged before the retry (which then finds nothing) or retried (and not purged)."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, identity: Identity, older_than_days: object) -> PurgeReport:
        require_admin(identity)
        days = _days(older_than_days)
        cutoff = self._clock.now() - timedelta(days=days)
        purged = 0
        while True:
            async with self._uow() as uow:
                batch = await uow.music.list_failed_before(cutoff, PURGE_BATCH)
                for music in batch:
                    await uow.music.delete(music.id)
                    await uow.outbox.add(
                        MusicDeleted(music.id, music.user_id, object_key=music.object_key), music.updated_at
                    )
                await uow.commit()
            purged += len(batch)
            if len(batch) < PURGE_BATCH:
                break
        log.info("admin %s purged %d FAILED tracks older than %g days", identity.subject, purged, days)
        return PurgeReport(purged, days)


def _days(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_PURGE_DAYS:
        raise ValidationError([FieldError("olderThanDays", f"a number of days from 0 to {MAX_PURGE_DAYS}")])
    return float(value)


class PauseQueue:
    """Pause (or resume) the consumption of generation jobs: while paused, workers start no attempt (jobs already
    handed to them wait; running ones finish), new jobs wait in the outbox, and the reaper leaves waiting jobs
    alone. Nothing is lost or spent: on resume everything proceeds."""

    def __init__(self, control: QueueControl) -> None:
        self._control = control

    async def __call__(self, identity: Identity, *, paused: bool) -> bool:
        require_admin(identity)
        await self._control.set_paused(paused)
        log.info("admin %s %s the queue", identity.subject, "paused" if paused else "resumed")
        return paused


class HoldWhilePaused:
    """Wraps the job handler: a job that arrives while the queue is paused waits (checking every ``poll_s``)
    before its attempt begins. A control that cannot be read does not hold jobs back."""

    def __init__(
        self, handler: Callable[[GenerationJob], Awaitable[object]], control: QueueControl, poll_s: float = 1.0
    ) -> None:
        self._handler = handler
        self._control = control
        self._poll_s = poll_s
        self.waiting = 0  # jobs held right now

    async def __call__(self, job: GenerationJob) -> object:
        if await self._paused():
            self.waiting += 1
            try:
                while True:  # a shared switch (Redis): polled, there is nothing to wait on
                    await asyncio.sleep(self._poll_s)
                    if not await self._paused():
                        break
            finally:
                self.waiting -= 1
        return await self._handler(job)

    async def _paused(self) -> bool:
        try:
            return await self._control.is_paused()
        except Exception:
            return False


class PausableJobQueue:
    """The job queue as the outbox relay sees it: refused while paused, so new jobs wait in the outbox (where the
    reaper does not count them as lost) and are handed over after the resume."""

    def __init__(self, queue: JobQueue, control: QueueControl) -> None:
        self._queue = queue
        self._control = control

    async def enqueue(self, job: GenerationJob) -> None:
        if await self._control.is_paused():
            raise QueueUnavailable("the queue is paused by an operator")
        await self._queue.enqueue(job)

    async def check(self) -> None:
        await self._queue.check()


class SkipWhilePaused:
    """Wraps a housekeeping pass (the reaper): skipped while the queue is paused, since jobs held then are not lost."""

    def __init__(self, job: Callable[[], Awaitable[object]], control: QueueControl) -> None:
        self._job = job
        self._control = control

    async def __call__(self) -> object:
        if await self._control.is_paused():
            return 0
        return await self._job()
