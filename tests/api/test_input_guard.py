"""The input guard, route by route: what cannot be stored, or cannot be an id, is refused before any query.

"Before any query" is observed, not assumed: a SQLAlchemy listener records every statement's parameters, and no
statement may carry the refused value. (SQLite would store a NUL without complaint, so these tests also show that
the answer comes from the guard and not from a database error.) The route-wide property on PostgreSQL is
tests/integration/test_input_boundary.py.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest
from litestar import Request, post
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath
from sqlalchemy import event

from tests.support.svix import SECRET, clerk_user_event, signed

from .conftest import Api


class Statements:
    """The parameters of every SQL statement the app runs while the test watches."""

    def __init__(self) -> None:
        self.values: list[str] = []

    def record(self, _conn: Any, _cursor: Any, _statement: str, parameters: Any, *_: Any) -> None:
        stack = [parameters]
        while stack:
            value = stack.pop()
            if isinstance(value, str):
                self.values.append(value)
            elif isinstance(value, dict):
                stack.extend(value.values())
            elif isinstance(value, list | tuple):
                stack.extend(value)

    def carried(self, text: str) -> bool:
        return any(text in value for value in self.values)


@pytest.fixture
def guarded(make_api: Any) -> Iterator[tuple[Api, Statements]]:
    api = make_api(clerk_webhook_secret=SECRET)
    statements = Statements()
    engine = api.container.engine().sync_engine
    event.listen(engine, "before_cursor_execute", statements.record)
    yield api, statements
    event.remove(engine, "before_cursor_execute", statements.record)


def rows(api: Api, table: str) -> int:
    with sqlite3.connect(api.container.settings().data_dir / "songy.db") as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def error(response: Any) -> dict[str, Any]:
    body = response.json()
    assert body["success"] is False
    return body["error"]


PATH_ID_ROUTES = [
    ("GET", "/api/music-generator/status/{}", "MUSIC_NOT_FOUND"),
    ("GET", "/api/music-generator/status/{}/events", "MUSIC_NOT_FOUND"),
    ("GET", "/api/music-generator/download/{}", "MUSIC_NOT_FOUND"),
    ("POST", "/api/music-generator/{}/cancel", "MUSIC_NOT_FOUND"),
    ("DELETE", "/api/music-generator/{}", "MUSIC_NOT_FOUND"),
    ("GET", "/api/playlists/{}", "PLAYLIST_NOT_FOUND"),
    ("PATCH", "/api/playlists/{}", "PLAYLIST_NOT_FOUND"),
    ("DELETE", "/api/playlists/{}", "PLAYLIST_NOT_FOUND"),
    ("POST", "/api/playlists/{}/tracks", "PLAYLIST_NOT_FOUND"),
    ("PUT", "/api/playlists/{}/tracks", "PLAYLIST_NOT_FOUND"),
    ("DELETE", "/api/webhook-endpoints/{}", "WEBHOOK_ENDPOINT_NOT_FOUND"),
    ("GET", "/api/webhook-endpoints/{}/deliveries", "WEBHOOK_ENDPOINT_NOT_FOUND"),
]
NOT_IDS = ["a%00b", "%00", "%ED%A0%80", "%C0%80", "%FF", "ABCdef", "x" * 33, "a-b", "%E5%90%8D"]


@pytest.mark.parametrize(("method", "template", "code"), PATH_ID_ROUTES)
def test_a_path_id_that_cannot_be_an_id_is_the_routes_not_found_without_a_query(
    guarded: tuple[Api, Statements], method: str, template: str, code: str
) -> None:
    api, statements = guarded
    for raw in NOT_IDS:
        body = {"name": "n", "musicId": "abc", "musicIds": []} if method in ("POST", "PUT", "PATCH") else None
        response = api.client.request(method, template.format(raw), json=body, headers=api.auth())
        assert response.status_code == 404 and error(response)["code"] == code, (raw, response.text)
        assert not statements.carried(unquote(raw)), f"{method} {template} sent {raw!r} to the database"


def test_a_track_in_a_playlist_removed_by_a_bad_music_id_is_the_music_not_found(
    guarded: tuple[Api, Statements],
) -> None:
    api, statements = guarded
    playlist = api.client.post("/api/playlists", json={"name": "mix"}, headers=api.auth()).json()["data"]
    response = api.client.delete(f"/api/playlists/{playlist['playlistId']}/tracks/a%00b", headers=api.auth())
    assert response.status_code == 404 and error(response)["code"] == "MUSIC_NOT_FOUND"
    assert not statements.carried("a\x00b")


@pytest.mark.parametrize(
    ("route", "body", "field"),
    [
        ("/api/playlists", '{"name": "mix\\u0000tape"}', "name"),
        ("/api/playlists", '{"name": "\\ud800"}', "name"),
        ("/api/music-generator/generate", '{"name": "n\\u0000", "prompt": "p"}', "name"),
        ("/api/music-generator/generate", '{"name": "n", "prompt": "p", "modelId": "\\udfff"}', "modelId"),
        (
            "/api/music-generator/batch",
            '{"items": [{"name": "a", "prompt": "p"}, {"name": "b", "prompt": "p\\u0000"}]}',
            "items[1].prompt",
        ),
        ("/api/webhook-endpoints", '{"url": "http://127.0.0.1:9/h\\u0000ook"}', "url"),
        ("/api/webhook-endpoints", '{"url": "http://127.0.0.1:9/hook", "events": ["\\ud83d"]}', "events[0]"),
        ("/api/admin/credits", '{"clerkId": "user_\\u0000", "amount": 5}', "clerkId"),
        ("/api/playlists", '{"name": "mix", "na\\u0000me": 1}', "na\\u0000me"),
    ],
)
def test_every_string_of_a_json_body_is_checked_and_named_by_its_path(
    guarded: tuple[Api, Statements], route: str, body: str, field: str
) -> None:
    api, statements = guarded
    headers = {**api.auth(), "Content-Type": "application/json"}
    response = api.client.post(route, content=body.encode(), headers=headers)
    assert response.status_code == 400
    refused = error(response)
    assert refused["code"] == "VALIDATION_ERROR"
    assert [d["field"] for d in refused["details"]] == [field]
    assert any(rule in refused["details"][0]["message"] for rule in ("must not contain NUL", "must be valid UTF-8"))
    assert not any("\x00" in v or any("\ud800" <= c <= "\udfff" for c in v) for v in statements.values)
    assert rows(api, "music") == rows(api, "playlists") == rows(api, "webhook_endpoints") == 0


def test_raw_bytes_that_are_not_utf8_in_a_json_string_are_refused(guarded: tuple[Api, Statements]) -> None:
    api, _ = guarded
    body = b'{"name": "mix\xed\xa0\x80"}'
    response = api.client.post(
        "/api/playlists", content=body, headers={**api.auth(), "Content-Type": "application/json"}
    )
    assert response.status_code == 400 and error(response)["details"][0]["field"] == "name"
    assert rows(api, "playlists") == 0


def test_a_body_id_that_cannot_be_an_id_is_a_validation_error_naming_it(guarded: tuple[Api, Statements]) -> None:
    api, statements = guarded
    playlist = api.client.post("/api/playlists", json={"name": "mix"}, headers=api.auth()).json()["data"]["playlistId"]
    added = api.client.post(f"/api/playlists/{playlist}/tracks", json={"musicId": "NOT AN ID"}, headers=api.auth())
    assert added.status_code == 400 and error(added)["details"][0]["field"] == "musicId"
    reordered = api.client.put(
        f"/api/playlists/{playlist}/tracks", json={"musicIds": ["abc", "x" * 40]}, headers=api.auth()
    )
    assert reordered.status_code == 400 and error(reordered)["details"][0]["field"] == "musicIds[1]"
    assert not statements.carried("NOT AN ID") and not statements.carried("x" * 40)
    # a well-formed id that names nothing is still the domain's answer
    unknown = api.client.post(f"/api/playlists/{playlist}/tracks", json={"musicId": "nope"}, headers=api.auth())
    assert unknown.status_code == 404 and error(unknown)["code"] == "MUSIC_NOT_FOUND"


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/music-generator?cursor=%00", "cursor"),
        ("/api/music-generator?status=COMPLETED%00", "status"),
        ("/api/music-generator?limit=1%00", "limit"),
        ("/api/music-generator?cursor=%ED%A0%80", "cursor"),
        ("/api/music-generator?cursor=%FF", "cursor"),
        ("/api/music-generator/download/abc?format=wav_44100%00", "format"),
        ("/api/me?x%00y=1", "x\\u0000y"),
    ],
)
def test_query_parameters_are_checked_and_named(guarded: tuple[Api, Statements], url: str, field: str) -> None:
    api, statements = guarded
    response = api.client.get(url, headers=api.auth())
    assert response.status_code == 400 and error(response)["code"] == "VALIDATION_ERROR", response.text
    assert [d["field"] for d in error(response)["details"]] == [field]
    assert not any("\x00" in v for v in statements.values)


def test_a_cursor_that_decodes_to_a_bad_id_is_refused_before_the_query(guarded: tuple[Api, Statements]) -> None:
    api, statements = guarded
    forged = base64.urlsafe_b64encode(b"2026-01-01T00:00:00+00:00|a\x00b").decode().rstrip("=")
    response = api.client.get(f"/api/music-generator?cursor={forged}", headers=api.auth())
    assert response.status_code == 400 and error(response)["details"][0]["field"] == "cursor"
    assert not statements.carried("a\x00b")


@pytest.mark.parametrize("key", [b"a\x00b", "ключ".encode(), b"k" * 256, b""])
def test_a_bad_idempotency_key_is_refused_and_creates_nothing(guarded: tuple[Api, Statements], key: bytes) -> None:
    api, _ = guarded
    response = api.client.post(
        "/api/music-generator/generate",
        json={"name": "n", "prompt": "p", "lengthMs": 3000},
        headers={**api.auth(), "Idempotency-Key": key},  # type: ignore[dict-item]
    )
    assert response.status_code == 400
    assert error(response)["details"][0]["field"] == "Idempotency-Key"
    assert rows(api, "music") == rows(api, "idempotency_keys") == 0


def test_a_nul_in_any_header_is_refused(guarded: tuple[Api, Statements]) -> None:
    api, _ = guarded
    response = api.client.get("/api/me", headers={**api.auth(), "X-Anything": b"a\x00b"})  # type: ignore[dict-item]
    assert response.status_code == 400 and error(response)["details"][0]["field"] == "x-anything"


@pytest.mark.parametrize(
    ("clerk_id", "email", "field"),
    [
        ("user_\x00", "a@example.com", "data.id"),
        ("user_ok", "a\x00@example.com", "data.email_addresses[0].email_address"),
        ("user_\ud800", "a@example.com", "data.id"),
    ],
)
def test_a_correctly_signed_clerk_event_with_nul_is_refused_and_stores_nothing(
    guarded: tuple[Api, Statements], clerk_id: str, email: str, field: str
) -> None:
    api, statements = guarded
    body, headers = signed(clerk_user_event("user.created", clerk_id, email))
    response = api.client.post("/api/webhooks/clerk", content=body, headers=headers)
    assert response.status_code == 400 and [d["field"] for d in error(response)["details"]] == [field]
    assert rows(api, "users") == rows(api, "processed_messages") == 0
    assert not any("\x00" in v for v in statements.values)


def test_a_websocket_with_a_nul_in_its_query_is_closed_with_4400(guarded: tuple[Api, Statements]) -> None:
    api, _ = guarded
    with pytest.raises(WebSocketDisconnect) as closed:  # noqa: SIM117 - the context is what raises
        with api.client.websocket_connect(f"/api/music-generator/ws?token={api.token()}&x=%00") as socket:
            socket.receive_json()
    assert closed.value.code == 4400


def test_a_route_added_later_is_guarded_too(guarded: tuple[Api, Statements]) -> None:
    api, _ = guarded
    calls: list[Any] = []

    @post("/api/test-only/{thing_id:str}", status_code=200)
    async def later(request: Request[Any, Any, Any], thing_id: FromPath[str]) -> dict[str, str]:
        calls.append((thing_id, await request.body()))
        return {"ok": thing_id}

    api.client.app.register(later)
    assert api.client.post("/api/test-only/abc", json={"x": "fine"}).status_code == 200
    assert api.client.post("/api/test-only/a%00b", json={"x": "fine"}).status_code == 404
    refused = api.client.post("/api/test-only/abc", json={"deep": [{"x": "a\x00"}]})
    assert refused.status_code == 400 and error(refused)["details"][0]["field"] == "deep[0].x"
    assert calls == [("abc", b'{"x":"fine"}')]  # the body reached the handler byte for byte


def test_bodies_the_guard_cannot_judge_reach_the_handler_untouched(guarded: tuple[Api, Statements]) -> None:
    api, _ = guarded
    headers = {**api.auth(), "Content-Type": "application/json"}
    too_big = api.client.post("/api/playlists", content=b'{"name": "' + b"x" * 300_000 + b'"}', headers=headers)
    assert too_big.status_code == 413 and error(too_big)["code"] == "PAYLOAD_TOO_LARGE"
    not_json = api.client.post("/api/playlists", content=b"{not json", headers=headers)
    assert not_json.status_code == 400 and error(not_json)["code"] == "VALIDATION_ERROR"


def test_other_control_characters_in_names_are_stored_as_given(guarded: tuple[Api, Statements]) -> None:
    """The documented choice: only NUL and lone surrogates are refused; tab, ESC, DEL are text."""
    api, _ = guarded
    created = api.client.post("/api/playlists", json={"name": "a\tb\x1b[1mc\x7f"}, headers=api.auth())
    assert created.status_code == 201 and created.json()["data"]["name"] == "a\tb\x1b[1mc\x7f"
