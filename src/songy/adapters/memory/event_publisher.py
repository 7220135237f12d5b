"""An event publisher that keeps what it was given."""

from __future__ import annotations

from songy.domain.events import DomainEvent


class MemoryEventPublisher:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    async def publish(self, event: DomainEvent) -> None:
        self.events.append(event)

    def names(self) -> list[str]:
        return [e.name for e in self.events]
