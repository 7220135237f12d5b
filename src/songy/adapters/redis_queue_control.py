"""The queue's pause switch in Redis, shared by every API and worker process."""

from __future__ import annotations

from redis.asyncio import Redis

PAUSED_KEY = "songy:queue:paused"


class RedisQueueControl:
    def __init__(self, url: str) -> None:
        self._redis = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)

    async def is_paused(self) -> bool:
        return bool(await self._redis.exists(PAUSED_KEY))

    async def set_paused(self, paused: bool) -> None:
        if paused:
            await self._redis.set(PAUSED_KEY, "1")
        else:
            await self._redis.delete(PAUSED_KEY)
