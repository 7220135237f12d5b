"""The gauges that need the database or another service (queue depth, tracks by status, outbox, whether each
dependency is up), sampled in the background and served from memory: a scrape runs no query and cannot fail
because a dependency is down."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import replace

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from songy.domain.use_cases.check_dependencies import OK
from songy.domain.use_cases.queue_dashboard import QueueDashboard, QueueSnapshot

log = logging.getLogger(__name__)
STOP_GRACE_S = 3.0

# dependency check name -> gauge; the queue is Redis in production (none to watch with the in-process queue)
UP_GAUGES = {
    "database": ("songy_database_up", "1 when the database answered the last check, else 0"),
    "queue": ("songy_redis_up", "1 when Redis (broker, events, job records) answered the last check, else 0"),
    "blobStore": ("songy_blob_store_up", "1 when the blob store answered the last check, else 0"),
}


class MetricsSampler:
    """Every ``interval_s``: check the dependencies, read the counts and the outbox, keep the result in memory.
    Never fails: a dependency that is down becomes ``songy_<name>_up 0`` and the gauges read from it keep their
    last value (``songy_metrics_sample_timestamp_seconds`` says how old they are)."""

    def __init__(self, dashboard: QueueDashboard, *, interval_s: float, redis_configured: bool) -> None:
        self._dashboard = dashboard
        self._interval_s = interval_s
        self._up_gauges = {k: v for k, v in UP_GAUGES.items() if k != "queue" or redis_configured}
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.latest: QueueSnapshot | None = None
        self.read_at: float | None = None  # Unix time of the last sample that read the database

    def start(self) -> None:
        global _current
        _current = self
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._sample_until_stopped(), name="songy-metrics-sampler")

    async def stop(self) -> None:
        """Let a sample in flight finish (up to ``STOP_GRACE_S``; cancelling a database read half way can leave
        its pooled connection to be closed after the loop is gone), then end the loop."""
        global _current
        if _current is self:
            _current = None
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        _, pending = await asyncio.wait({task}, timeout=STOP_GRACE_S)
        if pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def sample(self) -> None:
        """One sample (the loop calls it; tests may too)."""
        try:
            snapshot = await self._dashboard.snapshot(details=False)
        except Exception:  # the dashboard reports faults as data; anything else is a bug, never fatal here
            log.exception("metrics sample failed")
            return
        if snapshot.database_read or self.latest is None:
            self.latest = snapshot
        else:  # keep the last values read from the database, with the dependencies as they are now
            self.latest = replace(self.latest, dependencies=snapshot.dependencies)
        if snapshot.database_read:
            self.read_at = time.time()

    async def _sample_until_stopped(self) -> None:
        while not self._stopping.is_set():
            await self.sample()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval_s):
                    await self._stopping.wait()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snapshot = self.latest
        if snapshot is None:
            return
        for name, (metric, documentation) in self._up_gauges.items():
            up = GaugeMetricFamily(metric, documentation)
            up.add_metric([], 1.0 if snapshot.dependencies.get(name) == OK else 0.0)
            yield up
        if self.read_at is None:
            return
        sampled = GaugeMetricFamily(
            "songy_metrics_sample_timestamp_seconds", "When the gauges below last read the database (Unix time)"
        )
        sampled.add_metric([], self.read_at)
        yield sampled
        music = GaugeMetricFamily("songy_music", "Music records by status", labels=["status"])
        for status, count in snapshot.counts.items():
            music.add_metric([status], count)
        yield music
        depth = snapshot.counts.get("GENERATING", 0)
        yield GaugeMetricFamily("songy_queue_depth", "Tracks waiting for or in generation (GENERATING)", value=depth)
        yield GaugeMetricFamily(
            "songy_outbox_pending", "Outbox messages not yet published", value=snapshot.outbox_pending
        )
        lag = snapshot.outbox_lag_s
        yield GaugeMetricFamily(
            "songy_outbox_lag_seconds", "How long the oldest due outbox message has waited", value=lag
        )


_current: MetricsSampler | None = None


class _SampledGauges(Collector):
    """Registered once: renders the gauges of the sampler started last (one per process outside tests)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        sampler = _current
        return sampler.collect() if sampler is not None else iter(())


REGISTRY.register(_SampledGauges())
