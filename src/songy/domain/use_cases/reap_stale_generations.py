"""ReapStaleGenerations: nothing stays GENERATING forever when a worker or a message is lost."""

from __future__ import annotations

import logging
from datetime import timedelta

from songy.domain.credits import release_credits
from songy.domain.events import ObjectsDiscarded
from songy.domain.use_cases.process_generation import RetryPolicy
from songy.ports.repositories import UnitOfWorkFactory
from songy.ports.system import Clock

log = logging.getLogger(__name__)


class ReapStaleGenerations:
    """GENERATING records whose attempt died (it stopped renewing its lease: its worker was killed) or whose job
    was lost (handed to the queue ``deadline`` ago and never started) get another attempt, or FAILED when out of
    them. A live attempt renews its lease, so a render of any length is never reaped; a job still waiting in the
    outbox (no worker has relayed it yet) is not lost, only late: it is left alone, so downtime of every worker
    does not burn attempts."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        retry_policy: RetryPolicy,
        deadline: timedelta,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._retry = retry_policy
        self._deadline = deadline

    async def __call__(self, limit: int = 100) -> int:
        """Reap one batch; return how many records were re-enqueued or failed."""
        now = self._clock.now()
        async with self._uow() as uow:
            stale = await uow.music.list_stale_generating(now - self._deadline, now, limit)
            for music in stale:
                if music.lease_expired(now):
                    reason = f"attempt {music.attempts} stopped renewing its lease (its worker died)"
                else:
                    reason = f"the job was not picked up within {self._deadline} (lost before a worker started it)"
                if music.attempts < self._retry.max_attempts:
                    music.schedule_retry(reason, timedelta(0), now)
                else:
                    music.fail(reason, now)
                    await release_credits(uow, music)
                    if music.object_key:
                        discard = ObjectsDiscarded(music.id, music.user_id, object_key=music.object_key)
                        await uow.outbox.add(discard, now)
                await uow.music.save(music)
                log.warning("reaped stale music %s (attempts=%s)", music.id, music.attempts)
            await uow.commit()
        return len(stale)

    async def requeue_lost_queue(self, limit: int = 1000) -> int:
        """After a restart of a process whose queue lived in its memory: every job handed to that queue and not
        started is asked for again, at once and without spending an attempt. (Attempts that had started are
        reaped as usual once their lease runs out.) Returns how many."""
        now = self._clock.now()
        async with self._uow() as uow:
            lost = [m for m in await uow.music.list_stale_generating(now, now, limit) if m.lease_expires_at is None]
            for music in lost:
                music.request_again(now)
                await uow.music.save(music)
            await uow.commit()
        if lost:
            log.warning("requeued %d jobs lost with the previous process's in-memory queue", len(lost))
        return len(lost)
