"""Users, known by Songy's own id and by the identity provider's id (``clerkId``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class User:
    id: str
    clerk_id: str
    email: str | None
    name: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    credits: int = 0

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True)
class UserProfileChange:
    """What the identity provider says happened to a user (``user.created``/``updated``/``deleted``)."""

    message_id: str
    kind: str
    clerk_id: str
    email: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Identity:
    """Who a verified token says the caller is: ``subject`` is the clerkId."""

    subject: str
    email: str | None = None
    name: str | None = None
    roles: frozenset[str] = frozenset()

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles
