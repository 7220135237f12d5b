"""Fixtures for end-to-end tests: every service real, Songy as separate processes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest

from tests.support.fake_elevenlabs import FakeElevenLabs, running
from tests.support.jwks import SigningKey, jwks_server
from tests.support.moto import moto_server
from tests.support.postgres import reset_postgres
from tests.support.redis_server import RedisServer

from .stack import Stack


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture(scope="session")
def elevenlabs() -> Iterator[tuple[FakeElevenLabs, str]]:
    app = FakeElevenLabs(api_key="test-key")
    with running(app) as url:
        yield app, url


@pytest.fixture(scope="session")
def clerk() -> Iterator[tuple[SigningKey, str]]:
    key = SigningKey()
    with jwks_server(key) as url:
        yield key, url


@pytest.fixture
def make_stack(
    tmp_path: Path,
    s3_endpoint: str,
    elevenlabs: tuple[FakeElevenLabs, str],
    clerk: tuple[SigningKey, str],
) -> Iterator[Callable[..., Stack]]:
    reset_postgres()
    elevenlabs[0].script.clear()
    elevenlabs[0].calls.clear()
    elevenlabs[0].default_latency = 0.0
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    stacks: list[Stack] = []

    def factory(bucket: str | None = None, create_bucket: bool = True, **env: str) -> Stack:
        name = bucket or f"songy-{uuid.uuid4().hex[:10]}"
        if create_bucket:
            boto3.client(
                "s3",
                endpoint_url=s3_endpoint,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            ).create_bucket(Bucket=name)
        stack = Stack(tmp_path, redis, s3_endpoint, name, elevenlabs, clerk, **env)
        stacks.append(stack)
        return stack

    yield factory
    for stack in stacks:
        stack.stop()
    redis.stop()
