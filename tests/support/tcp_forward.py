"""A TCP port that forwards to another loopback address once :meth:`open` is called: a dependency that is
unreachable until the test brings it back."""

from __future__ import annotations

import contextlib
import socket
import threading

from tests.support.moto import free_port


class TcpForward:
    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self.port = free_port()
        self._target = (host, target_port)
        self._server: socket.socket | None = None
        self._closing = threading.Event()

    def open(self) -> None:
        server = socket.create_server(("127.0.0.1", self.port))
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def close(self) -> None:
        self._closing.set()
        if self._server is not None:
            with contextlib.suppress(OSError):
                self._server.close()

    def _accept(self, server: socket.socket) -> None:
        while not self._closing.is_set():
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
