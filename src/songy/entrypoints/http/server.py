"""The uvicorn server behind ``songy serve``: a stop signal ends every live stream at once, and the process
exits 0 without a traceback.

uvicorn alone waits for every open connection before the application's shutdown runs, so an SSE or WebSocket
client kept it "waiting for background tasks" until its next event; and it raises the signal again once it has
stopped (SIGTERM then ends the process with 143, SIGINT with a KeyboardInterrupt traceback)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import threading
from collections.abc import Iterator
from types import FrameType

import uvicorn

from songy.entrypoints.runtime import Runtime

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class SongyServer(uvicorn.Server):
    """The first SIGTERM/SIGINT closes every stream and starts uvicorn's graceful shutdown; a second one stops
    waiting (for connections and for running jobs) but still runs the application's shutdown to its end."""

    def __init__(self, config: uvicorn.Config, runtime: Runtime) -> None:
        super().__init__(config)
        self.runtime = runtime

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Handle the stop signals in the event loop and, unlike uvicorn, do not raise them again afterwards."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit:
            self.force_exit = True
            self.runtime.hurry()
        else:
            self.should_exit = True
            self.runtime.close_streams()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.runtime.close_streams()  # also when the shutdown has another cause than a signal
        await super().shutdown(sockets)
        lifespan = getattr(self, "lifespan", None)
        if self.force_exit and lifespan is not None and not lifespan.shutdown_event.is_set():
            # uvicorn skips the application's shutdown on a forced exit; the event loop would then cancel it
            # half-way (a CancelledError dump and nothing closed). Hurried, it is quick.
            await lifespan.shutdown()
