"""Completion webhooks: endpoints users register, and deliveries of their music events to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from songy.domain.errors import FieldError, ValidationError

DELIVERABLE_EVENTS = ("music.generation.completed", "music.generation.failed", "music.generation.canceled")
BACKOFF = (
    timedelta(seconds=5),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
)
MAX_ENDPOINTS_PER_USER = 10
URL_MAX_CHARS = 2048


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass
class WebhookEndpoint:
    id: str
    user_id: str
    url: str
    events: list[str]
    secret: str
    created_at: datetime

    def wants(self, event_name: str) -> bool:
        return event_name in (self.events or DELIVERABLE_EVENTS)

    @staticmethod
    def validate(url: Any, events: Any, *, allow_http: bool) -> tuple[str, list[str]]:
        """Shape checks (the network-level SSRF checks are the sender's job)."""
        errors = []
        parts = urlsplit(url) if isinstance(url, str) else None
        schemes = ("https", "http") if allow_http else ("https",)
        if parts is None or parts.scheme not in schemes or not parts.hostname or len(url) > URL_MAX_CHARS:
            errors.append(FieldError("url", f"must be an absolute {' or '.join(schemes)} URL"))
        elif parts.username or parts.password:
            errors.append(FieldError("url", "must not carry credentials"))
        chosen = events if events is not None else []
        if not isinstance(chosen, list) or any(e not in DELIVERABLE_EVENTS for e in chosen):
            errors.append(FieldError("events", f"must be a list drawn from {list(DELIVERABLE_EVENTS)}"))
        if errors:
            raise ValidationError(errors)
        return url, sorted(set(chosen))


@dataclass
class WebhookDelivery:
    id: str
    endpoint_id: str
    user_id: str
    event_name: str
    payload: dict[str, Any]
    created_at: datetime
    next_attempt_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None

    def record(self, now: datetime, status_code: int | None, error: str | None) -> None:
        """One attempt's result: success, a retry after the backoff, or failure when out of attempts."""
        self.attempts += 1
        self.last_status_code = status_code
        self.last_error = error
        if status_code is not None and 200 <= status_code < 300:
            self.status = DeliveryStatus.SUCCEEDED
            self.delivered_at = now
        elif self.attempts > len(BACKOFF):
            self.status = DeliveryStatus.FAILED
        else:
            self.next_attempt_at = now + BACKOFF[self.attempts - 1]


def event_body(event_name: str, payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The Standard Webhooks body: ``type``, ``timestamp``, ``data``."""
    status = {
        "music.generation.completed": "COMPLETED",
        "music.generation.failed": "FAILED",
        "music.generation.canceled": "CANCELED",
    }[event_name]
    data: dict[str, Any] = {"musicId": payload["music_id"], "status": status}
    if payload.get("audio_url"):
        data["audioUrl"] = payload["audio_url"]
    if payload.get("reason"):
        data["error"] = payload["reason"]
    return {"type": event_name, "timestamp": now.isoformat().replace("+00:00", "Z"), "data": data}
