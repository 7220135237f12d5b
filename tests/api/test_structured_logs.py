"""JSON logs carry the request id from the API into the worker's lines about the same music."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from songy.entrypoints.logging_setup import configure_logging

from .conftest import Api


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    configure_logging(json=True, stream=stream)
    yield stream
    root.handlers, root.level = saved[0], saved[1]


def test_request_id_reaches_the_workers_log_lines(api: Api, json_logs: io.StringIO) -> None:
    headers = {**api.auth(), "X-Request-ID": "req-abc-123"}
    response = api.client.post(
        "/api/music-generator/generate", json={"name": "n", "prompt": "p", "lengthMs": 3000}, headers=headers
    )
    assert response.headers["x-request-id"] == "req-abc-123"
    music_id = response.json()["data"]["musicId"]
    api.wait_for(music_id)
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines() if line.startswith("{")]
    worker = [
        line
        for line in lines
        if line.get("logger") == "songy.domain.use_cases.process_generation" and line.get("music_id") == music_id
    ]
    assert worker, lines[-5:]
    assert {line["request_id"] for line in worker} == {"req-abc-123"}
    assert all(line["attempt"] == 1 and "timestamp" in line and "level" in line for line in worker)


def test_a_request_id_is_made_up_when_missing_or_unsafe(api: Api) -> None:
    made = api.client.get("/health/live").headers["x-request-id"]
    unsafe = api.client.get("/health/live", headers={"X-Request-ID": "bad id\nwith newline"}).headers["x-request-id"]
    assert len(made) == 32 and len(unsafe) == 32 and made != unsafe
