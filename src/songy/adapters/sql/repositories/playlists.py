"""Playlists and their ordered tracks in SQL; a save is conditional on the version that was read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update

from songy.adapters.sql import tables
from songy.adapters.sql.timestamps import aware_utc
from songy.domain.errors import Conflict
from songy.domain.playlist import Playlist

if TYPE_CHECKING:
    from songy.adapters.sql.unit_of_work import SqlUnitOfWork

_p = tables.playlists
_t = tables.playlist_tracks


class SqlPlaylistRepository:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def add(self, playlist: Playlist) -> None:
        values = {k: getattr(playlist, k) for k in ("id", "user_id", "name", "created_at", "updated_at", "version")}
        await self._uow.execute(insert(_p).values(**values))
        await self._write_tracks(playlist)

    async def get_owned(self, playlist_id: str, user_id: str, *, for_update: bool = False) -> Playlist | None:
        query = select(_p).where(_p.c.id == playlist_id, _p.c.user_id == user_id)
        row = (await self._uow.execute(query.with_for_update() if for_update else query)).first()
        return (await self._with_tracks([row]))[0] if row else None

    async def list_for_user(self, user_id: str) -> list[Playlist]:
        query = select(_p).where(_p.c.user_id == user_id).order_by(_p.c.created_at.desc(), _p.c.id.desc())
        return await self._with_tracks((await self._uow.execute(query)).all())

    async def save(self, playlist: Playlist) -> None:
        values = {"name": playlist.name, "updated_at": playlist.updated_at, "version": playlist.version + 1}
        statement = update(_p).where(_p.c.id == playlist.id, _p.c.version == playlist.version).values(**values)
        if (await self._uow.execute(statement)).rowcount != 1:
            raise Conflict(f"playlist {playlist.id} was changed or removed by a concurrent request; try again")
        playlist.version += 1
        await self._write_tracks(playlist)

    async def delete(self, playlist_id: str) -> None:
        await self._uow.execute(delete(_t).where(_t.c.playlist_id == playlist_id))
        await self._uow.execute(delete(_p).where(_p.c.id == playlist_id))

    async def _write_tracks(self, playlist: Playlist) -> None:
        await self._uow.execute(delete(_t).where(_t.c.playlist_id == playlist.id))
        if playlist.track_ids:
            rows = [
                {"playlist_id": playlist.id, "music_id": music_id, "position": index}
                for index, music_id in enumerate(playlist.track_ids)
            ]
            await self._uow.execute(insert(_t).values(rows))

    async def _with_tracks(self, rows: Any) -> list[Playlist]:
        if not rows:
            return []
        ids = [row.id for row in rows]
        query = select(_t).where(_t.c.playlist_id.in_(ids)).order_by(_t.c.playlist_id, _t.c.position)
        tracks: dict[str, list[str]] = {i: [] for i in ids}
        for track in (await self._uow.execute(query)).all():
            tracks[track.playlist_id].append(track.music_id)
        return [
            Playlist(
                row.id,
                row.user_id,
                row.name,
                aware_utc(row.created_at),
                aware_utc(row.updated_at),
                tracks[row.id],
                row.version,
            )
            for row in rows
        ]
