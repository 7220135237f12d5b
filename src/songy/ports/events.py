"""The event publisher port: tells the rest of the world about finished generations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Protocol

from songy.domain.events import DomainEvent


class EventPublisher(Protocol):
    async def publish(self, event: DomainEvent) -> None: ...


class EventSubscription(Protocol):
    """The events of one user from the moment of subscribing, until closed."""

    def __aiter__(self) -> AsyncIterator[DomainEvent]: ...

    async def next(self) -> DomainEvent | None:
        """The next event, or ``None`` once closed; safe to cancel (a timeout loses no event)."""
        ...

    async def close(self) -> None: ...


class EventBus(EventPublisher, Protocol):
    """Publishes events to every process; :meth:`subscribe` hears those of one user, from any process."""

    def subscribe(self, user_id: str) -> EventSubscription: ...

    def subscriber_count(self) -> int:
        """Subscriptions open in this process."""
        ...

    def close_subscriptions(self) -> None:
        """End every subscription of this process now, and each later one at once (shutting down)."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class WebhookSendError(Exception):
    """The delivery could not be attempted or did not get an HTTP answer (refused target, DNS, timeout)."""


class WebhookSender(Protocol):
    async def send(self, url: str, secret: str, message_id: str, body: bytes, timestamp: datetime) -> int:
        """POST ``body`` signed per the Standard Webhooks spec; return the HTTP status code."""
        ...


class WebhookUrlRejected(Exception):
    """An endpoint URL Songy will not deliver to; the message says why, in words for the endpoint's owner."""


class WebhookUrlPolicy(Protocol):
    def check(self, url: str) -> str:
        """The URL as it will be delivered to (normalized); raises :class:`WebhookUrlRejected`."""
        ...
