"""Clerk webhooks: Svix signature and timestamp verification, then the ``user.*`` payload as a domain change.

The payload's top-level ``timestamp`` (milliseconds since the epoch: when the event happened at Clerk) orders
user events; the ``svix-timestamp`` header cannot, as it is the time of the delivery attempt and a retry renews it.
Clerk's own ``verifyWebhook`` drops ``timestamp``; we keep it. A ``user.*`` event without a valid one is rejected
(400, so Svix retries and the failure shows in Clerk's dashboard): applied blindly, it could bring a deleted user
back."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from svix.webhooks import Webhook, WebhookVerificationError

from songy.domain.errors import WebhookRejected
from songy.domain.user import USER_EVENTS, UserProfileChange

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


class ClerkWebhookVerifier:
    """Checks ``svix-id``/``svix-timestamp``/``svix-signature`` (5 minute tolerance) with the signing secret."""

    def __init__(self, signing_secret: str) -> None:
        self._webhook = Webhook(signing_secret)

    def verify(self, body: bytes, headers: Mapping[str, str]) -> UserProfileChange:
        plain = {k.lower(): v for k, v in headers.items()}
        try:
            self._webhook.verify(body, plain)
        except WebhookVerificationError as exc:
            raise WebhookRejected(f"webhook verification failed: {exc}") from None
        except (ValueError, TypeError) as exc:  # malformed signature header, non-UTF-8 body, bad base64
            raise WebhookRejected(f"webhook verification failed: malformed ({exc.__class__.__name__})") from None
        try:
            payload = json.loads(body)
            kind = str(payload["type"])
            data: dict[str, Any] = payload["data"]
        except (ValueError, KeyError, TypeError):
            raise WebhookRejected("webhook payload is not a Clerk event") from None
        if not isinstance(data, dict):
            raise WebhookRejected("webhook payload is not a Clerk event")
        occurred_at = _event_time(payload.get("timestamp"))
        if kind in USER_EVENTS and occurred_at is None:
            raise WebhookRejected("Clerk event has no valid timestamp (milliseconds since the epoch)")
        return UserProfileChange(
            message_id=plain["svix-id"],
            kind=kind,
            clerk_id=str(data.get("id") or ""),
            email=_primary_email(data),
            name=_full_name(data),
            occurred_at=occurred_at,
        )


def _event_time(value: object) -> datetime | None:
    """Clerk's ``timestamp`` (integer milliseconds since the epoch) as an aware UTC datetime; ``None`` when it
    is missing or not a whole number of milliseconds within years 1970-9999."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return None
    milliseconds = int(value)
    if not 0 < milliseconds <= LATEST_MS:
        return None
    return EPOCH + timedelta(milliseconds=milliseconds)


def _primary_email(data: dict[str, Any]) -> str | None:
    addresses = data.get("email_addresses") or []
    primary = data.get("primary_email_address_id")
    for address in addresses if isinstance(addresses, list) else []:
        if isinstance(address, dict) and (address.get("id") == primary or primary is None):
            email = address.get("email_address")
            return email if isinstance(email, str) else None
    return None


def _full_name(data: dict[str, Any]) -> str | None:
    parts = [data.get("first_name"), data.get("last_name")]
    name = " ".join(p for p in parts if isinstance(p, str) and p)
    username = data.get("username")
    return name or (username if isinstance(username, str) else None) or None
