"""Job records, as Bull keeps them: every run of ``generate-music`` with its outcome and duration, kept
2 h when it completed and 24 h when it failed (configurable), for dashboards and debugging.

The durable truth is the Music row; these records are operational history and may expire.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict
from datetime import timedelta
from typing import Any, Protocol

from redis.asyncio import Redis
from taskiq import TaskiqMessage, TaskiqMiddleware, TaskiqResult

from songy.ports.jobs import JobRun

log = logging.getLogger(__name__)
KEY_PREFIX = "songy:job:"
INDEX_KEY = "songy:jobs"


JobRecord = JobRun


class JobRecordStore(Protocol):
    async def save(self, record: JobRecord, ttl: timedelta) -> None: ...

    async def recent(self, limit: int = 100) -> list[JobRecord]: ...


class MemoryJobRecordStore:
    def __init__(self) -> None:
        self._records: dict[str, tuple[JobRecord, float]] = {}

    async def save(self, record: JobRecord, ttl: timedelta) -> None:
        self._records[record.task_id] = (record, time.time() + ttl.total_seconds())

    async def recent(self, limit: int = 100) -> list[JobRecord]:
        now = time.time()
        live = [r for r, expires in self._records.values() if expires > now]
        return sorted(live, key=lambda r: r.finished_at, reverse=True)[:limit]


class RedisJobRecordStore:
    """One key per record with its own TTL, and a sorted-set index pruned as records expire."""

    def __init__(self, url: str) -> None:
        self._redis = Redis.from_url(url)

    async def save(self, record: JobRecord, ttl: timedelta) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(KEY_PREFIX + record.task_id, json.dumps(asdict(record)), ex=int(ttl.total_seconds()))
            pipe.zadd(INDEX_KEY, {record.task_id: record.finished_at})
            pipe.zremrangebyscore(INDEX_KEY, 0, time.time() - 2 * 86400)
            await pipe.execute()

    async def recent(self, limit: int = 100) -> list[JobRecord]:
        ids = await self._redis.zrevrange(INDEX_KEY, 0, limit * 2)
        if not ids:
            return []
        values = await self._redis.mget([KEY_PREFIX + i.decode() for i in ids])
        return [JobRecord(**json.loads(v)) for v in values if v is not None][:limit]


class JobRecordMiddleware(TaskiqMiddleware):
    """Saves a :class:`JobRecord` after each execution; never fails the job over a bookkeeping error."""

    def __init__(self, store: JobRecordStore, *, completed_ttl: timedelta, failed_ttl: timedelta) -> None:
        super().__init__()
        self.store = store
        self._completed_ttl = completed_ttl
        self._failed_ttl = failed_ttl

    async def post_execute(self, message: TaskiqMessage, result: TaskiqResult[Any]) -> None:
        outcome = "error" if result.is_err else str(result.return_value)
        record = JobRecord(
            task_id=message.task_id,
            music_id=str(message.kwargs.get("music_id", "")),
            attempt=int(message.kwargs.get("attempt", 1)),
            outcome=outcome,
            duration_s=round(result.execution_time, 4),
            finished_at=time.time(),
            error=repr(result.error) if result.is_err else None,
        )
        ttl = self._failed_ttl if outcome in ("failed", "retry_scheduled", "error") else self._completed_ttl
        try:
            await self.store.save(record, ttl)
        except Exception as exc:
            log.warning("could not save job record %s: %r", message.task_id, exc)
