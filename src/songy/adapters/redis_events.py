"""Events across processes with Redis pub/sub: a worker's relay publishes, every API process fans them out
to its own SSE and WebSocket subscribers. Delivery is best-effort (a client reconnecting re-reads the status)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from redis.asyncio import Redis

from songy.adapters.memory.event_bus import InProcessEventBus, Subscription
from songy.domain.events import DomainEvent, event_from_payload

log = logging.getLogger(__name__)
CHANNEL = "songy:events"


class RedisEventBus:
    def __init__(self, url: str) -> None:
        self._redis = Redis.from_url(url)
        self._local = InProcessEventBus()
        self._listener: asyncio.Task[None] | None = None

    async def publish(self, event: DomainEvent) -> None:
        message = json.dumps({"name": event.name, "payload": event.payload()})
        await self._redis.publish(CHANNEL, message)

    def subscribe(self, user_id: str) -> Subscription:
        return self._local.subscribe(user_id)

    def subscriber_count(self) -> int:
        return self._local.subscriber_count()

    def close_subscriptions(self) -> None:
        """Close every local subscription now and each later one at once (the process is shutting down)."""
        self._local.close_subscriptions()

    async def start(self) -> None:
        await self._local.start()
        self._listener = asyncio.create_task(self._listen(), name="songy-event-listener")

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._local.stop()
        await self._redis.aclose()

    async def _listen(self) -> None:
        delay = 0.2
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    delay = 0.2
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        try:
                            data = json.loads(message["data"])
                            self._local.deliver(event_from_payload(data["name"], data["payload"]))
                        except (ValueError, KeyError, TypeError):
                            log.warning("ignoring a malformed event on %s", CHANNEL)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("event listener lost redis (%r); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
