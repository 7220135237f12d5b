"""Long-running loops next to the API or worker: the outbox relay and the reaper of lost jobs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from songy.domain.backoff import BASE_S, Backoff

log = logging.getLogger(__name__)


def task_name(job: object) -> str:
    """What a pass is called in the logs: its class (a use case) or function name."""
    bound = getattr(job, "__self__", None)
    if bound is not None:
        return f"{type(bound).__name__}.{getattr(job, '__name__', '')}"
    return getattr(job, "__qualname__", None) or type(job).__name__


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
    A failing pass is never fatal: it is tried again after a back-off that doubles up to 30 s, with one log line
    per failed attempt and one when it recovers (see :mod:`songy.domain.backoff`)."""

    def __init__(
        self,
        relays: list[Callable[[], Awaitable[int]]],
        housekeeping: list[Callable[[], Awaitable[object]]],
        signal: OutboxSignal,
        *,
        poll_interval: float,
        reaper_interval: float,
        backoff_base_s: float = BASE_S,
    ) -> None:
        self._relays = relays
        self._housekeeping = housekeeping
        self._signal = signal
        self._poll_interval = poll_interval
        self._reaper_interval = reaper_interval
        self._backoff_base_s = backoff_base_s
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
        backoffs = [self._backoff(f"relay pass {task_name(relay)}") for relay in self._relays]
        while True:
            published = 0
            for relay, backoff in zip(self._relays, backoffs, strict=True):
                if not backoff.due():
                    continue
                try:
                    published += await relay()
                except Exception as exc:
                    backoff.failed(exc)
                else:
                    backoff.succeeded()
            if not published:
                await self._signal.wait(self._next_wait(backoffs))

    def _backoff(self, what: str) -> Backoff:
        return Backoff(what, log, base_s=self._backoff_base_s)

    def _next_wait(self, backoffs: list[Backoff]) -> float:
        """The poll interval while a relay is healthy; else until the first failing one is due again."""
        if not backoffs or any(not b.failures for b in backoffs):
            return self._poll_interval
        return max(self._poll_interval, min(b.remaining_s() for b in backoffs))

    async def _reap_forever(self) -> None:
        backoffs = [self._backoff(f"housekeeping pass {task_name(job)}") for job in self._housekeeping]
        while True:
            await asyncio.sleep(self._reaper_interval)
            for job, backoff in zip(self._housekeeping, backoffs, strict=True):
                if not backoff.due():
                    continue
                try:
                    await job()
                except Exception as exc:
                    backoff.failed(exc)
                else:
                    backoff.succeeded()
