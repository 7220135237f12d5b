"""Redis streams with redelivery that does not wait for new traffic.

taskiq-redis' ``RedisStreamBroker`` reclaims unacknowledged messages (``XAUTOCLAIM``) only after a read that
returned new messages, so a job whose worker was killed stays pending for as long as the queue is quiet. This
subclass claims idle messages on every loop, and creates the consumer group from the start of the stream so
jobs enqueued before the first worker started are not skipped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from taskiq import AckableMessage
from taskiq_redis import RedisStreamBroker

log = logging.getLogger(__name__)


class ReclaimingRedisStreamBroker(RedisStreamBroker):
    """``idle_timeout`` (ms): how long a delivered, unacknowledged job may go before another worker takes it.
    It must exceed the longest job; the processor is idempotent, so an early reclaim only wastes work."""

    def __init__(self, url: str, *, claim_interval_s: float = 1.0, **kwargs: Any) -> None:
        kwargs.setdefault("consumer_id", "0")
        super().__init__(url, **kwargs)
        self.claim_interval_s = claim_interval_s

    async def _declare_consumer_group(self) -> None:
        """Declare the group, or warn and let :meth:`listen` declare it once Redis answers."""
        try:
            await super()._declare_consumer_group()
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            log.warning("redis unavailable at start-up (%s); the consumer group will be declared later", exc)

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        """Read new messages and reclaim idle ones; survive Redis going away (and coming back empty)."""
        delay = 0.1
        while True:
            try:
                async for message in self._listen_once():
                    delay = 0.1
                    yield message
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                log.warning("redis unavailable (%s); retrying in %.1fs", exc, delay)
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                log.warning("consumer group missing (redis restarted empty?); declaring it again")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
            await self._declare_consumer_group()

    async def _listen_once(self) -> AsyncGenerator[AckableMessage, None]:
        last_claim = 0.0
        async with Redis(connection_pool=self.connection_pool) as redis_conn:
            while True:
                fetched = await redis_conn.xreadgroup(
                    self.consumer_group_name,
                    self.consumer_name,
                    {self.queue_name: ">"},
                    block=self.block,
                    noack=False,
                    count=self.count,
                )
                for stream, messages in fetched or []:
                    for message_id, fields in messages:
                        yield self._ackable(stream, message_id, fields)
                if time.monotonic() - last_claim < self.claim_interval_s:
                    continue
                last_claim = time.monotonic()
                claimed = await redis_conn.xautoclaim(
                    self.queue_name,
                    self.consumer_group_name,
                    self.consumer_name,
                    min_idle_time=self.idle_timeout,
                    start_id="0-0",
                    count=self.unacknowledged_batch_size,
                )
                for message_id, fields in claimed[1]:
                    if fields:  # entries trimmed from the stream come back empty
                        yield self._ackable(self.queue_name, message_id, fields)

    def _ackable(self, stream: Any, message_id: Any, fields: Any) -> AckableMessage:
        return AckableMessage(data=fields[b"data"], ack=self._ack_generator(id=message_id, queue_name=stream))
