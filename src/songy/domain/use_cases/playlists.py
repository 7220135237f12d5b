"""ManagePlaylists: create, rename, delete, add/remove/reorder tracks (own COMPLETED tracks only)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from songy.domain.errors import Conflict, FieldError, MusicNotFound, PlaylistNotFound, TrackNotPlayable, ValidationError
from songy.domain.ids import is_id
from songy.domain.music import Music, MusicStatus
from songy.domain.playlist import Playlist, playlist_name
from songy.domain.use_cases.resolve_user import ResolveUser
from songy.domain.user import Identity, User
from songy.ports.repositories import UnitOfWork, UnitOfWorkFactory
from songy.ports.system import Clock, IdGenerator

T = TypeVar("T")
CONFLICT_RETRIES = 3


class ManagePlaylists:
    """Every change locks the playlist while it is decided and saves it only if unchanged since read; a change
    that still loses a race (a deadlock the database broke) is tried again from the start, then answered 409."""

    def __init__(self, uow: UnitOfWorkFactory, resolve_user: ResolveUser, ids: IdGenerator, clock: Clock) -> None:
        self._uow = uow
        self._resolve_user = resolve_user
        self._ids = ids
        self._clock = clock

    async def create(self, identity: Identity, name: Any) -> Playlist:
        clean = playlist_name(name)

        async def run(uow: UnitOfWork, user: User) -> Playlist:
            now = self._clock.now()
            playlist = Playlist(self._ids.new_id(), user.id, clean, now, now)
            await uow.playlists.add(playlist)
            return playlist

        return await self._in_transaction(identity, run)

    async def list(self, identity: Identity) -> list[Playlist]:
        async def run(uow: UnitOfWork, user: User) -> list[Playlist]:
            return await uow.playlists.list_for_user(user.id)

        return await self._in_transaction(identity, run)

    async def get(self, identity: Identity, playlist_id: str) -> tuple[Playlist, list[Music]]:
        async def run(uow: UnitOfWork, user: User) -> tuple[Playlist, list[Music]]:
            playlist = await self._owned(uow, user, playlist_id)
            tracks = [await uow.music.get_owned(music_id, user.id) for music_id in playlist.track_ids]
            return playlist, [t for t in tracks if t is not None]

        return await self._in_transaction(identity, run)

    async def rename(self, identity: Identity, playlist_id: str, name: Any) -> Playlist:
        return await self._change(identity, playlist_id, lambda p: p.rename(name, self._clock.now()))

    async def delete(self, identity: Identity, playlist_id: str) -> None:
        async def run(uow: UnitOfWork, user: User) -> None:
            await self._owned(uow, user, playlist_id, for_update=True)
            await uow.playlists.delete(playlist_id)

        await self._in_transaction(identity, run)

    async def add_track(self, identity: Identity, playlist_id: str, music_id: Any, position: Any) -> Playlist:
        if not is_id(music_id):
            raise ValidationError([FieldError("musicId", "must be a musicId")])
        if position is not None and (not isinstance(position, int) or isinstance(position, bool)):
            raise ValidationError([FieldError("position", "must be an integer")])

        async def run(uow: UnitOfWork, user: User) -> Playlist:
            playlist = await self._owned(uow, user, playlist_id, for_update=True)
            music = await uow.music.get_owned(music_id, user.id, for_update=True)  # not deleted while added
            if music is None:
                raise MusicNotFound()
            if music.status is not MusicStatus.COMPLETED or music.expired_at is not None:
                raise TrackNotPlayable(f"music {music_id} is {music.status.value}; only playable tracks can be added")
            playlist.add(music_id, position, self._clock.now())
            await uow.playlists.save(playlist)
            return playlist

        return await self._in_transaction(identity, run)

    async def remove_track(self, identity: Identity, playlist_id: str, music_id: str) -> Playlist:
        def remove(playlist: Playlist) -> None:
            if not playlist.remove(music_id, self._clock.now()):
                raise MusicNotFound("Music is not in this playlist")

        return await self._change(identity, playlist_id, remove)

    async def reorder(self, identity: Identity, playlist_id: str, music_ids: Any) -> Playlist:
        return await self._change(identity, playlist_id, lambda p: p.reorder(music_ids, self._clock.now()))

    async def _change(self, identity: Identity, playlist_id: str, change: Callable[[Playlist], None]) -> Playlist:
        async def run(uow: UnitOfWork, user: User) -> Playlist:
            playlist = await self._owned(uow, user, playlist_id, for_update=True)
            change(playlist)
            await uow.playlists.save(playlist)
            return playlist

        return await self._in_transaction(identity, run)

    async def _owned(self, uow: UnitOfWork, user: User, playlist_id: str, *, for_update: bool = False) -> Playlist:
        if not is_id(playlist_id):
            raise PlaylistNotFound()
        playlist = await uow.playlists.get_owned(playlist_id, user.id, for_update=for_update)
        if playlist is None:
            raise PlaylistNotFound()
        return playlist

    async def _in_transaction(self, identity: Identity, run: Callable[[UnitOfWork, User], Awaitable[T]]) -> T:
        for attempt in range(CONFLICT_RETRIES):
            try:
                async with self._uow() as uow:
                    user = await self._resolve_user(uow, identity)
                    result = await run(uow, user)
                    await uow.commit()
                return result
            except Conflict:
                if attempt == CONFLICT_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")
