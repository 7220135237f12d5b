"""Live status over Server-Sent Events and WebSocket, fed by the domain events."""

from __future__ import annotations

import json
import threading

import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import WebSocketTestSession

from .conftest import Api, GatedGenerator


def sse_events(lines: list[str]) -> list[tuple[str, dict[str, object]]]:
    events, kind = [], None
    for line in lines:
        if line.startswith("event:"):
            kind = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and kind:
            events.append((kind, json.loads(line.split(":", 1)[1])))
    return events


def test_sse_streams_status_changes_until_final(held_api: Api, gated: GatedGenerator) -> None:
    api = held_api
    music_id = api.generate().json()["data"]["musicId"]
    threading.Timer(0.5, gated.open).start()
    with api.client.stream("GET", f"/api/music-generator/status/{music_id}/events", headers=api.auth()) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = list(stream.iter_lines())
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
    with api.client.websocket_connect(f"/api/music-generator/ws?token={api.token()}") as ws:
        assert ws.receive_json(timeout=5)["type"] == "ready"
        other = api.generate("user_bob").json()["data"]["musicId"]
        mine = api.generate().json()["data"]["musicId"]
        gated.open()
        assert receive_until(ws, "COMPLETED", mine)[-1] == "COMPLETED"
    assert other != mine


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
