"""``songy serve`` as a real process with 50 WebSockets and 50 SSE streams open: a stop signal closes every
stream at once and the process exits 0 within seconds, with no traceback (SIGTERM, SIGINT, SIGINT twice)."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from tests.support.redis_server import RedisServer
from tests.support.songy_serve import Serve

pytestmark = pytest.mark.e2e

STREAMS = 50


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """Songy on Redis (events over pub/sub) with no worker: generated tracks stay GENERATING, so their SSE
    streams stay open until something closes them."""
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    server = Serve(tmp_path, SONGY_REDIS_URL=redis.url)
    try:
        yield server
    finally:
        server.stop()
        redis.stop()


def open_streams(server: Serve, stack: ExitStack) -> tuple[list[ClientConnection], list[Iterator[str]]]:
    """50 WebSockets (each saw ``ready``) and 50 SSE streams (each sent its first event) of one user."""
    token = server.token("user_shutdown")
    auth = {"Authorization": f"Bearer {token}"}
    http = stack.enter_context(
        httpx.Client(base_url=server.base_url, timeout=30, limits=httpx.Limits(max_connections=STREAMS + 5))
    )
    body = {"name": "Held", "prompt": "slow ambient drone", "lengthMs": 3000}
    music_id = http.post("/api/music-generator/generate", json=body, headers=auth).json()["data"]["musicId"]
    sockets = []
    for _ in range(STREAMS):
        ws = stack.enter_context(ws_connect(f"ws://127.0.0.1:{server.port}/api/music-generator/ws?token={token}"))
        assert json.loads(ws.recv(timeout=10))["type"] == "ready"
        sockets.append(ws)
    streams = []
    for _ in range(STREAMS):
        request = http.build_request("GET", f"/api/music-generator/status/{music_id}/events", headers=auth)
        response = http.send(request, stream=True)
        stack.callback(response.close)
        assert response.status_code == 200
        lines = response.iter_lines()
        assert '"GENERATING"' in next(line for line in lines if line.startswith("data:"))
        streams.append(lines)
    return sockets, streams


def assert_clean_exit(server: Serve, started: float) -> None:
    code = server.process.wait(timeout=30)
    elapsed = time.monotonic() - started
    output = server.log()
    assert elapsed < 5, f"took {elapsed:.1f}s to exit:\n{output[-3000:]}"
    assert code == 0, output[-3000:]
    for sign in ("Traceback", "CancelledError", "Exception in", "Waiting for background tasks"):
        assert sign not in output, output[-3000:]


def assert_streams_closed(sockets: list[ClientConnection], streams: list[Iterator[str]]) -> None:
    for ws in sockets:
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001  # going away
    for lines in streams:
        assert [line for line in lines if line.startswith("event:")] == []  # ended, nothing more sent


@pytest.mark.parametrize("signals", [[signal.SIGTERM], [signal.SIGINT], [signal.SIGINT, signal.SIGINT]])
def test_a_stop_signal_closes_every_stream_and_exits_cleanly(serve: Serve, signals: list[signal.Signals]) -> None:
    with ExitStack() as stack:
        sockets, streams = open_streams(serve, stack)
        started = time.monotonic()
        for sig in signals:
            serve.process.send_signal(sig)
        assert_clean_exit(serve, started)
        assert_streams_closed(sockets, streams)
