"""Broker construction and the ``generate-music`` task, which only calls the ProcessGeneration use case."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from taskiq import AsyncBroker, InMemoryBroker

from songy.adapters.taskiq.redis_streams import ReclaimingRedisStreamBroker
from songy.ports.jobs import JOB_NAME, QUEUE_NAME, GenerationJob

log = logging.getLogger(__name__)

JobHandler = Callable[[GenerationJob], Awaitable[object]]
CONSUMER_GROUP = "songy-workers"


def build_broker(
    redis_url: str | None, *, max_in_process_tasks: int = 4, idle_timeout_ms: int = 600_000
) -> AsyncBroker:
    """Redis streams when ``redis_url`` is set (acknowledged after the task ran, redelivered to another
    worker after ``idle_timeout_ms`` if its worker died); otherwise an in-process broker."""
    if redis_url:
        return ReclaimingRedisStreamBroker(
            redis_url,
            queue_name=QUEUE_NAME,
            consumer_group_name=CONSUMER_GROUP,
            idle_timeout=idle_timeout_ms,
            xread_block=1000,
            maxlen=100_000,
        )
    return InMemoryBroker(max_async_tasks=max_in_process_tasks, propagate_exceptions=False)


def register_generation_task(broker: AsyncBroker, handler: JobHandler) -> None:
    """Register ``generate-music`` on ``broker``, delegating to ``handler``."""

    async def generate_music(music_id: str, attempt: int = 1) -> str:
        outcome = await handler(GenerationJob(music_id, attempt))
        return str(outcome)

    broker.register_task(generate_music, task_name=JOB_NAME)
