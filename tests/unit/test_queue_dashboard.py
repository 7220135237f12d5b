"""The queue dashboard and the dependency checks: a dependency that is down (or hangs, or cannot even be built)
is a line in the answer, never an exception."""

from __future__ import annotations

import asyncio

from songy.adapters.memory.blob_store import MemoryBlobStore
from songy.adapters.memory.job_queue import MemoryJobQueue
from songy.adapters.memory.system import FixedClock
from songy.adapters.memory.unit_of_work import MemoryDatabase, MemoryUnitOfWork
from songy.domain.errors import DatabaseUnavailable
from songy.domain.use_cases.check_dependencies import CheckDependencies
from songy.domain.use_cases.queue_dashboard import QueueDashboard
from songy.entrypoints.metrics_sampler import MetricsSampler
from songy.ports.jobs import JobRun


class History:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error

    async def recent(self, limit: int = 100) -> list[JobRun]:
        if self.error:
            raise self.error
        return [JobRun("t1", "m1", 1, "completed", 2.0, 0.0)]


class Hangs:
    async def check(self) -> None:
        await asyncio.Event().wait()


def unbuildable() -> MemoryBlobStore:
    raise RuntimeError("S3 client: no region")


def dashboard(history: History, *, queue: MemoryJobQueue | None = None, database_up: bool = True) -> QueueDashboard:
    db = MemoryDatabase()
    clock = FixedClock()

    def uow() -> MemoryUnitOfWork:
        if not database_up:
            raise DatabaseUnavailable()
        return MemoryUnitOfWork(db, clock.now, lambda: None)

    checks = CheckDependencies({"queue": lambda: queue or MemoryJobQueue(), "blobStore": MemoryBlobStore})
    return QueueDashboard(uow, history, clock, checks)


async def test_every_dependency_up() -> None:
    snapshot = await dashboard(History()).snapshot()
    assert snapshot.dependencies == {"queue": "ok", "blobStore": "ok"}
    assert snapshot.database_read and snapshot.history_read
    assert snapshot.counts == {"GENERATING": 0, "COMPLETED": 0, "FAILED": 0, "CANCELED": 0}
    assert snapshot.job_outcomes == {"completed": 1}


async def test_an_unreadable_job_history_marks_the_queue_down() -> None:
    snapshot = await dashboard(History(ConnectionError("Redis refused"))).snapshot()
    assert snapshot.dependencies["queue"] == "ConnectionError: Redis refused"
    assert not snapshot.history_read and snapshot.job_outcomes == {}
    assert snapshot.database_read and snapshot.counts["GENERATING"] == 0


async def test_a_queue_that_fails_its_check_is_reported() -> None:
    down = MemoryJobQueue()
    down.available = False
    snapshot = await dashboard(History(), queue=down).snapshot(details=False)
    assert snapshot.dependencies["queue"].startswith("QueueUnavailable")


async def test_an_unreachable_database_is_a_line_not_an_error() -> None:
    snapshot = await dashboard(History(), database_up=False).snapshot()
    assert snapshot.dependencies["database"].startswith("DatabaseUnavailable")
    assert not snapshot.database_read and snapshot.counts == {}


async def test_a_hanging_or_unbuildable_dependency_is_reported_within_the_timeout() -> None:
    checks = CheckDependencies({"hangs": Hangs, "unbuildable": unbuildable, "queue": MemoryJobQueue}, timeout_s=0.05)
    results = await asyncio.wait_for(checks(), timeout=5)
    assert results == {
        "hangs": "timed out after 0.05s",
        "unbuildable": "RuntimeError: S3 client: no region",
        "queue": "ok",
    }


class Switch:
    """A dependency an operator can take down and bring back."""

    def __init__(self) -> None:
        self.up = True

    async def check(self) -> None:
        if not self.up:
            raise ConnectionError("refused")


def gauges(sampler: MetricsSampler) -> dict[str, float]:
    return {
        sample.name + "".join(f"[{v}]" for v in sample.labels.values()): sample.value
        for family in sampler.collect()
        for sample in family.samples
    }


async def test_the_sampler_serves_the_last_counts_while_the_database_is_down_and_recovers() -> None:
    db, clock, database, redis = MemoryDatabase(), FixedClock(), Switch(), Switch()

    def uow() -> MemoryUnitOfWork:
        if not database.up:
            raise DatabaseUnavailable()
        return MemoryUnitOfWork(db, clock.now, lambda: None)

    checks = CheckDependencies({"database": lambda: database, "queue": lambda: redis, "blobStore": MemoryBlobStore})
    sampler = MetricsSampler(QueueDashboard(uow, History(), clock, checks), interval_s=60, redis_configured=True)
    assert gauges(sampler) == {}  # nothing sampled yet: nothing claimed

    await sampler.sample()
    up = gauges(sampler)
    assert up["songy_database_up"] == up["songy_redis_up"] == up["songy_blob_store_up"] == 1
    assert up["songy_queue_depth"] == 0 and up["songy_music[COMPLETED]"] == 0

    database.up = redis.up = False
    await sampler.sample()
    down = gauges(sampler)
    assert down["songy_database_up"] == down["songy_redis_up"] == 0 and down["songy_blob_store_up"] == 1
    assert down["songy_queue_depth"] == 0  # the last value read, not a made-up one
    assert down["songy_metrics_sample_timestamp_seconds"] == up["songy_metrics_sample_timestamp_seconds"]

    database.up = redis.up = True
    await sampler.sample()
    assert gauges(sampler)["songy_database_up"] == gauges(sampler)["songy_redis_up"] == 1


async def test_without_redis_there_is_no_redis_gauge() -> None:
    sampler = MetricsSampler(dashboard(History()), interval_s=60, redis_configured=False)
    await sampler.sample()
    assert "songy_redis_up" not in gauges(sampler) and gauges(sampler)["songy_blob_store_up"] == 1
