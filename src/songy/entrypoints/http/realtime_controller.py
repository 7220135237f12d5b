"""Live status: Server-Sent Events for one track, a WebSocket for all of a user's tracks."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from litestar import Controller, Request, WebSocket, get, websocket
from litestar.di import NamedDependency, Provide
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath
from litestar.response import ServerSentEvent, ServerSentEventMessage
from uvicorn.protocols.utils import ClientDisconnected

from songy.domain.errors import DomainError, MusicNotFound
from songy.domain.music import Music
from songy.domain.use_cases.audio_urls import AudioUrls
from songy.domain.user import Identity
from songy.entrypoints.http.auth import current_identity
from songy.entrypoints.http.presenters import status_view
from songy.ports.events import EventSubscription

KEEPALIVE_S = 15.0
CLOSE_UNAUTHORIZED = 4401
CLOSE_GOING_AWAY = 1001


class RealtimeController(Controller):
    path = "/api/music-generator"
    tags = ["music"]

    @get(
        "/status/{music_id:str}/events",
        summary="Status changes of one track as Server-Sent Events (ends at a final status)",
        dependencies={"identity": Provide(current_identity)},
        security=[{"BearerAuth": []}],
    )
    async def status_events(
        self, request: Request[Any, Any, Any], identity: NamedDependency[Identity], music_id: FromPath[str]
    ) -> ServerSentEvent:
        container = request.app.state.container
        get_status = container.get_music_status()
        music: Music = await get_status(identity, music_id)  # 404 before any stream starts

        async def stream() -> AsyncIterator[ServerSentEventMessage]:
            # subscribed here, not in the handler: a client that leaves before the stream starts never runs this
            # generator, so it must not leave a subscription behind. Litestar cancels the generator when the client
            # disconnects (it listens for http.disconnect); the server closing every subscription at shutdown ends
            # it the same way: either way ``finally`` releases the subscription at once
            subscription = container.event_bus().subscribe(music.user_id)
            try:
                current = await get_status(identity, music_id)
                yield await _message(container.audio_urls(), current)
                while not current.is_terminal:
                    try:
                        async with asyncio.timeout(KEEPALIVE_S):
                            event = await subscription.next()
                    except TimeoutError:
                        yield ServerSentEventMessage(comment="keepalive")
                        continue
                    if event is None:  # the server is shutting down: the client reconnects elsewhere
                        return
                    if event.music_id != music_id:
                        continue
                    try:
                        current = await get_status(identity, music_id)
                    except MusicNotFound:
                        yield ServerSentEventMessage(event="deleted", data=json.dumps({"musicId": music_id}))
                        return
                    yield await _message(container.audio_urls(), current)
            finally:
                await subscription.close()

        return ServerSentEvent(stream(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @websocket("/ws")
    async def status_socket(self, socket: WebSocket[Any, Any, Any]) -> None:
        """Authenticate with ``?token=`` (browsers cannot set headers on a WebSocket); then every status
        change of the caller's tracks arrives as ``{"type": "status", "data": {...}}``. A refused token is
        accepted and then closed with code 4401 (a browser can read a close code, never a handshake status);
        a server shutting down closes with 1001."""
        container = socket.app.state.container
        token = socket.query_params.get("token", "")
        try:
            identity = await container.identity_verifier().verify(token)
            user = await container.get_account()(identity)
        except DomainError as exc:
            await socket.accept()
            await socket.close(code=CLOSE_UNAUTHORIZED, reason=exc.code)
            return
        await socket.accept()
        subscription = container.event_bus().subscribe(user.id)
        # the client's side: when it goes away, the subscription closes, which ends the loop below at once
        receiver = asyncio.create_task(_drain(socket, subscription))
        try:
            await socket.send_json({"type": "ready", "data": {"userId": user.id}})
            async for event in subscription:
                try:
                    music = await container.get_music_status()(identity, event.music_id)
                except MusicNotFound:
                    await socket.send_json({"type": "deleted", "data": {"musicId": event.music_id}})
                    continue
                audio_url = await container.audio_urls()(music)
                await socket.send_json({"type": "status", "data": status_view(music, audio_url)})
            if not receiver.done():  # closed by the server (shutting down), not by the client
                await socket.close(code=CLOSE_GOING_AWAY, reason="server shutting down")
        except (WebSocketDisconnect, ClientDisconnected):
            pass
        finally:
            await subscription.close()
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, ClientDisconnected):
                await receiver


async def _drain(socket: WebSocket[Any, Any, Any], subscription: EventSubscription) -> None:
    """Read (and ignore) what the client sends until it disconnects, then close ``subscription``."""
    try:
        while True:
            await socket.receive_data(mode="text")
    except (WebSocketDisconnect, ClientDisconnected):
        pass
    finally:
        await subscription.close()


async def _message(audio_urls: AudioUrls, music: Music) -> ServerSentEventMessage:
    data = json.dumps(status_view(music, await audio_urls(music)))
    return ServerSentEventMessage(event="status", data=data, id=music.updated_at.isoformat())
