"""SyncUser: apply the identity provider's ``user.*`` events, once each, in the order they arrive."""

from __future__ import annotations

import logging
from enum import StrEnum

from songy.domain.errors import FieldError, ValidationError
from songy.domain.user import User, UserProfileChange
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


class SyncUser:
    """``user.created``/``user.updated`` upsert; ``user.deleted`` marks the user deleted (their music stays,
    unreachable); a message id seen before changes nothing."""

    def __init__(self, uow: UnitOfWorkFactory, ids: IdGenerator, clock: Clock, *, initial_credits: int = 0) -> None:
        self._uow = uow
        self._ids = ids
        self._clock = clock
        self._initial_credits = initial_credits

    async def __call__(self, change: UserProfileChange) -> SyncResult:
        if not change.clerk_id:
            raise ValidationError([FieldError("data.id", "user id is required")])
        now = self._clock.now()
        async with self._uow() as uow:
            if not await uow.inbox.add_if_new(change.message_id, SOURCE, now):
                return SyncResult.DUPLICATE
            user = await uow.users.get_by_clerk_id(change.clerk_id)
            if change.kind == "user.deleted":
                if user is None or user.is_deleted:
                    result = SyncResult.IGNORED
                else:
                    user.deleted_at = now
                    user.updated_at = now
                    await uow.users.save(user)
                    result = SyncResult.DELETED
            elif change.kind in ("user.created", "user.updated"):
                if user is None:
                    user = User(
                        self._ids.new_id(),
                        change.clerk_id,
                        change.email,
                        change.name,
                        now,
                        now,
                        credits=self._initial_credits,
                    )
                    await uow.users.add(user)
                    result = SyncResult.CREATED
                else:
                    user.email, user.name, user.updated_at, user.deleted_at = change.email, change.name, now, None
                    await uow.users.save(user)
                    result = SyncResult.UPDATED
            else:
                result = SyncResult.IGNORED
            await uow.commit()
        log.info("clerk %s for %s: %s", change.kind, change.clerk_id, result.value)
        return result
