"""Operations: metrics report real values, readiness fails when a dependency does, the queue dashboard."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from litestar.testing import TestClient
from sqlalchemy import event

from songy.adapters.memory.job_queue import MemoryJobQueue
from songy.container import build_container
from songy.domain.errors import PermanentGenerationError
from songy.entrypoints.http.app import create_app
from songy.entrypoints.logging_setup import current_request_id
from songy.settings import Settings
from tests.support.moto import free_port
from tests.support.redis_server import RedisServer

from .conftest import SECRET, Api, GatedGenerator


def metric(text: str, name: str, default: float | None = None, **labels: str) -> float:
    """The value of the first sample of ``name`` with ``labels`` (``default`` when there is none)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    if default is not None:
        return default
    raise AssertionError(f"{name} {labels} not in metrics")


def scrape(api: Api, **headers: str) -> str:
    response = api.client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    return response.text


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    """Poll ``condition`` (a scrape, a request) until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


def admin_headers(api: Api) -> dict[str, str]:
    token = api.container.dev_tokens().mint("user_ops", roles=("admin",), ttl=timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


def test_metrics_count_jobs_requests_and_queue(make_api: Callable[..., Api]) -> None:
    api = make_api(metrics_sample_interval_s=0.05)
    generate_route = {"route": "/api/music-generator/generate", "status": "201"}
    # the counters belong to the whole test process: measure what this test adds to them
    before = scrape(api)
    jobs_before = metric(before, "songy_jobs_total", 0.0, outcome="completed")
    renders_before = metric(before, "songy_generation_duration_seconds_count", 0.0)
    requests_before = metric(before, "songy_http_request_duration_seconds_count", 0.0, **generate_route)

    music_id = api.generate().json()["data"]["musicId"]
    api.wait_for(music_id)
    wait_until(lambda: metric(scrape(api), "songy_jobs_total", 0.0, outcome="completed") > jobs_before, "job counted")

    text = scrape(api)
    assert metric(text, "songy_jobs_total", outcome="completed") == jobs_before + 1
    assert metric(text, "songy_generation_duration_seconds_count") == renders_before + 1
    assert metric(text, "songy_http_request_duration_seconds_count", **generate_route) == requests_before + 1
    status_route = [line for line in text.splitlines() if "/status/{music_id" in line]
    assert status_route, "requests are labelled by route template, not by path"
    assert not re.search(r'route="/api/music-generator/status/[a-z0-9]{20,}"', text)
    # the sampled gauges: this app's one track, and the completion event relayed (the outbox drains to 0)
    wait_until(
        lambda: (
            metric(t := scrape(api), "songy_music", -1.0, status="COMPLETED") == 1
            and metric(t, "songy_outbox_pending", -1.0) == 0
            and metric(t, "songy_queue_depth", -1.0) == 0
        ),
        "the sampled gauges show the completed track and an empty outbox",
    )


def test_queue_depth_tracks_generating_music(make_api: Callable[..., Api], gated: GatedGenerator) -> None:
    api = make_api(generator=gated, metrics_sample_interval_s=0.05)
    for _ in range(3):
        api.generate()
    wait_until(lambda: metric(scrape(api), "songy_queue_depth", -1.0) == 3, "queue depth 3")
    assert metric(scrape(api), "songy_music", status="GENERATING") == 3


def test_a_scrape_runs_no_database_query(make_api: Callable[..., Api]) -> None:
    """The gauges are sampled in the background: a scrape (any number of them) reads memory only."""
    api = make_api()
    wait_until(lambda: "songy_queue_depth" in scrape(api), "the first sample")
    statements: list[str | None] = []

    def record(*_: Any) -> None:
        statements.append(current_request_id())

    engine = api.container.engine().sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        for n in range(5):
            assert "songy_queue_depth" in scrape(api, **{"X-Request-ID": f"scrape-{n}"})
        # the positive control: a request that does query the database is seen, tagged with its request id
        assert api.client.get("/api/me", headers={**api.auth(), "X-Request-ID": "control-1"}).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert "control-1" in statements
    assert [r for r in statements if r and r.startswith("scrape-")] == []


def test_metrics_and_the_dashboard_answer_while_redis_is_down(make_api: Callable[..., Api], tmp_path: Path) -> None:
    """Redis stops under a running API: /metrics says songy_redis_up 0, /api/admin/queue marks the queue down,
    /health/ready names it (503); none answers 500. Redis back on the same port: the gauge returns to 1."""
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    try:
        api = make_api(redis_url=redis.url, metrics_sample_interval_s=0.05)
        wait_until(lambda: metric(scrape(api), "songy_redis_up", -1.0) == 1, "songy_redis_up 1")
        assert metric(scrape(api), "songy_database_up") == 1 and metric(scrape(api), "songy_blob_store_up") == 1

        redis.stop()
        wait_until(lambda: metric(scrape(api), "songy_redis_up", -1.0) == 0, "songy_redis_up 0")
        text = scrape(api)
        assert metric(text, "songy_database_up") == 1 and "songy_queue_depth" in text

        dashboard = api.client.get("/api/admin/queue", headers=admin_headers(api))
        assert dashboard.status_code == 200, dashboard.text
        data = dashboard.json()["data"]
        assert data["dependencies"]["queue"] != "ok" and data["dependencies"]["database"] == "ok"
        assert data["counts"]["GENERATING"] == 0 and data["jobs"]["outcomes"] == {}

        ready = api.client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["error"]["code"] == "NOT_READY" and "queue" in ready.json()["error"]["message"]
        assert [d["field"] for d in ready.json()["error"]["details"]] == ["queue"]

        redis.start()
        wait_until(lambda: metric(scrape(api), "songy_redis_up", -1.0) == 1, "songy_redis_up back to 1")
        dashboard = api.client.get("/api/admin/queue", headers=admin_headers(api))
        assert dashboard.status_code == 200 and dashboard.json()["data"]["dependencies"]["queue"] == "ok"
    finally:
        redis.stop()


def test_metrics_and_the_dashboard_answer_when_redis_was_never_reachable(make_api: Callable[..., Api]) -> None:
    api = make_api(redis_url=f"redis://127.0.0.1:{free_port()}/0", metrics_sample_interval_s=0.05)  # nothing there
    wait_until(lambda: metric(scrape(api), "songy_redis_up", -1.0) == 0, "songy_redis_up 0")
    dashboard = api.client.get("/api/admin/queue", headers=admin_headers(api))
    assert dashboard.status_code == 200 and dashboard.json()["data"]["dependencies"]["queue"] != "ok"
    assert api.client.get("/health/ready").status_code == 503


def test_embedded_mode_has_no_redis_gauge(make_api: Callable[..., Api]) -> None:
    api = make_api(metrics_sample_interval_s=0.05)
    wait_until(lambda: "songy_database_up 1.0" in scrape(api), "the first sample")
    assert "songy_redis_up" not in scrape(api)  # the in-process queue is not Redis


def test_a_database_that_is_down_is_a_gauge_and_a_dashboard_line(make_api: Callable[..., Api]) -> None:
    from songy.adapters.sql.engine import build_engine

    api = make_api(metrics_sample_interval_s=0.05)
    wait_until(lambda: metric(scrape(api), "songy_database_up", -1.0) == 1, "songy_database_up 1")
    gone = build_engine("sqlite+aiosqlite:////nonexistent/dir/x.db")
    api.container.engine.override(providers.Object(gone))
    wait_until(lambda: metric(scrape(api), "songy_database_up", -1.0) == 0, "songy_database_up 0")
    dashboard = api.client.get("/api/admin/queue", headers=admin_headers(api))
    assert dashboard.status_code == 200 and dashboard.json()["data"]["dependencies"]["database"] != "ok"


METRICS_TOKEN = "metrics-token-" + "m" * 32


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token-0123456789", f"Basic {METRICS_TOKEN}", f"Bearer {METRICS_TOKEN}x"]
)
def test_a_missing_or_wrong_metrics_token_is_refused(make_api: Callable[..., Api], authorization: str | None) -> None:
    api = make_api(metrics_token=METRICS_TOKEN)
    headers = {"Authorization": authorization} if authorization else {}
    response = api.client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.json()["success"] is False and response.json()["error"]["code"] == "UNAUTHORIZED"
    assert "songy_" not in response.text
    assert "songy_http_request_duration_seconds" in scrape(api, Authorization=f"Bearer {METRICS_TOKEN}")


def production(**overrides: Any) -> dict[str, Any]:
    return {
        "mode": "production",
        "auth": "clerk",
        "clerk_jwks_url": "http://127.0.0.1:9/jwks.json",
        "clerk_issuer": "https://clerk.example",
        **overrides,
    }


def test_production_mode_serves_metrics_on_the_api_port_only_with_a_token(make_api: Callable[..., Api]) -> None:
    refused = make_api(**production()).client.get("/metrics")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "METRICS_DISABLED"
    api = make_api(**production(metrics_token=METRICS_TOKEN))
    assert api.client.get("/metrics").status_code == 401
    assert "songy_" in scrape(api, Authorization=f"Bearer {METRICS_TOKEN}")


@pytest.mark.parametrize("token", [None, METRICS_TOKEN])
def test_metrics_on_their_own_port(tmp_path: Path, token: str | None) -> None:
    port = free_port()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path,
        dev_token_secret=SECRET,
        **production(metrics_port=port, metrics_token=token, metrics_sample_interval_s=0.05),
    )
    url = f"http://127.0.0.1:{port}/metrics"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with TestClient(create_app(build_container(settings))) as client:
        assert client.get("/metrics").status_code == 404  # not on the API port
        if token:
            refused = httpx.get(url, headers={"Authorization": "Bearer wrong-token-0123456789"})
            assert refused.status_code == 401 and refused.json()["error"]["code"] == "UNAUTHORIZED"
            assert httpx.get(url).status_code == 401
        wait_until(lambda: "songy_database_up 1.0" in httpx.get(url, headers=headers).text, "sampled gauges there")
    with pytest.raises(httpx.ConnectError):  # stopping the app closed the port
        httpx.get(url, headers=headers)


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

    def dashboard() -> dict[str, Any]:
        response = api.client.get("/api/admin/queue", headers=admin_headers(api))
        assert response.status_code == 200
        return dict(response.json()["data"])

    # a job's record is written just after its track turns terminal: wait for both records
    wait_until(lambda: sum(dashboard()["jobs"]["outcomes"].values()) >= 2, "both jobs recorded")
    data = dashboard()
    assert data["dependencies"] == {"database": "ok", "queue": "ok", "blobStore": "ok"}
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
