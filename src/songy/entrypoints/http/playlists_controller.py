"""``/api/playlists``: a user's playlists of their own completed tracks."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from songy.domain.music import Music
from songy.domain.playlist import Playlist
from songy.domain.user import Identity
from songy.entrypoints.http.auth import current_identity
from songy.entrypoints.http.envelope import ok
from songy.entrypoints.http.presenters import iso_timestamp, status_view


def playlist_view(
    playlist: Playlist, tracks: list[Music] | None = None, audio_urls: list[str | None] | None = None
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "playlistId": playlist.id,
        "name": playlist.name,
        "musicIds": list(playlist.track_ids),
        "createdAt": iso_timestamp(playlist.created_at),
        "updatedAt": iso_timestamp(playlist.updated_at),
    }
    if tracks is not None:
        urls = audio_urls if audio_urls is not None else [None] * len(tracks)
        view["tracks"] = [status_view(m, u) for m, u in zip(tracks, urls, strict=True)]
    return view


class PlaylistsController(Controller):
    path = "/api/playlists"
    tags = ["playlists"]
    dependencies = {"identity": Provide(current_identity)}
    security = [{"BearerAuth": []}]

    @post("/", status_code=201, summary="Create a playlist")
    async def create(
        self, request: Request[Any, Any, Any], identity: NamedDependency[Identity], data: JSONBody[dict[str, Any]]
    ) -> Response[dict[str, Any]]:
        playlist = await request.app.state.container.playlists().create(identity, data.get("name"))
        return ok(playlist_view(playlist, []), "Playlist created", status_code=201)

    @get("/", summary="Your playlists, newest first")
    async def list_playlists(
        self, request: Request[Any, Any, Any], identity: NamedDependency[Identity]
    ) -> Response[dict[str, Any]]:
        playlists = await request.app.state.container.playlists().list(identity)
        return ok({"items": [playlist_view(p) for p in playlists]})

    @get("/{playlist_id:str}", summary="A playlist with its tracks")
    async def get_playlist(
        self, request: Request[Any, Any, Any], identity: NamedDependency[Identity], playlist_id: FromPath[str]
    ) -> Response[dict[str, Any]]:
        container = request.app.state.container
        playlist, tracks = await container.playlists().get(identity, playlist_id)
        return ok(playlist_view(playlist, tracks, await container.audio_urls().many(tracks)))

    @patch("/{playlist_id:str}", summary="Rename")
    async def rename(
        self,
        request: Request[Any, Any, Any],
        identity: NamedDependency[Identity],
        playlist_id: FromPath[str],
        data: JSONBody[dict[str, Any]],
    ) -> Response[dict[str, Any]]:
        playlist = await request.app.state.container.playlists().rename(identity, playlist_id, data.get("name"))
        return ok(playlist_view(playlist))

    @delete("/{playlist_id:str}", status_code=200, summary="Delete (the tracks stay)")
    async def delete_playlist(
        self, request: Request[Any, Any, Any], identity: NamedDependency[Identity], playlist_id: FromPath[str]
    ) -> Response[dict[str, Any]]:
        await request.app.state.container.playlists().delete(identity, playlist_id)
        return ok({"playlistId": playlist_id, "deleted": True})

    @post("/{playlist_id:str}/tracks", status_code=200, summary="Add a track (at the end, or at `position`)")
    async def add_track(
        self,
        request: Request[Any, Any, Any],
        identity: NamedDependency[Identity],
        playlist_id: FromPath[str],
        data: JSONBody[dict[str, Any]],
    ) -> Response[dict[str, Any]]:
        playlist = await request.app.state.container.playlists().add_track(
            identity, playlist_id, data.get("musicId"), data.get("position")
        )
        return ok(playlist_view(playlist))

    @delete("/{playlist_id:str}/tracks/{music_id:str}", status_code=200, summary="Remove a track")
    async def remove_track(
        self,
        request: Request[Any, Any, Any],
        identity: NamedDependency[Identity],
        playlist_id: FromPath[str],
        music_id: FromPath[str],
    ) -> Response[dict[str, Any]]:
        playlist = await request.app.state.container.playlists().remove_track(identity, playlist_id, music_id)
        return ok(playlist_view(playlist))

    @put("/{playlist_id:str}/tracks", summary="Reorder: send every musicId once, in the new order")
    async def reorder(
        self,
        request: Request[Any, Any, Any],
        identity: NamedDependency[Identity],
        playlist_id: FromPath[str],
        data: JSONBody[dict[str, Any]],
    ) -> Response[dict[str, Any]]:
        playlist = await request.app.state.container.playlists().reorder(identity, playlist_id, data.get("musicIds"))
        return ok(playlist_view(playlist))
