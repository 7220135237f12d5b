"""JobQueue on a taskiq broker; broker faults become :class:`QueueUnavailable`."""

from __future__ import annotations

from taskiq import AsyncBroker
from taskiq.kicker import AsyncKicker

from songy.ports.jobs import JOB_NAME, GenerationJob, QueueUnavailable


class TaskiqJobQueue:
    def __init__(self, broker: AsyncBroker) -> None:
        self._kicker: AsyncKicker[..., object] = AsyncKicker(task_name=JOB_NAME, broker=broker, labels={})

    async def enqueue(self, job: GenerationJob) -> None:
        try:
            await self._kicker.kiq(music_id=job.music_id, attempt=job.attempt)
        except Exception as exc:  # redis.ConnectionError, TimeoutError, ...: the outbox will try again
            raise QueueUnavailable(f"broker refused job {job.music_id}: {exc!r}") from exc
