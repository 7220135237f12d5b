"""Faults on the production path end in a retry or a clear FAILED, never a lost or stuck job."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator

import pytest
import redis

from tests.support.moto import locked_bucket

from .stack import Stack

pytestmark = pytest.mark.e2e


def wait_until(condition: Callable[[], bool], timeout: float = 20, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def started(make_stack: Callable[..., Stack], **env: str) -> Stack:
    stack = make_stack(**env)
    stack.start_api()
    stack.start_worker()
    stack.create_user("user_1")
    return stack


def test_redis_down_during_post_delays_the_job_but_never_loses_it(make_stack: Callable[..., Stack]) -> None:
    stack = started(make_stack)
    stack.redis.stop()
    created = stack.generate("user_1")
    assert created.status_code == 201, created.text
    music_id = created.json()["data"]["musicId"]
    time.sleep(1.0)
    assert stack.status("user_1", music_id)["status"] == "GENERATING"
    stack.redis.start()
    assert stack.wait_for("user_1", music_id)["status"] == "COMPLETED"
    assert len(stack.objects()) == 1


def test_worker_killed_mid_job_is_redelivered_and_completed_once(make_stack: Callable[..., Stack]) -> None:
    stack = started(make_stack)
    stack.elevenlabs.script.append({"latency": 5.0})
    music_id = stack.generate("user_1").json()["data"]["musicId"]
    wait_until(lambda: len(stack.elevenlabs.calls) == 1, what="the provider call")
    stack.kill_worker(stack.workers[0])
    stack.start_worker()
    done = stack.wait_for("user_1", music_id, timeout=60)
    assert done["status"] == "COMPLETED"
    assert len(stack.elevenlabs.calls) == 2
    assert len(stack.objects()) == 1


def test_sigterm_lets_the_running_job_finish(make_stack: Callable[..., Stack]) -> None:
    stack = started(make_stack, SONGY_WORKER_SHUTDOWN_GRACE_S="10")
    stack.elevenlabs.script.append({"latency": 1.5})
    music_id = stack.generate("user_1").json()["data"]["musicId"]
    wait_until(lambda: len(stack.elevenlabs.calls) == 1, what="the provider call")
    worker = stack.workers[0]
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=20) == 0
    assert stack.status("user_1", music_id)["status"] == "COMPLETED"
    assert len(stack.elevenlabs.calls) == 1


def test_provider_429_is_retried_then_completes(make_stack: Callable[..., Stack]) -> None:
    stack = started(make_stack)
    stack.elevenlabs.script.append({"error": "rate_limited"})
    music_id = stack.generate("user_1").json()["data"]["musicId"]
    assert stack.wait_for("user_1", music_id)["status"] == "COMPLETED"
    assert len(stack.elevenlabs.calls) == 2


def test_truncated_stream_is_retried_without_a_partial_object(make_stack: Callable[..., Stack]) -> None:
    stack = started(make_stack)
    stack.elevenlabs.script.append({"truncate": 0.4})
    music_id = stack.generate("user_1", lengthMs=20000).json()["data"]["musicId"]
    assert stack.wait_for("user_1", music_id)["status"] == "COMPLETED"
    assert len(stack.objects()) == 1


def test_provider_bad_prompt_fails_at_once_with_the_reason(make_stack: Callable[..., Stack]) -> None:
    stack = started(make_stack)
    stack.elevenlabs.script.append({"error": "bad_prompt"})
    music_id = stack.generate("user_1").json()["data"]["musicId"]
    done = stack.wait_for("user_1", music_id)
    assert done["status"] == "FAILED" and done["audioUrl"] is None
    assert "rejected the prompt" in done["error"] and "suggestion" in done["error"]
    assert len(stack.elevenlabs.calls) == 1 and stack.objects() == []
    client = redis.Redis.from_url(stack.redis.url)
    [record_key] = client.keys("songy:job:*")
    assert json.loads(client.get(record_key))["outcome"] == "failed"
    assert 86000 < client.ttl(record_key) <= 86400  # failed jobs: 24 h


def test_provider_down_twice_fails_with_the_last_reason(make_stack: Callable[..., Stack]) -> None:
    stack = started(make_stack)
    stack.elevenlabs.script.extend([{"error": "server_error"}, {"error": "unavailable"}])
    music_id = stack.generate("user_1").json()["data"]["musicId"]
    done = stack.wait_for("user_1", music_id)
    assert done["status"] == "FAILED" and "503" in done["error"]


@pytest.fixture(scope="module")
def locked_s3() -> Iterator[tuple[str, str, str]]:
    with locked_bucket("locked-bucket") as credentials:
        yield credentials


def test_s3_access_denied_fails_with_a_reason_naming_the_bucket(
    make_stack: Callable[..., Stack], locked_s3: tuple[str, str, str]
) -> None:
    endpoint, key_id, secret = locked_s3
    stack = make_stack(
        bucket="locked-bucket",
        create_bucket=False,
        SONGY_S3_ENDPOINT_URL=endpoint,
        SONGY_S3_ACCESS_KEY_ID=key_id,
        SONGY_S3_SECRET_ACCESS_KEY=secret,
    )
    stack.start_api()
    stack.start_worker()
    stack.create_user("user_1")
    music_id = stack.generate("user_1").json()["data"]["musicId"]
    done = stack.wait_for("user_1", music_id)
    assert done["status"] == "FAILED"
    assert "access denied for bucket locked-bucket" in done["error"]
    assert "locked-bucket" in stack.log("worker0.log")
    ready = stack.http.get("/health/ready")
    assert (
        ready.status_code == 503
        and "access denied for bucket locked-bucket" in ready.json()["data"]["checks"]["blobStore"]
    )
