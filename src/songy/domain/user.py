"""Users, known by Songy's own id and by the identity provider's id (``clerkId``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

USER_CREATED = "user.created"
USER_UPDATED = "user.updated"
USER_DELETED = "user.deleted"
USER_EVENTS = frozenset({USER_CREATED, USER_UPDATED, USER_DELETED})


@dataclass
class User:
    """``profile_event_at``: the identity provider's time of the newest ``user.*`` event applied to this record
    (unset for users provisioned otherwise, e.g. dev tokens)."""

    id: str
    clerk_id: str
    email: str | None
    name: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    credits: int = 0
    profile_event_at: datetime | None = None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True)
class UserProfileChange:
    """What the identity provider says happened to a user (``user.created``/``updated``/``deleted``), and when:
    ``occurred_at`` is the event's own time (not the time of the delivery, which a retry makes later)."""

    message_id: str
    kind: str
    clerk_id: str
    email: str | None = None
    name: str | None = None
    occurred_at: datetime | None = None

    @property
    def is_deletion(self) -> bool:
        return self.kind == USER_DELETED


def supersedes(event_at: datetime, deletes: bool, applied_at: datetime | None, deleted: bool) -> bool:
    """Whether an event at ``event_at`` (a deletion when ``deletes``) replaces a record whose newest applied event
    was at ``applied_at`` (and which is ``deleted`` now). Newer wins; on a tie (two events in the same
    millisecond) only a deletion of a live record wins, so neither order of a same-time pair brings a user back.
    The SQL repository states the same rule in its ``WHERE`` clause."""
    if applied_at is None or applied_at < event_at:
        return True
    return deletes and applied_at == event_at and not deleted


class ProfileSave(StrEnum):
    """What saving an ordered profile event did: inserted a new record, updated the stored one, or nothing
    (``STALE``: an event at least as new was applied already)."""

    INSERTED = "inserted"
    UPDATED = "updated"
    STALE = "stale"


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
