"""JobQueue on a taskiq broker; broker faults become :class:`QueueUnavailable`."""

from __future__ import annotations

from redis.asyncio import Redis
from taskiq import AsyncBroker
from taskiq.kicker import AsyncKicker

from songy.ports.jobs import JOB_NAME, GenerationJob, QueueUnavailable


class TaskiqJobQueue:
    def __init__(self, broker: AsyncBroker) -> None:
        self._broker = broker
        self._kicker: AsyncKicker[..., object] = AsyncKicker(task_name=JOB_NAME, broker=broker, labels={})

    async def enqueue(self, job: GenerationJob) -> None:
        try:
            await self._kicker.kiq(music_id=job.music_id, attempt=job.attempt, request_id=job.request_id)
        except Exception as exc:  # redis.ConnectionError, TimeoutError, ...: the outbox will try again
            raise QueueUnavailable(f"broker refused job {job.music_id}: {exc!r}") from exc

    async def check(self) -> None:
        pool = getattr(self._broker, "connection_pool", None)
        if pool is None:  # the in-process broker is always there
            return
        try:
            async with Redis(connection_pool=pool) as redis:
                await redis.ping()
        except Exception as exc:
            raise QueueUnavailable(f"redis: {exc!r}") from exc
