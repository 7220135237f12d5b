"""An ASGI app served by a real uvicorn on loopback, in a thread with its own event loop, so that a test can
talk to it with real WebSocket and HTTP clients and look into that loop (its tasks) while it runs."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import uvicorn

T = TypeVar("T")


class LiveServer:
    def __init__(self, server: uvicorn.Server, loop: asyncio.AbstractEventLoop) -> None:
        self.server = server
        self.loop = loop
        port = server.servers[0].sockets[0].getsockname()[1]
        self.http_url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}"

    def call(self, function: Callable[[], Coroutine[Any, Any, T]], timeout: float = 10) -> T:
        """Run ``function()`` in the server's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(function(), self.loop).result(timeout)

    def task_count(self) -> int:
        async def count() -> int:
            return len(asyncio.all_tasks())

        return self.call(count)


@contextmanager
def live_server(app: Any) -> Iterator[LiveServer]:
    """Serve ``app`` (lifespan included) on a free loopback port until the block ends."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(server, loop)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        loop.close()


def wait_until(condition: Callable[[], bool], timeout: float = 20, what: str = "condition") -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout}s")
        time.sleep(0.02)
