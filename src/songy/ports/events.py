"""The event publisher port: tells the rest of the world about finished generations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from songy.domain.events import DomainEvent


class EventPublisher(Protocol):
    async def publish(self, event: DomainEvent) -> None: ...


class EventSubscription(Protocol):
    def __aiter__(self) -> AsyncIterator[DomainEvent]: ...

    async def close(self) -> None: ...


class EventBus(EventPublisher, Protocol):
    """Publishes events to every process; :meth:`subscribe` hears those of one user, from any process."""

    def subscribe(self, user_id: str) -> EventSubscription: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
