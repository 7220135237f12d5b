"""Sign Clerk webhook deliveries the way Svix does, for tests."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from svix.webhooks import Webhook

SECRET = "whsec_" + base64.b64encode(b"songy-test-webhook-secret-0123456789").decode()


_last_ms = 0


def event_ms() -> int:
    """Now in milliseconds, strictly after every earlier call (two events a test sends in a row never tie)."""
    global _last_ms
    _last_ms = max(int(time.time() * 1000), _last_ms + 1)
    return _last_ms


def clerk_user_event(
    kind: str, clerk_id: str, email: str = "alice@example.com", first: str = "Alice", at_ms: int | None = None
) -> dict[str, Any]:
    """A Clerk ``user.*`` event as Clerk sends it: ``timestamp`` is the event's time in ms (default: now)."""
    data: dict[str, Any] = {"id": clerk_id, "object": "user"}
    if kind != "user.deleted":
        data |= {
            "first_name": first,
            "last_name": "Liddell",
            "primary_email_address_id": "idn_1",
            "email_addresses": [{"id": "idn_1", "email_address": email}],
        }
    else:
        data["deleted"] = True
    timestamp = at_ms if at_ms is not None else event_ms()
    return {"type": kind, "object": "event", "timestamp": timestamp, "instance_id": "ins_test", "data": data}


def signed(
    payload: dict[str, Any], *, message_id: str | None = None, at: datetime | None = None, secret: str = SECRET
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload)
    message_id = message_id or f"msg_{uuid.uuid4().hex}"
    moment = at or datetime.now(UTC)
    signature = Webhook(secret).sign(message_id, moment, body)
    headers = {
        "svix-id": message_id,
        "svix-timestamp": str(int(moment.timestamp())),
        "svix-signature": signature,
        "content-type": "application/json",
    }
    return body.encode(), headers
