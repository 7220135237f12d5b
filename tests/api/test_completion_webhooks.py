"""Completion webhooks: signed per Standard Webhooks, retried while the receiver is down, logged for the owner."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from songy.adapters.webhook_sender import HttpWebhookSender, is_public
from songy.domain.webhooks import BACKOFF

from .conftest import Api

E = "/api/webhook-endpoints"


class Receiver:
    """A local webhook receiver that can be told to fail."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.failing = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                if receiver.failing:
                    self.send_response(503)
                else:
                    receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/songy"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def register(api: Api, url: str, events: list[str] | None = None, user: str = "user_alice") -> dict[str, Any]:
    body: dict[str, Any] = {"url": url}
    if events is not None:
        body["events"] = events
    response = api.client.post(E + "/", json=body, headers=api.auth(user))
    assert response.status_code == 201, response.text
    return response.json()["data"]


def wait_until(condition: Any, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_completion_is_delivered_signed(api: Api, receiver: Receiver) -> None:
    endpoint = register(api, receiver.url)
    assert endpoint["secret"].startswith("whsec_")
    music_id = api.generate().json()["data"]["musicId"]
    api.wait_for(music_id)
    wait_until(lambda: receiver.received)
    headers, body = receiver.received[0]
    payload = Webhook(endpoint["secret"]).verify(body, headers)  # raises on a bad signature
    assert payload["type"] == "music.generation.completed"
    assert payload["data"]["musicId"] == music_id and payload["data"]["audioUrl"]
    log = api.client.get(f"{E}/{endpoint['endpointId']}/deliveries", headers=api.auth()).json()["data"]["items"]
    assert log[0]["status"] == "succeeded" and log[0]["lastStatusCode"] == 204 and log[0]["attempts"] == 1


def test_event_filter_and_other_users_music(api: Api, receiver: Receiver) -> None:
    register(api, receiver.url, events=["music.generation.failed"])
    api.wait_for(api.generate().json()["data"]["musicId"])
    api.wait_for(api.generate("user_bob").json()["data"]["musicId"], "user_bob")
    time.sleep(0.5)
    assert receiver.received == []


def test_receiver_down_then_up_is_retried(make_api: Any, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("songy.domain.webhooks.BACKOFF", tuple(b / 50 for b in BACKOFF))
    api = make_api()
    endpoint = register(api, receiver.url)
    receiver.failing = True
    music_id = api.generate().json()["data"]["musicId"]
    api.wait_for(music_id)
    route = f"{E}/{endpoint['endpointId']}/deliveries"
    wait_until(lambda: api.client.get(route, headers=api.auth()).json()["data"]["items"][0]["attempts"] >= 2)
    pending = api.client.get(route, headers=api.auth()).json()["data"]["items"][0]
    assert pending["status"] == "pending" and pending["lastStatusCode"] == 503 and pending["nextAttemptAt"]
    receiver.failing = False
    wait_until(lambda: receiver.received, timeout=30)
    done = api.client.get(route, headers=api.auth()).json()["data"]["items"][0]
    assert done["status"] == "succeeded" and done["attempts"] >= 3


def test_registration_validates_and_isolates(api: Api) -> None:
    for body in (
        {"url": "ftp://x"},
        {"url": "not a url"},
        {"url": "https://u:p@example.com/"},
        {"url": "https://example.com", "events": ["nope"]},
    ):
        assert api.client.post(E + "/", json=body, headers=api.auth()).status_code == 400, body
    endpoint = register(api, "https://example.com/hook")
    assert api.client.get(f"{E}/{endpoint['endpointId']}/deliveries", headers=api.auth("user_bob")).status_code == 404
    assert api.client.delete(f"{E}/{endpoint['endpointId']}", headers=api.auth("user_bob")).status_code == 404
    listed = api.client.get(E + "/", headers=api.auth()).json()["data"]["items"]
    assert [e["endpointId"] for e in listed] == [endpoint["endpointId"]] and "secret" not in listed[0]


def test_production_mode_refuses_plain_http(make_api: Any) -> None:
    api = make_api()
    api.container.webhook_endpoints()._allow_http = False
    response = api.client.post(E + "/", json={"url": "http://example.com/hook"}, headers=api.auth())
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),
        ("0.0.0.0", False),
        ("93.184.216.34", True),
    ],
)
def test_ssrf_address_classes(address: str, public: bool) -> None:
    assert is_public(address) is public


async def test_sender_refuses_internal_targets_outside_dev_mode() -> None:
    from datetime import UTC, datetime

    from songy.ports.events import WebhookSendError

    sender = HttpWebhookSender(allow_private=False)
    with pytest.raises(WebhookSendError, match="non-public"):
        await sender.send("http://127.0.0.1:9/x", "whsec_" + "A" * 43, "msg_1", b"{}", datetime.now(UTC))
    with pytest.raises(WebhookSendError, match="non-public"):
        await sender.send("http://localhost:9/x", "whsec_" + "A" * 43, "msg_1", b"{}", datetime.now(UTC))
    await sender.aclose()
