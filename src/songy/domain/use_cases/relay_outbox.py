"""RelayOutbox: publish due outbox events (jobs to the queue, outcomes to subscribers), never losing one."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from songy.domain.events import DomainEvent, MusicDeleted, MusicGenerationRequested, ObjectsDiscarded
from songy.domain.use_cases.manage_music import discard_objects
from songy.ports.blobs import BlobStore
from songy.ports.events import EventPublisher
from songy.ports.jobs import GenerationJob, JobQueue
from songy.ports.repositories import OutboxMessage, UnitOfWork, UnitOfWorkFactory
from songy.ports.system import Clock

log = logging.getLogger(__name__)


class RelayOutbox:
    """One pass over the due outbox messages. A message whose publication fails stays, with backoff."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        queue: JobQueue,
        publisher: EventPublisher,
        clock: Clock,
        *,
        batch_size: int = 100,
        max_backoff: timedelta = timedelta(seconds=30),
        fan_out: Callable[[UnitOfWork, DomainEvent], Awaitable[int]] | None = None,
        blobs: BlobStore | None = None,
    ) -> None:
        self._uow = uow
        self._queue = queue
        self._publisher = publisher
        self._clock = clock
        self._batch_size = batch_size
        self._max_backoff = max_backoff
        self._fan_out = fan_out
        self._blobs = blobs

    async def __call__(self) -> int:
        """Publish what is due; return how many messages were published."""
        published: list[int] = []
        async with self._uow() as uow:
            for message in await uow.outbox.claim_due(self._clock.now(), self._batch_size):
                try:
                    await self._dispatch(message)
                except Exception as exc:
                    delay = min(timedelta(seconds=0.5) * 2**message.attempts, self._max_backoff)
                    log.warning("outbox message %s not published (%r); retrying in %s", message.id, exc, delay)
                    await uow.outbox.postpone(message.id, self._clock.now() + delay, repr(exc))
                    continue
                if self._fan_out is not None:  # webhook deliveries are born in the same transaction
                    await self._fan_out(uow, message.event)
                published.append(message.id)
            await uow.outbox.mark_published(published, self._clock.now())
            await uow.commit()
        return len(published)

    async def _dispatch(self, message: OutboxMessage) -> None:
        event = message.event
        if isinstance(event, MusicGenerationRequested):
            await self._queue.enqueue(GenerationJob(event.music_id, event.attempt, message.request_id))
        key = event.object_key if isinstance(event, ObjectsDiscarded | MusicDeleted) else None
        if key and self._blobs is not None:  # raises on a storage fault: the message stays and is retried
            await discard_objects(self._blobs, key)
        await self._publisher.publish(event)
