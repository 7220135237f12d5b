"""Completion webhooks: endpoints users register, and deliveries of their music events to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from songy.domain.errors import FieldError, ValidationError
from songy.ports.events import WebhookUrlPolicy, WebhookUrlRejected

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
ERROR_MAX_CHARS = 500


def url_shape_problem(url: object) -> str | None:
    """What is wrong with the shape of an endpoint URL (``None`` when nothing): a string of at most
    ``URL_MAX_CHARS`` characters, starting ``https://`` or ``http://``, without spaces, control characters or
    backslashes (which parsers disagree about)."""
    if not isinstance(url, str) or not url.lower().startswith(("https://", "http://")):
        return "must be an absolute http(s) URL"
    if len(url) > URL_MAX_CHARS:
        return f"must be at most {URL_MAX_CHARS} characters"
    if any(c.isspace() or not c.isprintable() or c == "\\" for c in url):
        return "must not contain spaces, control characters or backslashes"
    return None


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
    def validate(url: Any, events: Any, policy: WebhookUrlPolicy) -> tuple[str, list[str]]:
        """The URL as it will be delivered to, and the sorted events; raises :class:`ValidationError`.

        The shape rules live here (a string of at most ``URL_MAX_CHARS`` visible characters with an http(s)
        scheme); ``policy`` parses the rest (host, port range, credentials, https-only and literal private hosts
        outside dev mode). Where a name resolves to is judged at each delivery, by the sender."""
        errors = []
        problem = url_shape_problem(url)
        if problem is not None:
            errors.append(FieldError("url", problem))
        else:
            try:
                url = policy.check(url)
            except WebhookUrlRejected as exc:
                errors.append(FieldError("url", str(exc)))
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
        self.last_error = _printable(error)[:ERROR_MAX_CHARS] if error is not None else None
        if status_code is not None and 200 <= status_code < 300:
            self.status = DeliveryStatus.SUCCEEDED
            self.delivered_at = now
        elif self.attempts > len(BACKOFF):
            self.status = DeliveryStatus.FAILED
        else:
            self.next_attempt_at = now + BACKOFF[self.attempts - 1]


def _printable(text: str) -> str:
    """``text`` fit for the delivery log and any database: control characters become spaces."""
    return "".join(c if c.isprintable() else " " for c in text)


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
