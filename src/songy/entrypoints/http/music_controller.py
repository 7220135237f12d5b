"""``/api/music-generator``: generate, status and download, as the seed's flow document defines them."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import Body, FromPath, FromQuery, QueryParameter

from songy.domain.errors import FieldError, ValidationError
from songy.domain.formats import OutputFormat
from songy.domain.generation_request import GenerationRequest
from songy.domain.idempotency import IdempotencyKey
from songy.domain.use_cases.generate_music import MAX_BATCH
from songy.domain.user import Identity
from songy.entrypoints.http.auth import current_identity
from songy.entrypoints.http.envelope import ok
from songy.entrypoints.http.openapi import GenerateMusicBody
from songy.entrypoints.http.presenters import created_view, iso_timestamp, status_view


class MusicGeneratorController(Controller):
    path = "/api/music-generator"
    tags = ["music"]
    dependencies = {"identity": Provide(current_identity)}
    security = [{"BearerAuth": []}]

    @post(
        "/generate",
        status_code=201,
        summary="Start generating a track",
        description="Answers at once with the musicId and status GENERATING; poll the status route. "
        "Send an Idempotency-Key header to make retries safe for 24 h.",
    )
    async def generate(
        self,
        request: Request[Any, Any, Any],
        identity: NamedDependency[Identity],
        data: Annotated[dict[str, Any], Body(title="GenerateMusic", description=GenerateMusicBody.__doc__)],
    ) -> Response[dict[str, Any]]:
        generation = GenerationRequest.from_mapping(data)
        result = await request.app.state.container.generate_music()(
            identity, generation, _idempotency(request, "generate", data)
        )
        response = ok(created_view(result.music[0]), "Music generation job created successfully", status_code=201)
        return _mark_replay(response, result.replayed)

    @post("/batch", status_code=201, summary="Start up to 10 tracks at once (all or nothing)")
    async def batch(
        self,
        request: Request[Any, Any, Any],
        identity: NamedDependency[Identity],
        data: Annotated[dict[str, Any], Body(title="GenerateBatch", description='{"items": [GenerateMusic, ...]}')],
    ) -> Response[dict[str, Any]]:
        generations = _batch_items(data)
        result = await request.app.state.container.generate_music()(
            identity, generations, _idempotency(request, "batch", data)
        )
        body = {"musicIds": [m.id for m in result.music], "items": [created_view(m) for m in result.music]}
        response = ok(body, f"{len(result.music)} music generation jobs created successfully", status_code=201)
        return _mark_replay(response, result.replayed)

    @get("/", summary="Your tracks, newest first, with cursor pagination")
    async def list_music(
        self,
        request: Request[Any, Any, Any],
        identity: NamedDependency[Identity],
        status: FromQuery[str | None] = None,
        limit: Annotated[str | None, QueryParameter(description="1-100, default 20")] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[dict[str, Any]]:
        size = _int_param("limit", limit, default=20)
        container = request.app.state.container
        page = await container.list_music()(identity, status=status, limit=size, cursor=cursor)
        urls = await container.audio_urls().many(page.items)
        return ok(
            {
                "items": [status_view(m, u) for m, u in zip(page.items, urls, strict=True)],
                "nextCursor": page.next_cursor,
            }
        )

    @post("/{music_id:str}/cancel", status_code=200, summary="Cancel a track that is still generating")
    async def cancel(
        self, request: Request[Any, Any, Any], identity: NamedDependency[Identity], music_id: FromPath[str]
    ) -> Response[dict[str, Any]]:
        container = request.app.state.container
        music = await container.cancel_music()(identity, music_id)
        return ok(status_view(music, await container.audio_urls()(music)), "Music generation canceled")

    @delete("/{music_id:str}", status_code=200, summary="Delete a track and its stored files (all formats)")
    async def delete_music(
        self, request: Request[Any, Any, Any], identity: NamedDependency[Identity], music_id: FromPath[str]
    ) -> Response[dict[str, Any]]:
        await request.app.state.container.delete_music()(identity, music_id)
        return ok({"musicId": music_id, "deleted": True}, "Music deleted")

    @get("/status/{music_id:str}", summary="Status of one of your tracks")
    async def status(
        self, request: Request[Any, Any, Any], identity: NamedDependency[Identity], music_id: FromPath[str]
    ) -> Response[dict[str, Any]]:
        container = request.app.state.container
        music = await container.get_music_status()(identity, music_id)
        return ok(status_view(music, await container.audio_urls()(music)))

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
        link, served = await request.app.state.container.get_download_link()(identity, music_id, fmt)
        return ok(
            {"musicId": music_id, "format": served.name, "url": link.url, "expiresAt": iso_timestamp(link.expires_at)}
        )


def _int_param(name: str, raw: str | None, *, default: int) -> int:
    """Query integers parsed here so a bad one is a VALIDATION_ERROR naming the parameter."""
    if raw is None:
        return default
    if not re.fullmatch(r"-?[0-9]{1,9}", raw):  # ASCII digits only: int() would also take "٣" or " 3\n"
        raise ValidationError([FieldError(name, "must be an integer")])
    return int(raw)


def _batch_items(data: dict[str, Any]) -> list[GenerationRequest]:
    """Every item validated; any error names its item (``items[2].lengthMs``) and nothing is created."""
    items = data.get("items")
    unknown = sorted(set(data) - {"items"})
    if unknown or not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        details = [FieldError(key, "unknown field") for key in unknown]
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
            details.append(FieldError("items", f"must be a list of 1 to {MAX_BATCH} requests"))
        raise ValidationError(details)
    generations, errors = [], []
    for index, item in enumerate(items):
        try:
            generations.append(GenerationRequest.from_mapping(item))
        except ValidationError as exc:
            errors += [FieldError(f"items[{index}].{d.field}", d.message) for d in exc.details]
    if errors:
        raise ValidationError(errors)
    return generations


def _idempotency(request: Request[Any, Any, Any], route: str, body: dict[str, Any]) -> IdempotencyKey | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    canonical = json.dumps([route, body], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return IdempotencyKey.create(key, hashlib.sha256(canonical.encode()).hexdigest())


def _mark_replay(response: Response[dict[str, Any]], replayed: bool) -> Response[dict[str, Any]]:
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response
