"""A receiver cannot hold the sender: one deadline covers the whole attempt, the answer's body is never read, and
redirects are not followed. The receivers here are raw loopback servers that misbehave on purpose."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest

from songy.adapters.webhook_address_guard import AddressGuard
from songy.adapters.webhook_sender import HttpWebhookSender
from songy.adapters.webhook_url import WebhookUrlRules
from songy.ports.events import WebhookSendError

SECRET = "whsec_" + "A" * 43
Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class RawReceiver:
    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.requests = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[object]] = set()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.requests += 1
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            with contextlib.suppress(ConnectionError):
                await reader.readuntil(b"\r\n\r\n")
                await self.behaviour(reader, writer)
        finally:
            writer.close()

    async def __aenter__(self) -> RawReceiver:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._handlers:
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)


@contextlib.asynccontextmanager
async def receiving(behaviour: Behaviour) -> AsyncIterator[tuple[RawReceiver, HttpWebhookSender]]:
    sender = HttpWebhookSender(
        urls=WebhookUrlRules(allow_http=True, allow_private=True),
        guard=AddressGuard(allow_private=True),
        timeout_s=0.5,
    )
    async with RawReceiver(behaviour) as receiver:
        yield receiver, sender
    await sender.aclose()


async def send(sender: HttpWebhookSender, port: int) -> int:
    return await sender.send(f"http://127.0.0.1:{port}/hook", SECRET, "msg_1", b"{}", datetime.now(UTC))


async def test_a_receiver_that_never_answers_is_a_send_error_after_the_deadline() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.Event().wait()

    async with receiving(silent) as (receiver, sender), asyncio.timeout(5):
        with pytest.raises(WebhookSendError, match=r"no answer within 0\.5 s"):
            await send(sender, receiver.port)


async def test_a_receiver_dripping_its_headers_is_cut_off_at_the_deadline() -> None:
    async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\n")
        for n in range(1000):  # each byte well within any per-read timeout, never the end of the headers
            writer.write(f"x-drip-{n}: y\r\n".encode())
            await writer.drain()
            await asyncio.sleep(0.05)

    async with receiving(drip) as (receiver, sender), asyncio.timeout(5):
        with pytest.raises(WebhookSendError, match="no answer within"):
            await send(sender, receiver.port)


async def test_an_endless_answer_body_is_never_read() -> None:
    answered = asyncio.Event()

    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 202 Accepted\r\ntransfer-encoding: chunked\r\n\r\n")
        await writer.drain()
        answered.set()
        while True:
            writer.write(b"1000\r\n" + b"x" * 0x1000 + b"\r\n")
            await writer.drain()
            await asyncio.sleep(0.01)

    async with receiving(endless) as (receiver, sender), asyncio.timeout(5):
        assert await send(sender, receiver.port) == 202
    assert answered.is_set()


async def test_a_redirect_is_an_answer_not_followed() -> None:
    async def redirect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # to this very receiver (tests stay on loopback): a followed redirect would be a second request
        writer.write(b"HTTP/1.1 307 Temporary Redirect\r\nlocation: /elsewhere\r\ncontent-length: 0\r\n\r\n")
        await writer.drain()

    async with receiving(redirect) as (receiver, sender), asyncio.timeout(5):
        assert await send(sender, receiver.port) == 307
    assert receiver.requests == 1
