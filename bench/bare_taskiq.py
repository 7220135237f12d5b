"""The baseline of bench/worker.py: a bare taskiq round trip on the same Redis (a no-op task that counts)."""

from __future__ import annotations

import os

from redis.asyncio import Redis
from taskiq_redis import RedisStreamBroker

REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
broker = RedisStreamBroker(REDIS, queue_name="bare-bench", consumer_group_name="bare-bench", consumer_id="0")
counter = Redis.from_url(REDIS)


@broker.task(task_name="bare-noop")
async def noop(music_id: str) -> None:
    await counter.incr("bare-bench-done")
