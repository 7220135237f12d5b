"""Users in SQL. The balance changes only through atomic relative updates (``reserve_credits``,
``add_credits``), never by writing back a balance that was read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update

from songy.adapters.sql import tables
from songy.adapters.sql.timestamps import aware_utc, aware_utc_or_none
from songy.domain.user import ProfileSave, User

if TYPE_CHECKING:
    from songy.adapters.sql.unit_of_work import SqlUnitOfWork

_RESERVE_CREDITS = (
    update(tables.users)
    .where(
        tables.users.c.id == bindparam("b_user_id"),
        tables.users.c.deleted_at.is_(None),
        tables.users.c.credits >= bindparam("amount"),
    )
    .values(credits=tables.users.c.credits - bindparam("amount"))
    .returning(tables.users.c.id)
)


class SqlUserRepository:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def add(self, user: User) -> None:
        values = _user_values(user) | {"id": user.id, "credits": user.credits}
        await self._uow.execute(insert(tables.users).values(**values))

    async def add_if_absent(self, user: User) -> bool:
        statement = (
            self._uow.upsert_insert(tables.users)
            .values(**_user_values(user), id=user.id, credits=user.credits)
            .on_conflict_do_nothing(index_elements=["clerk_id"])
            .returning(tables.users.c.id)
        )
        return (await self._uow.execute(statement)).first() is not None

    async def save(self, user: User) -> None:
        statement = update(tables.users).where(tables.users.c.id == user.id).values(**_user_values(user))
        await self._uow.execute(statement)

    async def save_profile_event(self, user: User) -> ProfileSave:
        # the ordering rule of songy.domain.user.supersedes, as a condition the database checks at the write: a
        # concurrent delivery that committed first is seen (PostgreSQL re-checks the WHERE on the row it waited for)
        u, at = tables.users, user.profile_event_at
        if at is None:
            raise ValueError("a profile event needs its time")
        newer = or_(u.c.profile_event_at.is_(None), u.c.profile_event_at < at)
        values: dict[str, Any] = {"updated_at": user.updated_at, "profile_event_at": at}
        if user.is_deleted:
            newer = or_(newer, and_(u.c.profile_event_at == at, u.c.deleted_at.is_(None)))
            values["deleted_at"] = func.coalesce(u.c.deleted_at, user.deleted_at)
        else:
            values |= {"email": user.email, "name": user.name, "deleted_at": None}
        conditional = update(u).where(u.c.clerk_id == user.clerk_id, newer).values(**values)
        if (await self._uow.execute(conditional)).rowcount:
            return ProfileSave.UPDATED
        if await self.add_if_absent(user):  # INSERT ... ON CONFLICT DO NOTHING: the first event of a user races too
            return ProfileSave.INSERTED
        # the row exists: either a newer event is stored, or a concurrent first insert committed after our UPDATE
        if (await self._uow.execute(conditional)).rowcount:
            return ProfileSave.UPDATED
        return ProfileSave.STALE

    async def get_by_clerk_id(self, clerk_id: str) -> User | None:
        query = select(tables.users).where(tables.users.c.clerk_id == clerk_id)
        row = (await self._uow.execute(query)).first()
        if row is None:
            return None
        return User(
            row.id,
            row.clerk_id,
            row.email,
            row.name,
            aware_utc(row.created_at),
            aware_utc(row.updated_at),
            aware_utc_or_none(row.deleted_at),
            row.credits,
            aware_utc_or_none(row.profile_event_at),
        )

    async def reserve_credits(self, user_id: str, amount: int) -> bool:
        parameters = {"b_user_id": user_id, "amount": amount}
        return (await self._uow.execute(_RESERVE_CREDITS, parameters)).first() is not None

    async def add_credits(self, user_id: str, amount: int) -> None:
        u = tables.users
        await self._uow.execute(update(u).where(u.c.id == user_id).values(credits=u.c.credits + amount))


def _user_values(user: User) -> dict[str, Any]:
    """Profile fields only: the balance changes through reserve/add_credits, never by overwriting it."""
    names = ("clerk_id", "email", "name", "created_at", "updated_at", "deleted_at", "profile_event_at")
    return {name: getattr(user, name) for name in names}
