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
    """Records GENERATING and untouched for ``deadline`` since their job was handed to the queue get another
    attempt, or FAILED when out of them. A job still waiting in the outbox (no worker has relayed it yet) is not
    lost, only late: it is left alone, so downtime of every worker does not burn attempts."""

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
            stale = await uow.music.list_stale_generating(now - self._deadline, limit)
            for music in stale:
                reason = f"no progress for {self._deadline} (worker lost or job not delivered)"
                if music.attempts < self._retry.max_attempts:
                    music.attempts = max(music.attempts, 1)
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
