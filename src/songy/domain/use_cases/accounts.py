"""GetAccount and GrantCredits: a user's own balance, and an admin's top-up of someone's."""

from __future__ import annotations

from songy.domain.errors import FieldError, Forbidden, UserNotFound, ValidationError
from songy.domain.use_cases.resolve_user import ResolveUser
from songy.domain.user import Identity, User
from songy.ports.repositories import UnitOfWorkFactory

MAX_GRANT = 10_000_000


class GetAccount:
    def __init__(self, uow: UnitOfWorkFactory, resolve_user: ResolveUser) -> None:
        self._uow = uow
        self._resolve_user = resolve_user

    async def __call__(self, identity: Identity) -> User:
        async with self._uow() as uow:
            user = await self._resolve_user(uow, identity)
            await uow.commit()
        return user


class GrantCredits:
    """Admins only (role claim ``admin``); a negative amount takes credits back, never below zero."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, admin: Identity, clerk_id: object, amount: object) -> User:
        if not admin.is_admin:
            raise Forbidden("admin role required")
        errors = []
        if not isinstance(clerk_id, str) or not clerk_id:
            errors.append(FieldError("clerkId", "must be a non-empty string"))
        if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < abs(amount) <= MAX_GRANT:
            errors.append(FieldError("amount", f"must be a non-zero integer within +-{MAX_GRANT}"))
        if errors:
            raise ValidationError(errors)
        assert isinstance(clerk_id, str) and isinstance(amount, int)
        async with self._uow() as uow:
            user = await uow.users.get_by_clerk_id(clerk_id)
            if user is None or user.is_deleted:
                raise UserNotFound()
            if amount > 0:
                await uow.users.add_credits(user.id, amount)
            elif not await uow.users.reserve_credits(user.id, -amount):
                raise ValidationError([FieldError("amount", f"the balance is only {user.credits}")])
            await uow.commit()
        async with self._uow() as uow:
            refreshed = await uow.users.get_by_clerk_id(clerk_id)
        assert refreshed is not None
        return refreshed
