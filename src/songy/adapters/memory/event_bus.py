"""An in-process event bus: the embedded default's way to push status changes to SSE and WebSocket clients."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator

from songy.domain.events import DomainEvent

QUEUE_LIMIT = 256


class Subscription:
    """Events of one user, in order. A client too slow to keep up loses the oldest, never blocks the bus."""

    def __init__(self, bus: InProcessEventBus, user_id: str) -> None:
        self._bus = bus
        self.user_id = user_id
        self.queue: asyncio.Queue[DomainEvent | None] = asyncio.Queue(QUEUE_LIMIT)

    def offer(self, event: DomainEvent) -> None:
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(event)

    async def __aiter__(self) -> AsyncIterator[DomainEvent]:
        while (event := await self.queue.get()) is not None:
            yield event

    async def close(self) -> None:
        self._bus.unsubscribe(self)
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


class InProcessEventBus:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)
        self.published: list[DomainEvent] = []

    async def publish(self, event: DomainEvent) -> None:
        self.published = [*self.published[-99:], event]
        self.deliver(event)

    def deliver(self, event: DomainEvent) -> None:
        for subscription in list(self._subscribers.get(event.user_id, ())):
            subscription.offer(event)

    def names(self) -> list[str]:
        """The names of the events published lately, oldest first (for tests)."""
        return [e.name for e in self.published]

    def subscribe(self, user_id: str) -> Subscription:
        subscription = Subscription(self, user_id)
        self._subscribers[user_id].add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers[subscription.user_id].discard(subscription)

    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        for subscriptions in list(self._subscribers.values()):
            for subscription in list(subscriptions):
                await subscription.close()
