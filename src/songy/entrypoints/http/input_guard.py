"""The input guard: every string a request brings is checked before any handler (or query) runs.

One ASGI middleware, around every route, so a route added later is covered without doing anything:

- path parameters: text that cannot be stored (NUL, lone surrogates) or, for a parameter named ``*_id``, a value
  that is not an id (:mod:`songy.domain.ids`) answers the route's not-found (``MUSIC_NOT_FOUND``,
  ``PLAYLIST_NOT_FOUND``, ``WEBHOOK_ENDPOINT_NOT_FOUND``; ``NOT_FOUND`` for any other parameter);
- query parameters (names and values, percent-decoded as UTF-8): 400 ``VALIDATION_ERROR`` naming the parameter;
- headers: a NUL in any value, and an ``Idempotency-Key`` that breaks its rule, are 400 naming the header;
- the body, when it is JSON (whatever the content type says): every string, key or value, at any depth; and the
  id fields of the API (``musicId``, ``musicIds``, ...) must hold ids. 400 with ``details`` giving each field's
  path (``items[2].prompt``, ``musicIds[0]``).

Refusals use the error envelope; a WebSocket is accepted and closed at once with 4400 (4404 for a path id).
A body that is not JSON, or over the size limit, is passed on untouched for the handler to refuse.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import PurePath
from typing import Any
from urllib.parse import parse_qsl

from litestar import Request
from litestar.exceptions import HTTPException, NotFoundException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from songy.domain.errors import (
    DomainError,
    FieldError,
    MusicNotFound,
    PlaylistNotFound,
    ValidationError,
    WebhookEndpointNotFound,
)
from songy.domain.idempotency import check_key
from songy.domain.ids import ID_RULE, is_id
from songy.domain.text import unstorable_reason
from songy.entrypoints.http.envelope import handle_domain_error, handle_http_exception

PATH_ID_NOT_FOUND: dict[str, Callable[[], DomainError]] = {
    "music_id": MusicNotFound,
    "playlist_id": PlaylistNotFound,
    "endpoint_id": WebhookEndpointNotFound,
}
BODY_ID_FIELDS = frozenset({"musicId", "playlistId", "endpointId"})
"""JSON fields that hold one id; the same name with an ``s`` holds a list of them."""
MAX_DETAILS = 20
SHOWN_CHARS = 80

Refusal = DomainError | HTTPException


def input_guard(max_body_bytes: int) -> Callable[[ASGIApp], ASGIApp]:
    """The middleware factory; bodies larger than ``max_body_bytes`` are left to the app's own size limit."""

    def middleware_factory(app: ASGIApp) -> ASGIApp:
        async def guard(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] not in ("http", "websocket"):
                await app(scope, receive, send)
                return
            refusal = _path_refusal(scope) or _query_refusal(scope) or _header_refusal(scope)
            if refusal is None and scope["type"] == "http":
                messages, complete = await _read_body(receive, max_body_bytes)
                if complete:
                    refusal = body_refusal(b"".join(m.get("body", b"") for m in messages))
                receive = _replay(messages, receive)
            if refusal is not None:
                await _refuse(refusal, scope, receive, send)
                return
            await app(scope, receive, send)

        return guard

    return middleware_factory


def _path_refusal(scope: Scope) -> Refusal | None:
    for name, value in (scope.get("path_params") or {}).items():
        text = str(value) if isinstance(value, str | PurePath) else None
        if text is None:
            continue
        if unstorable_reason(text) or (name.endswith("_id") and not is_id(text)):
            not_found = PATH_ID_NOT_FOUND.get(name)
            return not_found() if not_found else NotFoundException()
    return None


def _query_refusal(scope: Scope) -> Refusal | None:
    raw: bytes = scope.get("query_string") or b""
    if not raw:
        return None
    # Undecodable bytes become lone surrogates here, so the one text rule refuses them too.
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="surrogateescape")
    errors = []
    for name, value in pairs:
        if reason := unstorable_reason(name):
            errors.append(FieldError(_shown(name), f"query parameter name {reason}"))
        elif reason := unstorable_reason(value):
            errors.append(FieldError(_shown(name), reason))
    return ValidationError(errors[:MAX_DETAILS]) if errors else None


def _header_refusal(scope: Scope) -> Refusal | None:
    errors = []
    for raw_name, raw_value in scope.get("headers") or []:
        name = raw_name.decode("latin-1").lower()
        if name == "idempotency-key":
            try:
                check_key(raw_value.decode("latin-1"))
            except ValidationError as exc:
                errors += exc.details
        elif b"\x00" in raw_value:
            errors.append(FieldError(_shown(name), "must not contain NUL (U+0000)"))
    return ValidationError(errors[:MAX_DETAILS]) if errors else None


def body_refusal(body: bytes) -> ValidationError | None:
    """Every string of a JSON body, wherever it is; ``None`` when the body is fine or is not JSON at all."""
    if not body:
        return None
    try:
        document = json.loads(body.decode("utf-8", "surrogateescape"))
    except (ValueError, RecursionError):
        return None  # not JSON: the handler answers with its own error
    errors = list(_document_errors(document))
    return ValidationError(errors[:MAX_DETAILS]) if errors else None


def _document_errors(document: Any) -> Iterator[FieldError]:
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if reason := unstorable_reason(value):
                yield FieldError(path or "body", reason)
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                field = f"{path}.{_shown(key)}" if path else _shown(key)
                if reason := unstorable_reason(key):
                    yield FieldError(field, f"field name {reason}")
                    continue
                yield from _id_errors(field, key, item)
                stack.append((field, item))
        elif isinstance(value, list):
            stack.extend((f"{path or 'body'}[{index}]", item) for index, item in reversed(list(enumerate(value))))


def _id_errors(field: str, key: str, value: Any) -> Iterable[FieldError]:
    """An id field holding a string that is not an id (other types are the handler's to refuse)."""
    message = f"must be an id ({ID_RULE})"
    if key in BODY_ID_FIELDS and isinstance(value, str) and not unstorable_reason(value) and not is_id(value):
        return [FieldError(field, message)]
    if key.endswith("s") and key[:-1] in BODY_ID_FIELDS and isinstance(value, list):
        return [
            FieldError(f"{field}[{index}]", message)
            for index, item in enumerate(value)
            if isinstance(item, str) and not unstorable_reason(item) and not is_id(item)
        ]
    return []


def _shown(text: str) -> str:
    """A field name safe to echo in ``details``: unprintable characters as ``\\uXXXX``, at most 80 characters."""
    shown = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text[:SHOWN_CHARS])
    return shown + ("..." if len(text) > SHOWN_CHARS else "")


async def _read_body(receive: Receive, limit: int) -> tuple[list[Message], bool]:
    """The request's body messages, up to ``limit`` bytes; ``complete`` is False when it was cut short."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, False
        size += len(message.get("body", b""))
        if size > limit:
            return messages, False
        if not message.get("more_body", False):
            return messages, True


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


async def _refuse(refusal: Refusal, scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket":  # accepted, then closed: a browser can read a close code, not a handshake status
        code = 4404 if _code(refusal).endswith("NOT_FOUND") else 4400
        if (await receive())["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": code, "reason": _code(refusal)})
        return
    request: Request[Any, Any, Any] = Request(scope, receive)
    if isinstance(refusal, DomainError):
        response = handle_domain_error(request, refusal)
    else:
        response = handle_http_exception(request, refusal)
    await response.to_asgi_response(app=None, request=request)(scope, receive, send)


def _code(refusal: Refusal) -> str:
    return refusal.code if isinstance(refusal, DomainError) else "NOT_FOUND"
