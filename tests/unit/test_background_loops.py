"""The relay loop wakes on a nudge, and stop() ends the loops even when a cancellation is swallowed once
(as asyncio.wait_for can do on Python 3.11 when the cancellation races its timeout)."""

from __future__ import annotations

import asyncio

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
