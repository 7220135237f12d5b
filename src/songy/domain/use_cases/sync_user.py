"""SyncUser: apply the identity provider's ``user.*`` events once each, in the order of their own time."""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum

from songy.domain.errors import FieldError, ValidationError
from songy.domain.user import USER_EVENTS, ProfileSave, User, UserProfileChange
from songy.ports.repositories import UnitOfWorkFactory
from songy.ports.system import Clock, IdGenerator

log = logging.getLogger(__name__)
SOURCE = "clerk"


class SyncResult(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    STALE = "stale"


class SyncUser:
    """``user.created``/``user.updated`` upsert; ``user.deleted`` marks the user deleted (their music stays,
    unreachable; an unknown user gets a deleted record, so its late ``user.created`` cannot bring it in).

    Deliveries arrive in any order (Svix retries a failed one for about a day, after newer ones went through), so
    each event is applied only if it is newer than the last one applied to that user (``profile_event_at``); an
    older one is acknowledged as ``STALE`` and changes nothing. The database decides, so two concurrent
    deliveries cannot apply out of order. A message id seen before changes nothing (``DUPLICATE``)."""

    def __init__(self, uow: UnitOfWorkFactory, ids: IdGenerator, clock: Clock, *, initial_credits: int = 0) -> None:
        self._uow = uow
        self._ids = ids
        self._clock = clock
        self._initial_credits = initial_credits

    async def __call__(self, change: UserProfileChange) -> SyncResult:
        if not change.clerk_id:
            raise ValidationError([FieldError("data.id", "user id is required")])
        known = change.kind in USER_EVENTS
        if known and change.occurred_at is None:
            raise ValidationError([FieldError("timestamp", "the event time is required to order user events")])
        now = self._clock.now()
        async with self._uow() as uow:
            if not await uow.inbox.add_if_new(change.message_id, SOURCE, now):
                return SyncResult.DUPLICATE
            if known:
                saved = await uow.users.save_profile_event(self._record(change, now))
                result = self._result(change, saved)
            else:
                result = SyncResult.IGNORED
            await uow.commit()
        log.info("clerk %s for %s at %s: %s", change.kind, change.clerk_id, change.occurred_at, result.value)
        return result

    def _record(self, change: UserProfileChange, now: datetime) -> User:
        """The user as the event describes it (inserted whole if the clerkId is new)."""
        deletion = change.is_deletion
        return User(
            self._ids.new_id(),
            change.clerk_id,
            None if deletion else change.email,
            None if deletion else change.name,
            now,
            now,
            deleted_at=now if deletion else None,
            credits=0 if deletion else self._initial_credits,
            profile_event_at=change.occurred_at,
        )

    @staticmethod
    def _result(change: UserProfileChange, saved: ProfileSave) -> SyncResult:
        if saved is ProfileSave.STALE:
            return SyncResult.STALE
        if change.is_deletion:
            return SyncResult.DELETED
        return SyncResult.CREATED if saved is ProfileSave.INSERTED else SyncResult.UPDATED
