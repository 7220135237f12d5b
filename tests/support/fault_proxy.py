"""An HTTP proxy in front of an S3 endpoint that fails a share of the calls, as an overloaded S3 would:
503 ``SlowDown`` answers and stalls. Runs with uvicorn in a thread."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx

from tests.support.asgi import read_body

SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


class FaultProxy:
    def __init__(self, upstream: str, rate: float, seed: int = 11) -> None:
        self.upstream = upstream.rstrip("/")
        self.rate = rate
        self.calls = 0
        self.faults = 0
        self._random = random.Random(seed)
        self._client: httpx.AsyncClient | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = await read_body(receive)
        self.calls += 1
        if self._random.random() < self.rate:
            self.faults += 1
            if self._random.random() < 0.5:
                await asyncio.sleep(0.5)
            await send(
                {"type": "http.response.start", "status": 503, "headers": [(b"content-type", b"application/xml")]}
            )
            await send({"type": "http.response.body", "body": SLOW_DOWN})
            return
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=60)
        url = (
            self.upstream
            + scope["raw_path"].decode()
            + (("?" + scope["query_string"].decode()) if scope["query_string"] else "")
        )
        headers = [(k.decode(), v.decode()) for k, v in scope["headers"] if k.lower() != b"host"]
        upstream = await self._client.request(scope["method"], url, headers=headers, content=body)
        drop = {"content-length", "transfer-encoding", "connection", "content-encoding"}
        out = [(k.encode(), v.encode()) for k, v in upstream.headers.items() if k.lower() not in drop]
        out.append((b"content-length", str(len(upstream.content)).encode()))
        await send({"type": "http.response.start", "status": upstream.status_code, "headers": out})
        await send({"type": "http.response.body", "body": upstream.content})
