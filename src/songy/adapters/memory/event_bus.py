"""An in-process event bus: the embedded default's way to push status changes to SSE and WebSocket clients."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator

from songy.domain.events import DomainEvent

QUEUE_LIMIT = 256


class Subscription:
    """Events of one user, in order, until :meth:`close`. A client too slow to keep up loses the oldest, never
    blocks the bus. Whoever holds one closes it when its client goes away (or the bus closes them all)."""

    def __init__(self, bus: InProcessEventBus, user_id: str) -> None:
        self._bus = bus
        self.user_id = user_id
        self.queue: asyncio.Queue[DomainEvent | None] = asyncio.Queue(QUEUE_LIMIT)
        self.closed = False

    def offer(self, event: DomainEvent | None) -> None:
        if self.closed and event is not None:
            return
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(event)

    async def next(self) -> DomainEvent | None:
        """The next event, or ``None`` once closed. Safe to cancel (e.g. by a timeout): no event is lost and
        the subscription stays usable."""
        if self.closed and self.queue.empty():
            return None
        return await self.queue.get()

    async def __aiter__(self) -> AsyncIterator[DomainEvent]:
        while (event := await self.next()) is not None:
            yield event

    def close_now(self) -> None:
        """Stop hearing events and wake whoever waits in :meth:`next` (it gets ``None``); idempotent."""
        if self.closed:
            return
        self._bus.unsubscribe(self)
        self.offer(None)
        self.closed = True

    async def close(self) -> None:
        self.close_now()


class InProcessEventBus:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)
        self._closing = False
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
        """Events of ``user_id`` from now on; once :meth:`close_subscriptions` has run, an already closed one."""
        subscription = Subscription(self, user_id)
        if self._closing:
            subscription.close_now()
        else:
            self._subscribers[user_id].add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscribers = self._subscribers.get(subscription.user_id)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.user_id]

    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    def close_subscriptions(self) -> None:
        """Close every subscription now and every later one at once: the process is shutting down, so each
        SSE and WebSocket stream ends instead of holding the server open."""
        self._closing = True
        for subscriptions in list(self._subscribers.values()):
            for subscription in list(subscriptions):
                subscription.close_now()

    async def start(self) -> None:
        self._closing = False

    async def stop(self) -> None:
        self.close_subscriptions()
