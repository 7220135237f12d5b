"""Live status over Server-Sent Events and WebSocket, fed by the domain events."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from dependency_injector import providers
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import WebSocketTestSession
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import connect as ws_connect

from songy.adapters.memory.event_bus import InProcessEventBus
from songy.container import build_container
from songy.entrypoints.http import realtime_controller
from songy.entrypoints.http.app import create_app
from songy.settings import Settings
from tests.support.live_server import LiveServer, live_server, wait_until
from tests.support.redis_server import RedisServer

from .conftest import SECRET, Api, GatedGenerator


class Live:
    """The app served by a real uvicorn (streams are not buffered as in the test client), with its container."""

    def __init__(self, server: LiveServer, container: Any) -> None:
        self.server = server
        self.container = container
        self.http = httpx.Client(base_url=server.http_url, timeout=20)

    def token(self, user: str = "user_alice", ttl: timedelta = timedelta(hours=1)) -> str:
        return str(self.container.dev_tokens().mint(user, ttl=ttl))

    def auth(self, user: str = "user_alice") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"}

    def generate(self, user: str = "user_alice") -> str:
        body = {"name": "Test Song", "prompt": "upbeat electronic music", "lengthMs": 3000}
        response = self.http.post("/api/music-generator/generate", json=body, headers=self.auth(user))
        assert response.status_code == 201, response.text
        return str(response.json()["data"]["musicId"])

    def subscriptions(self) -> int:
        return int(self.container.event_bus().subscriber_count())


@pytest.fixture
def make_live(tmp_path: Path) -> Iterator[Callable[..., Live]]:
    with contextlib.ExitStack() as stack:

        def factory(generator: Any = None, **overrides: Any) -> Live:
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                data_dir=tmp_path / f"live{len(stack._exit_callbacks)}",
                dev_token_secret=SECRET,
                outbox_poll_interval_s=0.05,
                **overrides,
            )
            container = build_container(settings)
            if generator is not None:
                container.audio_generator.override(providers.Object(generator))
            live = Live(stack.enter_context(live_server(create_app(container))), container)
            stack.callback(live.http.close)
            return live

        yield factory


@pytest.fixture
def held_live(make_live: Callable[..., Live], gated: GatedGenerator) -> Live:
    return make_live(generator=gated)


def sse_events(lines: list[str]) -> list[tuple[str, dict[str, object]]]:
    events, kind = [], None
    for line in lines:
        if line.startswith("event:"):
            kind = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and kind:
            events.append((kind, json.loads(line.split(":", 1)[1])))
        elif not line:
            kind = None  # an event ends at a blank line (a keepalive comment carries no event name)
    return events


def test_sse_streams_status_changes_until_final(held_live: Live, gated: GatedGenerator) -> None:
    live = held_live
    music_id = live.generate()
    lines: list[str] = []
    with live.http.stream("GET", f"/api/music-generator/status/{music_id}/events", headers=live.auth()) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            lines.append(line)
            if line.startswith("data:"):
                gated.open()  # the stream is live (it sent the current status): now let the track finish
    statuses = [data["status"] for kind, data in sse_events(lines) if kind == "status"]
    assert statuses[0] == "GENERATING" and statuses[-1] == "COMPLETED"
    assert sse_events(lines)[-1][1]["audioUrl"]


def test_sse_of_a_finished_track_sends_one_event_and_ends(api: Api) -> None:
    music_id = api.generate().json()["data"]["musicId"]
    api.wait_for(music_id)
    with api.client.stream("GET", f"/api/music-generator/status/{music_id}/events", headers=api.auth()) as stream:
        events = sse_events(list(stream.iter_lines()))
    assert [data["status"] for _, data in events] == ["COMPLETED"]


def test_sse_of_another_users_track_is_404(api: Api) -> None:
    music_id = api.generate("user_alice").json()["data"]["musicId"]
    response = api.client.get(f"/api/music-generator/status/{music_id}/events", headers=api.auth("user_bob"))
    assert response.status_code == 404 and response.json()["error"]["code"] == "MUSIC_NOT_FOUND"


def test_sse_needs_a_token(api: Api) -> None:
    assert api.client.get("/api/music-generator/status/x/events").status_code == 401


def receive_until(ws: WebSocketTestSession, status: str, music_id: str) -> list[str]:
    seen = []
    while True:
        message = ws.receive_json(timeout=20)
        if message["type"] == "status" and message["data"]["musicId"] == music_id:
            seen.append(message["data"]["status"])
            if message["data"]["status"] == status:
                return seen


def test_websocket_pushes_the_users_status_changes(held_api: Api, gated: GatedGenerator) -> None:
    api = held_api
    bus = api.container.event_bus()
    with api.client.websocket_connect(f"/api/music-generator/ws?token={api.token()}") as ws:
        assert ws.receive_json(timeout=5)["type"] == "ready"
        other = api.generate("user_bob").json()["data"]["musicId"]
        mine = api.generate().json()["data"]["musicId"]
        gated.open()
        received = [receive_json_with_id(ws)]
        while received[-1] != (mine, "COMPLETED"):
            received.append(receive_json_with_id(ws))
        # bob's completion has reached the bus; a marker of alice's published after it arrives after anything
        # the bus gave this socket before it, so bob's track cannot show up later unnoticed
        wait_for_published(bus, other)
        marker = api.generate().json()["data"]["musicId"]
        while received[-1] != (marker, "COMPLETED"):
            received.append(receive_json_with_id(ws))
    assert {music_id for music_id, _ in received} == {mine, marker}
    assert [status for music_id, status in received if music_id == mine][-1] == "COMPLETED"


def receive_json_with_id(ws: WebSocketTestSession) -> tuple[str, str]:
    message = ws.receive_json(timeout=20)
    assert message["type"] == "status", message
    return message["data"]["musicId"], message["data"]["status"]


def wait_for_published(bus: InProcessEventBus, music_id: str) -> None:
    wait_until(
        lambda: any(e.music_id == music_id and e.name.endswith("completed") for e in bus.published),
        what=f"the completion of {music_id} published",
    )


def test_websocket_only_carries_own_music(held_api: Api, gated: GatedGenerator) -> None:
    api = held_api
    with api.client.websocket_connect(f"/api/music-generator/ws?token={api.token('user_bob')}") as ws:
        assert ws.receive_json(timeout=5)["type"] == "ready"
        api.generate("user_alice")
        mine = api.generate("user_bob").json()["data"]["musicId"]
        gated.open()
        received = []
        while True:
            message = ws.receive_json(timeout=20)
            received.append(message["data"]["musicId"])
            if message["data"]["musicId"] == mine and message["data"]["status"] == "COMPLETED":
                break
    assert set(received) == {mine}


def test_websocket_with_a_bad_token_is_closed(api: Api) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as exc,
        api.client.websocket_connect("/api/music-generator/ws?token=nope") as ws,
    ):
        ws.receive_json(timeout=5)
    assert exc.value.code == 4401


@pytest.fixture(params=["local", "redis"])
def bus_live(request: pytest.FixtureRequest, make_live: Callable[..., Live], tmp_path: Path) -> Iterator[Live]:
    """A live app on the in-process event bus, and on the Redis one (SONGY_REDIS_URL set)."""
    if request.param == "local":
        yield make_live()
        return
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    try:
        yield make_live(redis_url=redis.url)
    finally:
        redis.stop()


def test_websocket_clients_that_leave_leave_no_subscription_and_no_task(bus_live: Live) -> None:
    live = bus_live
    url = f"{live.server.ws_url}/api/music-generator/ws?token={live.token()}"
    with ws_connect(url) as ws:  # a first client, so that what is made once per process exists
        assert json.loads(ws.recv(timeout=10))["type"] == "ready"
    wait_until(lambda: live.subscriptions() == 0, what="the first client's subscription released")
    baseline = live.server.task_count()
    for _ in range(300):
        with ws_connect(url) as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "ready"  # subscribed by now
    wait_until(lambda: live.subscriptions() == 0, timeout=10, what="every subscription released")
    wait_until(lambda: live.server.task_count() <= baseline, timeout=10, what="every connection's task ended")


def test_sse_clients_that_leave_release_their_subscription(held_live: Live) -> None:
    live = held_live
    music_id = live.generate()  # stays GENERATING: its stream would run until the client leaves
    url = f"/api/music-generator/status/{music_id}/events"
    for attempt in range(50):
        with live.http.stream("GET", url, headers=live.auth()) as stream:
            lines = stream.iter_lines()  # held: a dropped line iterator closes the connection
            data = next(line for line in lines if line.startswith("data:"))
            assert '"GENERATING"' in data
            assert live.subscriptions() >= 1, attempt
    wait_until(lambda: live.subscriptions() == 0, timeout=10, what="every SSE subscription released")


def test_sse_keepalives_do_not_end_the_stream(
    held_live: Live, gated: GatedGenerator, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = held_live
    monkeypatch.setattr(realtime_controller, "KEEPALIVE_S", 0.05)
    music_id = live.generate()
    lines: list[str] = []
    with live.http.stream("GET", f"/api/music-generator/status/{music_id}/events", headers=live.auth()) as stream:
        for line in stream.iter_lines():
            lines.append(line)
            if sum(line.startswith(": keepalive") for line in lines) == 3:
                gated.open()
    statuses = [data["status"] for kind, data in sse_events(lines) if kind == "status"]
    assert statuses[0] == "GENERATING" and statuses[-1] == "COMPLETED", lines


def forged_token(live: Live) -> str:
    claims = jwt.decode(live.token(), options={"verify_signature": False})
    return jwt.encode(claims, "another-secret-" + "y" * 40, algorithm="HS256")


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(forged_token, id="forged"),
        pytest.param(lambda live: live.token(ttl=timedelta(minutes=-5)), id="expired"),
        pytest.param(lambda live: None, id="missing"),
        pytest.param(lambda live: "not-a-token", id="garbage"),
    ],
)
def test_websocket_with_a_refused_token_is_closed_with_4401(
    make_live: Callable[..., Live], token: Callable[[Live], str | None]
) -> None:
    live = make_live()
    given = token(live)
    query = f"?token={given}" if given is not None else ""
    # the handshake succeeds (a browser cannot read a refused handshake's status), then the close code tells
    with (
        ws_connect(f"{live.server.ws_url}/api/music-generator/ws{query}") as ws,
        pytest.raises(ConnectionClosedError) as closed,
    ):
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401
    assert closed.value.rcvd.reason == "UNAUTHORIZED"
    assert live.subscriptions() == 0


def test_sse_clients_that_leave_before_the_stream_starts_leave_no_subscription(held_live: Live) -> None:
    live = held_live
    music_id = live.generate()
    host, port = live.server.http_url.removeprefix("http://").split(":")
    request = (
        f"GET /api/music-generator/status/{music_id}/events HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: {live.auth()['Authorization']}\r\n\r\n"
    ).encode()
    for read_headers in [True] * 50 + [False] * 50:
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            raw.sendall(request)
            if read_headers:  # the handler has answered: with the old code its subscription existed by now
                assert raw.recv(12).startswith(b"HTTP/1.1 200")
    wait_until(lambda: live.subscriptions() == 0, timeout=10, what="no subscription left by clients that left")
