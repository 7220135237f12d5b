"""On PostgreSQL, each attempt calls the provider at most once: a stale or duplicate delivery of a job is skipped
before any call, whether it arrives while a newer attempt runs, between a retry being scheduled and starting, or
after the track finished."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from songy.adapters.memory.audio_generator import silence
from songy.domain.errors import TransientGenerationError
from songy.domain.music import MusicStatus
from songy.domain.use_cases.process_generation import Outcome, ProcessGeneration, RetryPolicy
from songy.ports.audio import EXACT, AudioSpec
from songy.ports.jobs import GenerationJob
from tests.integration.concurrency_world import ConcurrencyWorld

pytestmark = pytest.mark.integration


class CountingProvider:
    """Counts calls; fails the first one transiently; holds the others until :attr:`gate` is set."""

    tolerance = EXACT

    def __init__(self) -> None:
        self.calls = 0
        self.gate = asyncio.Event()
        self.started = asyncio.Event()

    def describe(self, spec: object) -> None:
        return None

    async def generate(self, spec: AudioSpec) -> AsyncIterator[bytes]:
        self.calls += 1
        if self.calls == 1:
            raise TransientGenerationError("provider 503")
        self.started.set()
        await self.gate.wait()
        yield silence(spec.output_format, spec.length_ms)


def test_stale_and_duplicate_deliveries_never_call_the_provider_again(postgres_url: str) -> None:
    async def scenario() -> tuple[int, list[Any]]:
        world = ConcurrencyWorld(postgres_url)
        try:
            async with asyncio.timeout(30):  # a second run of an attempt would wait at the gate forever
                return await attempts(world)
        finally:
            await world.close()

    async def attempts(world: ConcurrencyWorld) -> tuple[int, list[Any]]:
        provider = CountingProvider()
        worker = ProcessGeneration(
            world.uow, provider, world.blobs, world.clock, RetryPolicy(2, timedelta(0)), world.verifier
        )
        user = await world.new_user()
        music_id = await world.new_track(user)
        first = GenerationJob(music_id, 1)
        assert await worker(first) is Outcome.RETRY_SCHEDULED
        # the retry is scheduled but not started: a late copy of attempt 1 is stale
        assert await worker(first) is Outcome.SKIPPED
        running = asyncio.ensure_future(worker(GenerationJob(music_id, 2)))
        await provider.started.wait()
        # while attempt 2 runs: attempt 1 again, and a twin of attempt 2, all at once
        twins = await asyncio.gather(*(worker(j) for j in [first, GenerationJob(music_id, 2)] * 4))
        provider.gate.set()
        outcomes = [await running, *twins]
        # after the end: every copy is skipped too
        outcomes += [await worker(first), await worker(GenerationJob(music_id, 2))]
        async with world.uow() as uow:
            music = await uow.music.get(music_id)
            assert music is not None and music.status is MusicStatus.COMPLETED and music.attempts == 2
        return provider.calls, outcomes

    calls, outcomes = asyncio.run(scenario())
    assert calls == 2, "one provider call per attempt"
    assert outcomes[0] is Outcome.COMPLETED and set(outcomes[1:]) == {Outcome.SKIPPED}
