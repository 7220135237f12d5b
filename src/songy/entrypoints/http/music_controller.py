"""``/api/music-generator``: generate, status and download, as the seed's flow document defines them."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import Body, FromPath, QueryParameter

from songy.domain.errors import FieldError, ValidationError
from songy.domain.formats import OutputFormat
from songy.domain.generation_request import GenerationRequest
from songy.domain.user import Identity
from songy.entrypoints.http.auth import current_identity
from songy.entrypoints.http.envelope import ok
from songy.entrypoints.http.openapi import GenerateMusicBody
from songy.entrypoints.http.presenters import created_view, iso_timestamp, status_view

MUSIC_ID_MAX = 64


class MusicGeneratorController(Controller):
    path = "/api/music-generator"
    tags = ["music"]
    dependencies = {"identity": Provide(current_identity)}
    security = [{"BearerAuth": []}]

    @post(
        "/generate",
        status_code=201,
        summary="Start generating a track",
        description="Answers at once with the musicId and status GENERATING; poll the status route.",
    )
    async def generate(
        self,
        request: Request[Any, Any, Any],
        identity: NamedDependency[Identity],
        data: Annotated[dict[str, Any], Body(title="GenerateMusic", description=GenerateMusicBody.__doc__)],
    ) -> Response[dict[str, Any]]:
        generation = GenerationRequest.from_mapping(data)
        music = await request.app.state.container.generate_music()(identity, generation)
        return ok(created_view(music), "Music generation job created successfully", status_code=201)

    @get("/status/{music_id:str}", summary="Status of one of your tracks")
    async def status(
        self, request: Request[Any, Any, Any], identity: NamedDependency[Identity], music_id: FromPath[str]
    ) -> Response[dict[str, Any]]:
        music = await request.app.state.container.get_music_status()(identity, music_id[:MUSIC_ID_MAX])
        return ok(status_view(music))

    @get("/download/{music_id:str}", summary="An expiring download URL, optionally in another format")
    async def download(
        self,
        request: Request[Any, Any, Any],
        identity: NamedDependency[Identity],
        music_id: FromPath[str],
        output_format: Annotated[
            str | None, QueryParameter(name="format", description="e.g. wav_44100; default: the original")
        ] = None,
    ) -> Response[dict[str, Any]]:
        fmt = None
        if output_format is not None:
            try:
                fmt = OutputFormat.parse(output_format)
            except ValueError as exc:
                raise ValidationError([FieldError("format", str(exc))]) from None
        link, served = await request.app.state.container.get_download_link()(identity, music_id[:MUSIC_ID_MAX], fmt)
        return ok(
            {"musicId": music_id, "format": served.name, "url": link.url, "expiresAt": iso_timestamp(link.expires_at)}
        )
