"""A faithful local fake of the ElevenLabs Music API (``POST /v1/music``), as a small ASGI app.

It checks ``xi-api-key``, the ``output_format`` query and the JSON body like the real service, answers 200 with
real audio of the requested length and format (chunked, ``song-id`` header), and can be told, through
``POST /_control/script``, to answer the next requests with faults: a status code with ElevenLabs' error body,
latency, a stream truncated mid-way, or a whole track of another length (``length_ms``). ``GET /_control/calls``
lists what it received.

Run standalone: ``python -m tests.support.fake_elevenlabs --port 8765 --api-key test-key``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import uvicorn

from songy.adapters.codecs import encode
from songy.domain.formats import Codec, OutputFormat
from tests.support.asgi import read_body

ERRORS: dict[str, tuple[int, dict[str, Any]]] = {
    "bad_prompt": (
        400,
        {
            "detail": {
                "status": "bad_prompt",
                "message": "The prompt references copyrighted material.",
                "data": {"prompt_suggestion": "an upbeat pop song with bright synths"},
            }
        },
    ),
    "unauthorized": (401, {"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}),
    "quota": (402, {"detail": {"status": "quota_exceeded", "message": "Not enough credits"}}),
    "rate_limited": (429, {"detail": {"status": "too_many_concurrent_requests", "message": "Too many requests"}}),
    "server_error": (500, {"detail": {"status": "internal_error", "message": "Internal server error"}}),
    "unavailable": (503, {"detail": {"status": "service_unavailable", "message": "Try again later"}}),
}
CONTENT_TYPES = {
    Codec.MP3: "audio/mpeg",
    Codec.PCM: "audio/pcm",
    Codec.ULAW: "audio/basic",
    Codec.ALAW: "audio/alaw",
    Codec.OPUS: "audio/opus",
}


def tone(length_ms: int, rate: int) -> np.ndarray:
    """A quiet, audible two-note tone, stereo float32."""
    n = round(length_ms * rate / 1000)
    t = np.arange(n, dtype=np.float32) / rate
    mono = 0.2 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 660 * t)
    return np.stack([mono, mono], axis=1).astype(np.float32)


class FakeElevenLabs:
    """The ASGI app. ``script`` holds the behaviour of the next requests, oldest first."""

    def __init__(self, api_key: str = "test-key", chunk_size: int = 16 * 1024) -> None:
        self.api_key = api_key
        self.chunk_size = chunk_size
        self.script: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []
        self.default_latency = 0.0
        self.chaos_rate = 0.0
        self._random = random.Random(7)
        self._lock = threading.Lock()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = await read_body(receive)
        path, method = scope["path"], scope["method"]
        if path == "/_control/script" and method == "POST":
            payload = json.loads(body or b"{}")
            with self._lock:
                self.script.extend(payload.get("steps", []))
                self.default_latency = float(payload.get("latency", self.default_latency))
                self.chaos_rate = float(payload.get("chaos", self.chaos_rate))
            return await _json(send, 200, {"queued": len(self.script)})
        if path == "/_control/calls":
            return await _json(send, 200, {"calls": self.calls})
        if path == "/_control/reset" and method == "POST":
            with self._lock:
                self.script.clear()
                self.calls.clear()
                self.default_latency = 0.0
            return await _json(send, 200, {})
        if path != "/v1/music" or method != "POST":
            return await _json(send, 404, {"detail": "Not Found"})
        await self._music(scope, body, send)

    async def _music(self, scope: dict[str, Any], body: bytes, send: Any) -> None:
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        query = dict(p.split("=", 1) for p in scope["query_string"].decode().split("&") if "=" in p)
        with self._lock:
            step = self.script.pop(0) if self.script else self._chaos_step()
        self.calls.append({"query": query, "api_key": headers.get("xi-api-key"), "body": body.decode(), "step": step})
        await asyncio.sleep(float(step.get("latency", self.default_latency)))
        if headers.get("xi-api-key") != self.api_key:
            status, error = ERRORS["unauthorized"]
            return await _json(send, status, error)
        if "error" in step:
            status, error = ERRORS[step["error"]]
            return await _json(send, status, error)
        try:
            request = json.loads(body)
            fmt = OutputFormat.parse(query.get("output_format", "mp3_44100_128"))
            length_ms = int(request["music_length_ms"])
            assert isinstance(request["prompt"], str) and request["prompt"]
            assert fmt.codec is not Codec.WAV and 3000 <= length_ms <= 300_000
        except (ValueError, KeyError, AssertionError, TypeError) as exc:
            detail = [{"loc": ["body"], "msg": f"invalid request: {exc!r}", "type": "value_error"}]
            return await _json(send, 422, {"detail": detail})
        produced_ms = int(step.get("length_ms", length_ms))  # a model that misses the asked length
        audio = b"".join(await asyncio.to_thread(lambda: list(encode(tone(produced_ms, fmt.sample_rate), fmt))))
        truncate_at = int(len(audio) * float(step["truncate"])) if "truncate" in step else None
        response_headers = [
            (b"content-type", CONTENT_TYPES[fmt.codec].encode()),
            (b"song-id", uuid.uuid4().hex.encode()),
        ]
        if truncate_at is not None:  # declare the full length, send less, hang up
            response_headers.append((b"content-length", str(len(audio)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": response_headers})
        sent = 0
        limit = truncate_at if truncate_at is not None else len(audio)
        while sent < limit:
            chunk = audio[sent : min(limit, sent + self.chunk_size)]
            sent += len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            if "chunk_delay" in step:
                await asyncio.sleep(float(step["chunk_delay"]))
        if truncate_at is not None:
            raise ConnectionAbortedError("fake ElevenLabs truncates the stream on purpose")
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _chaos_step(self) -> dict[str, Any]:
        """With probability ``chaos_rate``, one fault drawn at random (errors, a stall, a truncated stream)."""
        if self._random.random() >= self.chaos_rate:
            return {}
        return self._random.choice(
            [
                {"error": "rate_limited"},
                {"error": "server_error"},
                {"error": "unavailable"},
                {"truncate": 0.3},
                {"latency": 1.5},
            ]
        )


async def _json(send: Any, status: int, payload: Any) -> None:
    data = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


@contextmanager
def running(app: FakeElevenLabs, port: int = 0) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on loopback; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("fake ElevenLabs did not start")
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", default="test-key")
    args = parser.parse_args()
    uvicorn.run(FakeElevenLabs(args.api_key), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
