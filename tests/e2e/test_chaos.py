"""Chaos: jobs through the production path while workers are SIGKILLed, Redis restarts (empty), and the
provider and S3 fail a fifth of their calls. Afterwards nothing is lost, stuck, duplicated or overcharged.

Reduced size by default (CI); ``SONGY_CHAOS_JOBS=1000`` for the full run.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable

import boto3
import psycopg
import pytest

from songy.adapters.codecs import decode
from songy.domain.formats import OutputFormat
from tests.support.fake_elevenlabs import running
from tests.support.fault_proxy import FaultProxy
from tests.support.postgres import BASE_URL, SCHEMA

from .stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.chaos]

JOBS = int(os.environ.get("SONGY_CHAOS_JOBS", "200"))
FAULT_RATE = 0.2
LENGTH_MS = 3000


def statuses() -> dict[str, int]:
    with psycopg.connect(BASE_URL.replace("+psycopg", ""), options=f"-csearch_path={SCHEMA}") as conn:
        return dict(conn.execute("SELECT status, count(*) FROM music GROUP BY status").fetchall())


def pending_outbox() -> int:
    with psycopg.connect(BASE_URL.replace("+psycopg", ""), options=f"-csearch_path={SCHEMA}") as conn:
        return conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone()[0]  # type: ignore[index]


def test_chaos_nothing_lost_stuck_duplicated_or_overcharged(make_stack: Callable[..., Stack]) -> None:
    chaos = random.Random(2026)
    stack = make_stack(
        SONGY_REAPER_DEADLINE_S="20",
        SONGY_REAPER_INTERVAL_S="2",
        SONGY_REDELIVERY_IDLE_MS="4000",
        SONGY_WORKER_CONCURRENCY="8",
        SONGY_INITIAL_CREDITS=str(JOBS * 3),
    )
    proxy = FaultProxy(stack.s3_endpoint, FAULT_RATE)
    with running(proxy) as proxy_url:  # type: ignore[arg-type]
        stack.env["SONGY_S3_ENDPOINT_URL"] = proxy_url
        stack.env["SONGY_S3_PUBLIC_BASE_URL"] = f"{stack.s3_endpoint}/{stack.bucket}"
        stack.start_api()
        workers = [stack.start_worker(), stack.start_worker()]
        stack.create_user("user_chaos")
        stack.elevenlabs.chaos_rate = FAULT_RATE

        created: list[str] = []
        for start in range(0, JOBS, 10):
            items = [{"name": f"Chaos {start + i}", "prompt": "chaos techno", "lengthMs": LENGTH_MS} for i in range(10)]
            response = stack.http.post(
                "/api/music-generator/batch", json={"items": items[: JOBS - start]}, headers=stack.auth("user_chaos")
            )
            assert response.status_code == 201, response.text
            created += response.json()["data"]["musicIds"]

        kills, redis_restarts = 0, 0
        deadline = time.monotonic() + 300
        while statuses().get("GENERATING", 0) > 0:
            assert time.monotonic() < deadline, f"still generating: {statuses()}"
            time.sleep(chaos.uniform(0.5, 2.0))
            if kills < 6 and chaos.random() < 0.6:
                victim = chaos.choice([w for w in workers if w.poll() is None])
                stack.kill_worker(victim)
                workers.remove(victim)
                workers.append(stack.start_worker())
                kills += 1
            if redis_restarts == 0 and kills >= 2:
                stack.redis.stop()
                time.sleep(1)
                stack.redis.start()
                redis_restarts += 1
        stack.elevenlabs.chaos_rate = 0.0
        while pending_outbox() > 0:  # discards of interrupted uploads are retried through the outbox
            assert time.monotonic() < deadline, f"outbox not drained: {pending_outbox()}"
            time.sleep(0.2)

    final = statuses()
    completed = final.get("COMPLETED", 0)
    failed = final.get("FAILED", 0)
    print(
        f"\nchaos: {JOBS} jobs, {kills} workers killed, {redis_restarts} redis restart(s), "
        f"{proxy.faults}/{proxy.calls} S3 calls failed, {len(stack.elevenlabs.calls)} provider calls -> "
        f"{completed} completed, {failed} failed"
    )
    assert completed + failed == JOBS == len(created)
    with psycopg.connect(BASE_URL.replace("+psycopg", ""), options=f"-csearch_path={SCHEMA}") as conn:
        reasons = conn.execute("SELECT failure_reason FROM music WHERE status = 'FAILED'").fetchall()
        keys = [r[0] for r in conn.execute("SELECT object_key FROM music WHERE status = 'COMPLETED'").fetchall()]
    assert all(reason for (reason,) in reasons)
    objects = stack.objects()
    assert sorted(objects) == sorted(keys), "every completed track has exactly its object, and nothing else"
    s3 = boto3.client(
        "s3",
        endpoint_url=stack.s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    fmt = OutputFormat.parse("mp3_44100_128")
    for key in keys:
        samples, rate = decode(s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read(), fmt)
        assert abs(len(samples) / rate * 1000 - LENGTH_MS) < 100, key
    me = stack.http.get("/api/me", headers=stack.auth("user_chaos")).json()["data"]
    assert me["credits"] == JOBS * 3 - completed * 3, "failed tracks are refunded, completed ones paid once"
