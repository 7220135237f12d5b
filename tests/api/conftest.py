"""The real Litestar app on a temporary SQLite database, local files and the in-process queue."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from litestar.testing import TestClient

from songy.adapters.memory.audio_generator import silence
from songy.container import build_container
from songy.entrypoints.http.app import create_app
from songy.ports.audio import EXACT, AudioSpec
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

    def job_outcomes(self, music_id: str, timeout: float = 20.0, count: int = 1) -> list[str]:
        """The outcomes of the first ``count`` finished runs of ``music_id``'s jobs, waiting for them."""
        deadline = time.monotonic() + timeout
        history = self.container.job_history()
        while time.monotonic() < deadline:
            runs = self.client.blocking_portal.call(history.recent)
            outcomes = [run.outcome for run in runs if run.music_id == music_id]
            if len(outcomes) >= count:
                return outcomes
            time.sleep(0.02)
        raise AssertionError(f"no finished job of {music_id} after {timeout}s")


@pytest.fixture
def make_api(tmp_path: Path) -> Iterator[Callable[..., Api]]:
    clients: list[TestClient[Any]] = []

    def factory(generator: Any = None, **overrides: Any) -> Api:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=tmp_path / f"data{len(clients)}",
            dev_token_secret=SECRET,
            retry_base_delay_s=0.05,
            outbox_poll_interval_s=0.05,
            **overrides,
        )
        container = build_container(settings)
        if generator is not None:
            container.audio_generator.override(providers.Object(generator))
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


class GatedGenerator:
    """An AudioGenerator that holds every job at the gate until :meth:`open` (tracks stay GENERATING), then
    yields silence of the asked length and format, as the stored-output check requires."""

    tolerance = EXACT

    def __init__(self) -> None:
        self._open = threading.Event()
        self.started = threading.Event()  # a job has begun its attempt and waits at the gate

    def open(self) -> None:
        self._open.set()

    def describe(self, spec: object) -> None:
        return None

    async def generate(self, spec: AudioSpec) -> AsyncIterator[bytes]:
        self.started.set()
        while not self._open.is_set():  # noqa: ASYNC110 - opened from the test thread, not this loop
            await asyncio.sleep(0.02)
        yield silence(spec.output_format, spec.length_ms)


@pytest.fixture
def gated() -> Iterator[GatedGenerator]:
    gate = GatedGenerator()
    yield gate
    gate.open()


@pytest.fixture
def held_api(make_api: Callable[..., Api], gated: GatedGenerator) -> Api:
    """An app whose jobs stay GENERATING until ``gated.open()``."""
    return make_api(generator=gated)
