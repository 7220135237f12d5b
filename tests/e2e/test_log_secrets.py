"""No secret in any log line: a whole flow against ``songy serve`` at DEBUG (generate, status, SSE, WebSocket
with ``?token=``, download links, a webhook endpoint and its delivery, a Clerk webhook, refused tokens, an error
that logs a traceback), then every line of its output scanned for each secret and for fragments of them."""

from __future__ import annotations

import base64
import json
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from tests.support.moto import free_port
from tests.support.songy_serve import Serve
from tests.support.svix import SECRET as CLERK_WEBHOOK_SECRET
from tests.support.svix import clerk_user_event, signed

pytestmark = pytest.mark.e2e

DEV_TOKEN_SECRET = "dev-signing-" + base64.b64encode(b"songy log redaction test secret 0123").decode()
ELEVENLABS_API_KEY = "sk_" + "5eb1e7a9c0d4" * 4
HOOK_TOKEN = "hooktoken" + "Q7x2" * 5


def dev_token(user: str, *, secret: str = DEV_TOKEN_SECRET, expires_in: timedelta = timedelta(hours=1)) -> str:
    now = datetime.now(UTC)
    claims = {"sub": user, "iss": "songy-dev", "aud": "songy", "iat": now, "nbf": now - timedelta(hours=2)}
    return jwt.encode({**claims, "exp": now + expires_in, "dev": True}, secret, algorithm="HS256")


def fragments(secret: str) -> list[str]:
    """The secret and distinctive pieces of it: a JWT's signature and payload, a key without its prefix, and
    both halves of anything long."""
    pieces = [secret]
    if secret.count(".") == 2:
        pieces += [part for part in secret.split(".")[1:] if part]
    for prefix in ("whsec_", "sk_", "v1,"):
        if secret.startswith(prefix):
            pieces.append(secret.removeprefix(prefix))
    if len(secret) >= 24:
        pieces += [secret[: len(secret) // 2], secret[len(secret) // 2 :]]
    return [piece for piece in pieces if len(piece) >= 10]


def signature_params(url: str) -> list[str]:
    """The values of a URL's signature-like query parameters (``signature``, ``sig``, ``X-Amz-Signature``)."""
    return [value for name, value in parse_qsl(urlsplit(url).query) if "sig" in name.lower()]


class Flow:
    def __init__(self, serve: Serve) -> None:
        self.serve = serve
        self.http = httpx.Client(base_url=serve.base_url, timeout=30)
        self.secrets: dict[str, str] = {
            "dev token secret": DEV_TOKEN_SECRET,
            "ElevenLabs API key": ELEVENLABS_API_KEY,
            "Clerk webhook secret": CLERK_WEBHOOK_SECRET,
            "webhook URL token": HOOK_TOKEN,
        }

    def keep(self, name: str, value: str) -> str:
        self.secrets[name] = value
        return value

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def wait_completed(self, token: str, music_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            data = self.http.get(f"/api/music-generator/status/{music_id}", headers=self.auth(token)).json()["data"]
            if data["status"] != "GENERATING":
                assert data["status"] == "COMPLETED", data
                return dict(data)
            time.sleep(0.1)
        raise AssertionError(f"{music_id} still GENERATING")


def run_flow(flow: Flow) -> None:
    http = flow.http
    token = flow.keep("bearer token", dev_token("user_logs"))
    auth = flow.auth(token)

    # a Clerk webhook, signed with the configured secret
    body, headers = signed(clerk_user_event("user.created", "user_clerk_logs"), secret=CLERK_WEBHOOK_SECRET)
    flow.keep("Svix signature", headers["svix-signature"].split(" ")[0])
    assert http.post("/api/webhooks/clerk", content=body, headers=headers).status_code == 200

    # a webhook endpoint (its URL carries a token of the receiver's), which answers its secret once
    hook_url = f"http://127.0.0.1:{free_port()}/hook?token={HOOK_TOKEN}"
    endpoint = http.post("/api/webhook-endpoints", json={"url": hook_url}, headers=auth)
    assert endpoint.status_code == 201, endpoint.text
    flow.keep("webhook endpoint secret", endpoint.json()["data"]["secret"])
    endpoint_id = endpoint.json()["data"]["endpointId"]

    # a track, live over the WebSocket (token in the query string) and SSE, then its audio and download links
    with ws_connect(f"ws://127.0.0.1:{flow.serve.port}/api/music-generator/ws?token={token}") as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "ready"
        body = {"name": "Logged", "prompt": "calm piano", "lengthMs": 3000}
        music_id = http.post("/api/music-generator/generate", json=body, headers=auth).json()["data"]["musicId"]
        while True:
            message = json.loads(ws.recv(timeout=30))
            if message["type"] == "status" and message["data"]["status"] == "COMPLETED":
                break
    status = flow.wait_completed(token, music_id)
    with http.stream("GET", f"/api/music-generator/status/{music_id}/events", headers=auth) as stream:
        assert any(line.startswith("event: status") for line in stream.iter_lines())
    urls = [status["audioUrl"]]
    for query in ("", "?format=wav_44100"):
        link = http.get(f"/api/music-generator/download/{music_id}{query}", headers=auth)
        assert link.status_code == 200, link.text
        urls.append(link.json()["data"]["url"])
    for url in urls:
        for value in signature_params(url):
            flow.keep(f"URL signature {value[:6]}", value)
        assert http.get(url).status_code == 200  # the access log sees the whole signed URL

    # the completion was delivered (and refused: nothing listens there), so the sender has used the endpoint
    deadline = time.monotonic() + 30
    while not http.get(f"/api/webhook-endpoints/{endpoint_id}/deliveries", headers=auth).json()["data"]["items"]:
        assert time.monotonic() < deadline, "no webhook delivery attempted"
        time.sleep(0.1)

    # refused tokens: forged, expired, over HTTP and over the WebSocket
    forged = flow.keep("forged token", dev_token("user_logs", secret="another-secret-" + "z" * 40))
    expired = flow.keep("expired token", dev_token("user_logs", expires_in=timedelta(minutes=-30)))
    for refused in (forged, expired):
        assert http.get("/api/me", headers=flow.auth(refused)).status_code == 401
        with ws_connect(f"ws://127.0.0.1:{flow.serve.port}/api/music-generator/ws?token={refused}") as ws:
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401

    # an error that logs a traceback: a text frame that is not UTF-8, on a socket opened with ?token=
    with ws_connect(f"ws://127.0.0.1:{flow.serve.port}/api/music-generator/ws?token={token}") as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "ready"
        with ws.protocol_mutex:  # the client refuses to send bad UTF-8 itself: write the frame below it
            ws.protocol.send_text(b"\xff\xfe bad utf-8 " + token.encode())
            ws.send_data()
        with pytest.raises(ConnectionClosed):
            while True:
                ws.recv(timeout=10)


def test_a_whole_flow_logs_no_secret(tmp_path: Path) -> None:
    serve = Serve(
        tmp_path,
        SONGY_LOG_LEVEL="DEBUG",
        SONGY_DEV_TOKEN_SECRET=DEV_TOKEN_SECRET,
        SONGY_ELEVENLABS_API_KEY=ELEVENLABS_API_KEY,
        SONGY_CLERK_WEBHOOK_SECRET=CLERK_WEBHOOK_SECRET,
        SONGY_WEBHOOKS_ALLOW_PRIVATE="true",
    )
    flow = Flow(serve)
    try:
        run_flow(flow)
    finally:
        flow.http.close()
        serve.process.send_signal(signal.SIGTERM)
        serve.process.wait(timeout=30)
        serve.stop()
    output = serve.log()
    lines = output.splitlines()
    # the demo token `songy serve` prints for the user to paste (dev mode) is output, not a log line
    printed = {i + 1 for i, line in enumerate(lines) if line.startswith("dev token for ")}
    logged = [line for i, line in enumerate(lines) if i not in printed]

    # what the scan needs to mean something: the secrets' carriers were logged
    assert "/api/music-generator/ws?token=" in output  # the WebSocket's access line
    assert "Traceback (most recent call last)" in output  # the error path
    assert any("/files/" in line or "/download/" in line for line in logged)
    assert len(flow.secrets) >= 10, flow.secrets.keys()
    leaks = [
        (name, piece, line)
        for name, secret in flow.secrets.items()
        for piece in fragments(secret)
        for line in logged
        if piece in line
    ]
    assert not leaks, "\n".join(f"{name} ({piece[:8]}...): {line[:300]}" for name, piece, line in leaks[:20])
    jwt_shaped = [line for line in logged if "eyJ" in line]
    assert not jwt_shaped, jwt_shaped[:5]
