"""Operations: metrics report real values, readiness fails when a dependency does, the queue dashboard."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from dependency_injector import providers

from songy.adapters.memory.job_queue import MemoryJobQueue
from songy.domain.errors import PermanentGenerationError

from .conftest import Api


def metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} {labels} not in metrics")


def admin_headers(api: Api) -> dict[str, str]:
    token = api.container.dev_tokens().mint("user_ops", roles=("admin",), ttl=timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


def test_metrics_count_jobs_requests_and_queue(api: Api) -> None:
    music_id = api.generate().json()["data"]["musicId"]
    api.wait_for(music_id)
    text = api.client.get("/metrics").text
    assert metric(text, "songy_jobs_total", outcome="completed") >= 1
    assert metric(text, "songy_http_request_duration_seconds_count", route="/api/music-generator/generate") >= 1
    status_route = [line for line in text.splitlines() if "/status/{music_id" in line]
    assert status_route, "requests are labelled by route template, not by path"
    assert not re.search(r'route="/api/music-generator/status/[a-z0-9]{20,}"', text)
    assert metric(text, "songy_music", status="COMPLETED") >= 1
    assert metric(text, "songy_generation_duration_seconds_count") >= 1
    # the completion event is relayed just after the record completes: the gauge drains to 0 soon after
    deadline = time.monotonic() + 10
    while metric(api.client.get("/metrics").text, "songy_outbox_pending") != 0:
        assert time.monotonic() < deadline, "the outbox did not drain"
        time.sleep(0.05)


def test_queue_depth_tracks_generating_music(held_api: Api) -> None:
    api = held_api
    for _ in range(3):
        api.generate()
    assert metric(api.client.get("/metrics").text, "songy_queue_depth") == 3


def test_ready_checks_every_dependency(api: Api) -> None:
    ready = api.client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["data"]["checks"] == {"database": "ok", "queue": "ok", "blobStore": "ok"}


def test_ready_fails_when_the_queue_is_down(api: Api) -> None:
    down = MemoryJobQueue()
    down.available = False
    api.container.job_queue.override(providers.Object(down))
    response = api.client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == "NOT_READY"
    assert body["data"]["checks"]["queue"].startswith("QueueUnavailable")
    assert api.client.get("/health/live").status_code == 200


def test_ready_fails_when_the_database_is_gone(api: Api) -> None:
    from songy.adapters.sql.engine import build_engine

    api.container.engine.override(providers.Object(build_engine("sqlite+aiosqlite:////nonexistent/dir/x.db")))
    response = api.client.get("/health/ready")
    assert response.status_code == 503 and response.json()["data"]["checks"]["database"] != "ok"


def test_queue_dashboard_is_admin_only_and_reports_failures(make_api: Any) -> None:
    from songy.adapters.memory.audio_generator import ScriptedAudioGenerator

    api = make_api(generator=ScriptedAudioGenerator([PermanentGenerationError("ElevenLabs rejected the prompt")]))
    failed = api.generate().json()["data"]["musicId"]
    api.wait_for(failed)
    done = api.generate().json()["data"]["musicId"]
    api.wait_for(done)
    assert api.client.get("/api/admin/queue", headers=api.auth()).status_code == 403
    response = api.client.get("/api/admin/queue", headers=admin_headers(api))
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["counts"]["FAILED"] == 1 and data["counts"]["COMPLETED"] == 1
    assert data["failures"][0]["musicId"] == failed and "rejected" in data["failures"][0]["reason"]
    assert data["jobs"]["outcomes"] == {"failed": 1, "completed": 1}
    assert data["jobs"]["durationSeconds"]["p50"] is not None
    assert data["outbox"]["pending"] == 0


def test_an_unreachable_database_answers_503_in_the_envelope(make_api: Callable[..., Api]) -> None:
    api = make_api(database_url="postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2")
    for response in (api.generate(), api.status("mmissing")):
        assert response.status_code == 503
        body = response.json()
        assert body["success"] is False and body["error"]["code"] == "DATABASE_UNAVAILABLE"
