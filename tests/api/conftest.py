"""The real Litestar app on a temporary SQLite database, local files and the in-process queue."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from songy.container import build_container
from songy.entrypoints.http.app import create_app
from songy.settings import Settings

SECRET = "test-secret-" + "x" * 40


class Api:
    """A test client plus helpers that speak the API the way a client would."""

    def __init__(self, client: TestClient[Any], container: Any) -> None:
        self.client = client
        self.container = container

    def token(self, user: str = "user_alice", ttl: timedelta = timedelta(hours=1)) -> str:
        return self.container.dev_tokens().mint(user, ttl=ttl)

    def auth(self, user: str = "user_alice") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"}

    def generate(self, user: str = "user_alice", **body: Any) -> Any:
        payload = {"name": "Test Song", "prompt": "upbeat electronic music", "lengthMs": 3000}
        payload.update(body)
        return self.client.post("/api/music-generator/generate", json=payload, headers=self.auth(user))

    def status(self, music_id: str, user: str = "user_alice") -> Any:
        return self.client.get(f"/api/music-generator/status/{music_id}", headers=self.auth(user))

    def wait_for(self, music_id: str, user: str = "user_alice", timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = self.status(music_id, user).json()["data"]
            if data["status"] != "GENERATING":
                return data
            time.sleep(0.05)
        raise AssertionError(f"music {music_id} still GENERATING after {timeout}s")


@pytest.fixture
def make_api(tmp_path: Path) -> Iterator[Callable[..., Api]]:
    clients: list[TestClient[Any]] = []

    def factory(**overrides: Any) -> Api:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=tmp_path / f"data{len(clients)}",
            dev_token_secret=SECRET,
            retry_base_delay_s=0.05,
            outbox_poll_interval_s=0.05,
            **overrides,
        )
        container = build_container(settings)
        client = TestClient(create_app(container))
        client.__enter__()
        clients.append(client)
        return Api(client, container)

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()
