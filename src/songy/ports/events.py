"""The event publisher port: tells the rest of the world about finished generations."""

from __future__ import annotations

from typing import Protocol

from songy.domain.events import DomainEvent


class EventPublisher(Protocol):
    async def publish(self, event: DomainEvent) -> None: ...
