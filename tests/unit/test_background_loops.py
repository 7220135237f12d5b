"""The relay loop wakes on a nudge, and stop() ends the loops even when a cancellation is swallowed once
(as asyncio.wait_for can do on Python 3.11 when the cancellation races its timeout)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time

import pytest

from songy.domain.backoff import Backoff
from songy.entrypoints.background import BackgroundLoops, OutboxSignal


async def test_a_nudge_wakes_the_relay_before_the_poll_interval() -> None:
    signal = OutboxSignal()
    passes = asyncio.Queue[int]()

    async def relay() -> int:
        passes.put_nowait(1)
        return 0

    loops = BackgroundLoops([relay], [], signal, poll_interval=60, reaper_interval=60)
    loops.start()
    try:
        await asyncio.wait_for(passes.get(), 1)  # the first pass runs at once
        signal.nudge()
        await asyncio.wait_for(passes.get(), 1)  # and the nudge brings the next long before 60 s
    finally:
        await asyncio.wait_for(loops.stop(), 5)


async def test_stop_ends_a_loop_that_swallowed_one_cancellation() -> None:
    swallowed = asyncio.Event()

    async def stubborn_relay() -> int:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            if not swallowed.is_set():
                swallowed.set()  # carries on once, as a lost cancellation would
                return 0
            raise
        return 0

    loops = BackgroundLoops([stubborn_relay], [], OutboxSignal(), poll_interval=0.01, reaper_interval=60)
    loops.start()
    await asyncio.sleep(0.05)
    stopping = asyncio.create_task(loops.stop())
    done, _ = await asyncio.wait({stopping}, timeout=5)  # not cancelled on timeout: a hang stays a hang
    assert stopping in done, "stop() did not end the loop"  # the old stop() awaited the task forever
    assert swallowed.is_set()


async def test_wait_returns_after_the_timeout_and_honours_cancellation() -> None:
    signal = OutboxSignal()
    await asyncio.wait_for(signal.wait(0.01), 1)
    waiter = asyncio.create_task(signal.wait(3600))
    await asyncio.sleep(0.01)
    waiter.cancel()
    done, _ = await asyncio.wait({waiter}, timeout=1)
    assert waiter in done and waiter.cancelled()


def test_backoff_doubles_to_30_s_with_one_line_per_attempt_and_one_when_recovered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    backoff = Backoff("relay pass X", logging.getLogger("songy.test"), clock=lambda: now[0])
    caplog.set_level(logging.INFO, "songy.test")
    delays = [backoff.failed(ConnectionError("refused\nsecond line of detail")) for _ in range(10)]
    assert delays == [0.5, 1, 2, 4, 8, 16, 30, 30, 30, 30]
    assert not backoff.due() and backoff.remaining_s() == 30
    now[0] = 30
    assert backoff.due()
    backoff.succeeded()
    backoff.succeeded()  # a healthy pass says nothing more
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 11 and all("\n" not in line for line in lines)
    assert lines[0] == "relay pass X failed (attempt 1): ConnectionError: refused; next attempt in 0.5 s"
    assert lines[-1] == "relay pass X recovered after 10 failed attempts"
    assert all(r.exc_info is None for r in caplog.records)  # no traceback below DEBUG


async def test_a_failing_relay_is_retried_with_growing_waits_and_logs_one_line_each(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 18: with the database down, the relay loop logged a traceback every 0.5 s (thousands of lines)."""
    caplog.set_level(logging.INFO, "songy.entrypoints.background")
    attempts: list[float] = []
    recovered = asyncio.Event()

    async def relay() -> int:
        attempts.append(time.monotonic())
        if len(attempts) <= 5:
            raise ConnectionError("database down")
        recovered.set()
        return 0

    loops = BackgroundLoops([relay], [], OutboxSignal(), poll_interval=0.001, reaper_interval=60, backoff_base_s=0.02)
    loops.start()
    try:
        await asyncio.wait_for(recovered.wait(), 10)
    finally:
        await asyncio.wait_for(loops.stop(), 5)
    gaps = [b - a for a, b in itertools.pairwise(attempts[:6])]
    assert all(gap >= 0.02 * 2**i * 0.9 for i, gap in enumerate(gaps)), gaps  # 0.02, 0.04, 0.08, ... not 0.001
    lines = [r.getMessage() for r in caplog.records]
    assert len([line for line in lines if "failed (attempt" in line]) == 5
    assert lines[-1].endswith("recovered after 5 failed attempts")
