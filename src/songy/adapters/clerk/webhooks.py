"""Clerk webhooks: Svix signature and timestamp verification, then the ``user.*`` payload as a domain change."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from svix.webhooks import Webhook, WebhookVerificationError

from songy.domain.errors import WebhookRejected
from songy.domain.user import UserProfileChange


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
        return UserProfileChange(
            message_id=plain["svix-id"],
            kind=kind,
            clerk_id=str(data.get("id") or ""),
            email=_primary_email(data),
            name=_full_name(data),
        )


def _primary_email(data: dict[str, Any]) -> str | None:
    addresses = data.get("email_addresses") or []
    primary = data.get("primary_email_address_id")
    for address in addresses:
        if isinstance(address, dict) and (address.get("id") == primary or primary is None):
            return address.get("email_address")
    return None


def _full_name(data: dict[str, Any]) -> str | None:
    parts = [data.get("first_name"), data.get("last_name")]
    name = " ".join(p for p in parts if isinstance(p, str) and p)
    return name or data.get("username") or None
