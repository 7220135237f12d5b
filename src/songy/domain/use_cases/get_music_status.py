"""GetMusicStatus: a user's own record, or MUSIC_NOT_FOUND (also for another user's music)."""

from __future__ import annotations

from songy.domain.errors import MusicNotFound
from songy.domain.ids import is_id
from songy.domain.music import Music
from songy.domain.use_cases.resolve_user import ResolveUser
from songy.domain.user import Identity
from songy.ports.repositories import UnitOfWorkFactory


class GetMusicStatus:
    """The hot read of polling clients: one lookup by music id and clerkId on ``reads`` (a read-only unit of
    work, where the adapter has one). Only when that finds nothing is the user resolved, to answer
    USER_NOT_FOUND, provision a first-time dev user, or MUSIC_NOT_FOUND."""

    def __init__(
        self, uow: UnitOfWorkFactory, resolve_user: ResolveUser, *, reads: UnitOfWorkFactory | None = None
    ) -> None:
        self._uow = uow
        self._reads = reads or uow
        self._resolve_user = resolve_user

    async def __call__(self, identity: Identity, music_id: str) -> Music:
        if not is_id(music_id):
            raise MusicNotFound()
        async with self._reads() as uow:
            music = await uow.music.get_owned_by_clerk_id(music_id, identity.subject)
        if music is not None:
            return music
        async with self._uow() as uow:
            user = await self._resolve_user(uow, identity)
            music = await uow.music.get_owned(music_id, user.id)
            await uow.commit()
        if music is None:
            raise MusicNotFound()
        return music
