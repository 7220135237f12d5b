"""A local (loopback) webhook receiver for the API tests, and the client-side helpers they share."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from .conftest import Api

E = "/api/webhook-endpoints"


@dataclass(frozen=True)
class Hit:
    """One request the receiver answered 2xx."""

    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A webhook receiver on 127.0.0.1 that can be told to fail (503)."""

    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self.failing = False
        receiver = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                if receiver.failing:
                    self.send_response(503)
                else:
                    with lock:
                        receiver.hits.append(Hit(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # the deliverer sends a pass's deliveries at once

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/songy"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def paths(self) -> list[str]:
        return [hit.path for hit in self.hits]


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
    data: dict[str, Any] = response.json()["data"]
    return data


def deliveries(api: Api, endpoint: dict[str, Any], user: str = "user_alice") -> list[dict[str, Any]]:
    """The endpoint's delivery log, newest first."""
    response = api.client.get(f"{E}/{endpoint['endpointId']}/deliveries", headers=api.auth(user))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["data"]["items"]
    return items


def wait_until(condition: Any, timeout: float = 15) -> None:
    """Poll ``condition`` until it holds (fail after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
