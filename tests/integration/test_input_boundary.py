"""Every route, every string input, on PostgreSQL: no answer is a 5xx, every error answer is the envelope with a
stable code, and no SQL statement ever carries a NUL or a lone surrogate (the input guard stops them before any
query; the database is never the one to refuse them).

The routes are enumerated from the Litestar app itself, so a route added later is covered without editing this
file. Skipped, on purpose: ``/files`` (its signed-URL checks and filename encoding belong to the private-audio
tests), ``/static`` (files of the package directory), and the ``HEAD``/``OPTIONS`` methods Litestar adds itself.
``/schema/*`` (Litestar's OpenAPI documentation pages) is run too but answers an unknown page with its own HTML 404,
so only "no 5xx" is asked of it, not the JSON envelope.
"""

from __future__ import annotations

import inspect
import json
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.exceptions import WebSocketDisconnect
from litestar.routes import HTTPRoute, WebSocketRoute
from litestar.testing import TestClient
from sqlalchemy import event

import songy.domain.errors as domain_errors
from songy.container import build_container
from songy.entrypoints.http.app import create_app
from songy.entrypoints.http.envelope import HTTP_CODES
from songy.settings import Settings
from tests.support.postgres import POSTGRES_URL, reset_postgres
from tests.support.svix import SECRET as SVIX_SECRET
from tests.support.svix import clerk_user_event, signed

pytestmark = pytest.mark.integration

DEV_SECRET = "boundary-secret-" + "b" * 40
SKIPPED_PREFIXES = ("/files", "/static")
SKIPPED_METHODS = frozenset({"HEAD", "OPTIONS"})
HTML_ERROR_PREFIXES = ("/schema",)
EXAMPLES_PER_ROUTE = settings.default.max_examples
PARAM = re.compile(r"\{(\w+):\w+\}")
UNKNOWN_ID = "z" * 24  # well formed, names nothing: what DELETE routes get when their path is not the hostile input


@dataclass(frozen=True)
class Operation:
    method: str  # an HTTP method, or "WS"
    path: str  # the route template, e.g. /api/playlists/{playlist_id:str}
    query: tuple[str, ...] = ()  # the query parameters the route declares

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def route_operations(app: Litestar) -> list[Operation]:
    """Every (method, route) of ``app`` but the skipped ones, with the query parameters its OpenAPI lists."""
    schema = app.openapi_schema
    found = []
    for route in app.routes:
        if route.path.startswith(SKIPPED_PREFIXES):
            continue
        if isinstance(route, WebSocketRoute):
            found.append(Operation("WS", route.path, ("token",)))
            continue
        assert isinstance(route, HTTPRoute), f"a kind of route this test does not know: {route}"
        item = (schema.paths or {}).get(PARAM.sub(r"{\1}", route.path))
        for method in sorted(route.methods - SKIPPED_METHODS):
            operation = getattr(item, method.lower(), None) if item else None
            names = tuple(p.name for p in (operation.parameters or []) if p.param_in == "query") if operation else ()
            found.append(Operation(method, route.path, names))
    return found


def _listed_operations() -> list[Operation]:
    """The operations of the app as production builds it (never started: only its routes are read)."""
    with tempfile.TemporaryDirectory(prefix="songy-routes-") as data:
        config = Settings(_env_file=None, data_dir=Path(data), dev_token_secret=DEV_SECRET)  # type: ignore[call-arg]
        return route_operations(create_app(build_container(config)))


OPERATIONS = _listed_operations()


def stable_codes() -> set[str]:
    """The codes the error envelope may carry: the domain's, the HTTP ones, and the few routes set themselves."""
    domain = {getattr(cls, "code", None) for _, cls in inspect.getmembers(domain_errors, inspect.isclass)}
    route_own = {"VALIDATION_ERROR", "PAYLOAD_TOO_LARGE", "WEBHOOKS_NOT_CONFIGURED"}
    return {c for c in domain | set(HTTP_CODES.values()) | route_own if isinstance(c, str)}


STABLE_CODES = stable_codes()

# --- inputs ---------------------------------------------------------------------------------------------------

SPECIAL = [
    "\x00",
    "a\x00b",
    "\ud800",
    "a\udfffb",
    "\ud83d",
    "",
    " ",
    " \t\n ",
    "x" * 5000,
    "😀" * 300,
    "名前",
    "Ça va",
    "%00",
    "../../etc/passwd",
    "\u202eabc",
    "\ufeff",
    "\x1b[2J",
    "\x7f",
    "null",
    "-1",
    "0",
    "1e400",
    "9" * 50,
    "ABC",
    "abc",
]
any_char = st.characters(exclude_categories=())  # every code point, NUL and lone surrogates included
hostile_text = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(any_char, max_size=40),
    st.text(any_char, min_size=1, max_size=8).map(lambda s: s + "\x00"),
)
RAW_ESCAPES = ["%ED%A0%80", "%ED%BF%BF", "%C0%80", "%FF", "%E2%80", "%00", "%", "%zz", "a%00b", "%F4%90%80%80"]


def _url_text(text: str) -> str:
    return quote_from_bytes(text.encode("utf-8", "surrogatepass"), safe="")


url_part = st.one_of(
    hostile_text.map(_url_text),
    st.sampled_from(RAW_ESCAPES),
    st.binary(max_size=12).map(lambda b: quote_from_bytes(b, safe="")),
)
header_value = st.one_of(
    st.sampled_from([b"\x00", b"a\x00b", b"k" * 300, "ключ".encode(), b"\xff\xfe", b"", b" ", b"ok-key-1"]),
    hostile_text.map(lambda s: s.encode("utf-8", "surrogatepass")),
)

BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/music-generator/generate"): {
        "name": "n",
        "prompt": "calm piano",
        "lengthMs": 3000,
        "outputFormat": "mp3_44100_128",
        "modelId": "music_v1",
    },
    ("POST", "/api/music-generator/batch"): {"items": [{"name": "n", "prompt": "calm piano", "lengthMs": 3000}]},
    ("POST", "/api/admin/credits"): {"clerkId": "user_alice", "amount": 1},
    ("POST", "/api/playlists"): {"name": "mix"},
    ("PATCH", "/api/playlists/{playlist_id:str}"): {"name": "mix"},
    ("POST", "/api/playlists/{playlist_id:str}/tracks"): {"musicId": "<music_id>", "position": 0},
    ("PUT", "/api/playlists/{playlist_id:str}/tracks"): {"musicIds": ["<music_id>"]},
    ("POST", "/api/webhook-endpoints"): {"url": "http://127.0.0.1:9/hook", "events": ["music.generation.canceled"]},
}
CLERK_ROUTE = ("POST", "/api/webhooks/clerk")
GENERIC_BODY: dict[str, Any] = {"name": "x", "value": "y", "list": ["z"]}


def _string_leaves(document: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(document, str):
        yield path
    elif isinstance(document, dict):
        for key, value in document.items():
            yield from _string_leaves(value, (*path, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from _string_leaves(value, (*path, index))


def _set(document: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        document = document[step]
    document[path[-1]] = value


@st.composite
def hostile_json(draw: st.DrawFn, template: dict[str, Any], ids: dict[str, str], hostile: bool = True) -> bytes:
    """The template with one of its strings hostile (or a hostile key added), encoded with ``\\u`` escapes or as
    raw bytes; ``hostile=False`` gives the template as it is (a valid request, so other inputs are reached)."""
    document = json.loads(json.dumps(template).replace("<music_id>", ids["music_id"]))
    leaves = list(_string_leaves(document))
    if hostile and leaves and draw(st.integers(0, 4)) > 0:
        _set(document, draw(st.sampled_from(leaves)), draw(hostile_text))
    elif hostile:
        document[draw(hostile_text)] = draw(st.one_of(hostile_text, st.integers()))
    if draw(st.booleans()):
        return json.dumps(document, ensure_ascii=True).encode()  # "\u0000", "\ud800" escapes
    return json.dumps(document, ensure_ascii=False).encode("utf-8", "surrogatepass")  # raw (invalid) bytes


@st.composite
def clerk_delivery(draw: st.DrawFn, hostile: bool = True) -> tuple[bytes, dict[str, str]]:
    """A Clerk event, correctly signed, with hostile strings in its id, email and name (and perhaps svix-id)."""
    kind = draw(st.sampled_from(["user.created", "user.updated", "user.deleted"]))
    maybe = st.one_of(st.none(), hostile_text) if hostile else st.none()
    clerk_id, email, first = draw(maybe), draw(maybe), draw(maybe)
    payload = clerk_user_event(
        kind,
        clerk_id if clerk_id is not None else f"user_{draw(st.integers(0, 9))}",
        email if email is not None else "a@example.com",
        first if first is not None else "Alice",
    )
    odd_ids = st.sampled_from(["msg_\x00", "m" * 300, "msg_\x7f", " "]) if hostile else st.nothing()
    message_id = draw(st.one_of(st.none(), odd_ids))
    body, headers = signed(payload, message_id=message_id)  # json.dumps: "\u0000" and "\ud800" escapes
    return body, headers


# --- the world the requests run in --------------------------------------------------------------------------


@dataclass
class World:
    client: TestClient[Any]
    ids: dict[str, str]
    tokens: dict[str, str]
    carried: list[tuple[str, str]] = field(default_factory=list)


def _poisoned(value: str) -> bool:
    return "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value)


def _strings(parameters: Any) -> Iterator[str]:
    if isinstance(parameters, str):
        yield parameters
    elif isinstance(parameters, dict):
        for value in parameters.values():
            yield from _strings(value)
    elif isinstance(parameters, list | tuple):
        for value in parameters:
            yield from _strings(value)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Songy on PostgreSQL with alice's completed track, her playlist holding it, and her webhook endpoint."""
    reset_postgres()
    config = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path_factory.mktemp("boundary"),
        database_url=POSTGRES_URL,
        dev_token_secret=DEV_SECRET,
        clerk_webhook_secret=SVIX_SECRET,
        retry_base_delay_s=0.05,
        outbox_poll_interval_s=0.05,
    )
    container = build_container(config)
    carried: list[tuple[str, str]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        carried.extend((statement, value) for value in _strings(parameters) if _poisoned(value))

    event.listen(container.engine().sync_engine, "before_cursor_execute", record)
    tokens = {
        "user": container.dev_tokens().mint("user_alice", ttl=timedelta(hours=2)),
        "admin": container.dev_tokens().mint("user_admin", roles=("admin",), ttl=timedelta(hours=2)),
    }
    with TestClient(create_app(container)) as client:
        auth = {"Authorization": f"Bearer {tokens['user']}"}
        created = client.post(
            "/api/music-generator/generate", json={"name": "t", "prompt": "calm piano", "lengthMs": 3000}, headers=auth
        )
        music_id = created.json()["data"]["musicId"]
        status_url = f"/api/music-generator/status/{music_id}"
        deadline = time.monotonic() + 60
        while client.get(status_url, headers=auth).json()["data"]["status"] != "COMPLETED":  # poll the condition
            assert time.monotonic() < deadline, "the setup track did not complete"
            time.sleep(0.05)
        playlist = client.post("/api/playlists", json={"name": "mix"}, headers=auth).json()["data"]["playlistId"]
        added = client.post(f"/api/playlists/{playlist}/tracks", json={"musicId": music_id}, headers=auth)
        assert added.status_code == 200, added.text
        endpoint = client.post("/api/webhook-endpoints", json=BODIES[("POST", "/api/webhook-endpoints")], headers=auth)
        assert endpoint.status_code == 201, endpoint.text
        ids = {"music_id": music_id, "playlist_id": playlist, "endpoint_id": endpoint.json()["data"]["endpointId"]}
        yield World(client, ids, tokens, carried)


# --- the property -------------------------------------------------------------------------------------------


def _where(operation: Operation, url: str, response_text: str) -> str:
    return f"{operation} as {url[:300]!r} -> {response_text[:300]}"


def check_answer(operation: Operation, url: str, response: Any) -> None:
    where = _where(operation, url, response.text)
    assert response.status_code < 500, where
    if response.status_code >= 400 and not operation.path.startswith(HTML_ERROR_PREFIXES):
        assert "json" in response.headers.get("content-type", ""), where
        body = response.json()
        assert body["success"] is False, where
        assert body["error"]["code"] in STABLE_CODES and body["error"]["message"], where


def check_nothing_poisoned_reached_sql(world: World, what: str) -> None:
    carried = list(world.carried)
    world.carried.clear()
    assert not carried, f"{what}: statements carried NUL/lone surrogates: {carried[:3]}"


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
@settings(max_examples=EXAMPLES_PER_ROUTE, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_input_is_a_server_error_or_reaches_sql_unchecked(
    world: World, operation: Operation, data: st.DataObject
) -> None:
    """One input hostile at a time (a path parameter, a declared query parameter, an extra one, the
    Idempotency-Key header, the JSON body or a signed Clerk event), or all of them at once; the others valid, so
    that the hostile one reaches as deep as it can. Never a 5xx, never a NUL or lone surrogate in SQL."""
    names = PARAM.findall(operation.path)
    key = (operation.method, operation.path)
    has_body = key == CLERK_ROUTE or key in BODIES or operation.method in ("POST", "PUT", "PATCH")
    slots = [f"path:{n}" for n in names] + [f"query:{n}" for n in operation.query] + ["query:*", "header", "all"]
    slot = data.draw(st.sampled_from([*slots, "body"] if has_body else slots), label="hostile input")

    def hostile(name: str) -> bool:
        return slot in (name, "all")

    values = {}
    for name in names:
        valid = UNKNOWN_ID if operation.method == "DELETE" else world.ids.get(name, UNKNOWN_ID)
        values[name] = data.draw(url_part, label=name) if hostile(f"path:{name}") else valid
    path = PARAM.sub(lambda m: values[m.group(1)], operation.path)
    token = world.tokens["admin" if operation.path.startswith("/api/admin") else "user"]

    pairs = [("token", token)] if "token" in operation.query and not hostile("query:token") else []
    pairs += [(name, data.draw(url_part, label=name)) for name in operation.query if hostile(f"query:{name}")]
    if hostile("query:*"):
        pairs.append((data.draw(url_part, label="extra name"), data.draw(url_part, label="extra value")))
    url = path + ("?" + "&".join(f"{k}={v}" for k, v in pairs) if pairs else "")

    if operation.method == "WS":
        try:
            with world.client.websocket_connect(url) as socket:
                assert socket.receive_json()["type"] == "ready", url
        except WebSocketDisconnect as exc:
            assert exc.code not in (1011, 4500), f"{operation} as {url[:300]!r} closed with {exc.code}"
        check_nothing_poisoned_reached_sql(world, str(operation))
        return

    headers: dict[str, Any] = {"Authorization": f"Bearer {token}"}
    if hostile("header"):
        headers["Idempotency-Key"] = data.draw(header_value, label="Idempotency-Key")
    body = None
    if key == CLERK_ROUTE:
        body, signed_headers = data.draw(clerk_delivery(hostile("body")), label="clerk event")
        headers.update(signed_headers)
    elif has_body:
        body = data.draw(hostile_json(BODIES.get(key, GENERIC_BODY), world.ids, hostile("body")), label="body")
    if body is not None:
        headers.setdefault("Content-Type", "application/json")
    response = world.client.request(operation.method, url, content=body, headers=headers)
    check_answer(operation, url, response)
    check_nothing_poisoned_reached_sql(world, str(operation))


def test_the_listing_covers_the_api() -> None:
    """The enumeration is what the property runs over: it must find every API route (and skip only the skips)."""
    listed = {str(o) for o in OPERATIONS}
    for expected in [
        "GET /api/music-generator/status/{music_id:str}",
        "GET /api/music-generator/status/{music_id:str}/events",
        "GET /api/music-generator/download/{music_id:str}",
        "POST /api/music-generator/{music_id:str}/cancel",
        "DELETE /api/music-generator/{music_id:str}",
        "GET /api/music-generator",
        "POST /api/music-generator/generate",
        "POST /api/music-generator/batch",
        "DELETE /api/playlists/{playlist_id:str}/tracks/{music_id:str}",
        "PUT /api/playlists/{playlist_id:str}/tracks",
        "POST /api/webhook-endpoints",
        "GET /api/webhook-endpoints/{endpoint_id:str}/deliveries",
        "POST /api/webhooks/clerk",
        "POST /api/admin/credits",
        "WS /api/music-generator/ws",
    ]:
        assert expected in listed
    assert not any(o.path.startswith(SKIPPED_PREFIXES) or o.method in SKIPPED_METHODS for o in OPERATIONS)
    assert next(o.query for o in OPERATIONS if o.path.startswith("/api/music-generator/download")) == ("format",)
