"""Idempotency keys: the same key and request within the window replays the original result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from songy.domain.errors import FieldError, ValidationError

KEY_MAX_CHARS = 255
WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class IdempotencyKey:
    """``key`` as the client sent it; ``fingerprint`` identifies the request it came with."""

    key: str
    fingerprint: str

    @classmethod
    def create(cls, key: str, fingerprint: str) -> IdempotencyKey:
        check_key(key)
        return cls(key, fingerprint)


def check_key(key: str) -> None:
    """The ``Idempotency-Key`` rule: 1-255 printable ASCII characters (so no NUL, no other script)."""
    if not 1 <= len(key) <= KEY_MAX_CHARS or not key.isascii() or not key.isprintable():
        raise ValidationError([FieldError("Idempotency-Key", "must be 1-255 printable ASCII characters")])


@dataclass(frozen=True)
class IdempotencyRecord:
    user_id: str
    key: str
    fingerprint: str
    music_ids: tuple[str, ...]
    created_at: datetime

    def expired(self, now: datetime) -> bool:
        return now - self.created_at >= WINDOW
