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
