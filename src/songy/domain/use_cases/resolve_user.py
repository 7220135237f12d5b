"""ResolveUser: from a verified identity (clerkId) to Songy's User record."""

from __future__ import annotations

from songy.domain.errors import UserNotFound
from songy.domain.user import Identity, User
from songy.ports.repositories import UnitOfWork
from songy.ports.system import Clock, IdGenerator


class ResolveUser:
    """Look the caller up by clerkId; create it on first use only when ``provision_unknown`` (dev mode)."""

    def __init__(self, ids: IdGenerator, clock: Clock, *, provision_unknown: bool, initial_credits: int = 0) -> None:
        self._ids = ids
        self._clock = clock
        self._provision_unknown = provision_unknown
        self._initial_credits = initial_credits

    async def __call__(self, uow: UnitOfWork, identity: Identity) -> User:
        user = await uow.users.get_by_clerk_id(identity.subject)
        if user is not None:
            if user.is_deleted:
                raise UserNotFound()
            return user
        if not self._provision_unknown:
            raise UserNotFound()
        now = self._clock.now()
        user = User(
            id=self._ids.new_id(),
            clerk_id=identity.subject,
            email=identity.email,
            name=identity.name,
            created_at=now,
            updated_at=now,
            credits=self._initial_credits,
        )
        if await uow.users.add_if_absent(user):
            return user
        created = await uow.users.get_by_clerk_id(identity.subject)  # a concurrent first request provisioned it
        if created is None or created.is_deleted:
            raise UserNotFound()
        return created
