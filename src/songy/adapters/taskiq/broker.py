"""Broker construction and the ``generate-music`` task, which only calls the ProcessGeneration use case."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

import structlog
from taskiq import AsyncBroker, InMemoryBroker

from songy.adapters.taskiq.job_records import (
    JobRecordMiddleware,
    JobRecordStore,
    MemoryJobRecordStore,
    RedisJobRecordStore,
)
from songy.adapters.taskiq.metrics import JobMetricsMiddleware
from songy.adapters.taskiq.redis_streams import ReclaimingRedisStreamBroker
from songy.ports.jobs import JOB_NAME, QUEUE_NAME, GenerationJob

log = logging.getLogger(__name__)

JobHandler = Callable[[GenerationJob], Awaitable[object]]
CONSUMER_GROUP = "songy-workers"
COMPLETED_TTL = timedelta(hours=2)
FAILED_TTL = timedelta(hours=24)


def build_broker(
    redis_url: str | None,
    *,
    max_in_process_tasks: int = 4,
    idle_timeout_ms: int = 600_000,
    completed_ttl: timedelta = COMPLETED_TTL,
    failed_ttl: timedelta = FAILED_TTL,
) -> AsyncBroker:
    """Redis streams when ``redis_url`` is set (acknowledged after the task ran, redelivered to another
    worker after ``idle_timeout_ms`` if its worker died); otherwise an in-process broker. Either way, job
    records are kept ``completed_ttl`` / ``failed_ttl``."""
    broker: AsyncBroker
    if redis_url:
        broker = ReclaimingRedisStreamBroker(
            redis_url,
            queue_name=QUEUE_NAME,
            consumer_group_name=CONSUMER_GROUP,
            idle_timeout=idle_timeout_ms,
            xread_block=1000,
            maxlen=100_000,
        )
        store: JobRecordStore = RedisJobRecordStore(redis_url)
    else:
        broker = InMemoryBroker(max_async_tasks=max_in_process_tasks, propagate_exceptions=False)
        store = MemoryJobRecordStore()
    return broker.with_middlewares(
        JobRecordMiddleware(store, completed_ttl=completed_ttl, failed_ttl=failed_ttl), JobMetricsMiddleware()
    )


def job_records(broker: AsyncBroker) -> JobRecordStore:
    """The job record store of a broker built by :func:`build_broker`."""
    return next(m.store for m in broker.middlewares if isinstance(m, JobRecordMiddleware))


def register_generation_task(broker: AsyncBroker, handler: JobHandler) -> None:
    """Register ``generate-music`` on ``broker``, delegating to ``handler``."""

    async def generate_music(music_id: str, attempt: int = 1, request_id: str | None = None) -> str:
        with structlog.contextvars.bound_contextvars(music_id=music_id, attempt=attempt, request_id=request_id):
            outcome = await handler(GenerationJob(music_id, attempt, request_id))
        return str(outcome)

    broker.register_task(generate_music, task_name=JOB_NAME)
