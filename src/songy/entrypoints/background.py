"""Long-running loops next to the API or worker: the outbox relay and the reaper of lost jobs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class OutboxSignal:
    """Wakes the relay as soon as a local commit wrote events, instead of waiting for the next poll."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def nudge(self) -> None:
        self._event.set()

    async def wait(self, seconds: float) -> None:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that arrives as its
        # timeout fires, and the relay loop would then outlive stop() (a shutdown hung on it in CI)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._event.wait()
        self._event.clear()


class BackgroundLoops:
    """Runs the relays (the outbox, webhook deliveries; woken by the signal, or every ``poll_interval``) and
    the housekeeping passes (reaper, pruning, retention; every ``reaper_interval``) until :meth:`stop`.
    A failing pass is logged and tried again, never fatal."""

    def __init__(
        self,
        relays: list[Callable[[], Awaitable[int]]],
        housekeeping: list[Callable[[], Awaitable[object]]],
        signal: OutboxSignal,
        *,
        poll_interval: float,
        reaper_interval: float,
    ) -> None:
        self._relays = relays
        self._housekeeping = housekeeping
        self._signal = signal
        self._poll_interval = poll_interval
        self._reaper_interval = reaper_interval
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._relay_forever(), name="songy-outbox-relay"),
            asyncio.create_task(self._reap_forever(), name="songy-reaper"),
        ]

    async def stop(self) -> None:
        """Cancel the loops and wait until they have ended, cancelling again any that carried on."""
        pending, self._tasks = set(self._tasks), []
        while pending:
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=1.0)

    async def _relay_forever(self) -> None:
        while True:
            published = 0
            for relay in self._relays:
                try:
                    published += await relay()
                except Exception:
                    log.exception("relay pass %r failed", relay)
            if not published:
                await self._signal.wait(self._poll_interval)

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(self._reaper_interval)
            for job in self._housekeeping:
                try:
                    await job()
                except Exception:
                    log.exception("housekeeping pass %r failed", job)
