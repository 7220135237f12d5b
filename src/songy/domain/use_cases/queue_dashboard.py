"""QueueDashboard: what an operator needs to see of the generation queue (the seed's Bull dashboard), and of the
dependencies it runs on. A dependency that is down is a line in the snapshot, never an error."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from songy.domain.errors import Forbidden
from songy.domain.music import MusicStatus
from songy.domain.use_cases.check_dependencies import OK, CheckDependencies, outcome
from songy.domain.user import Identity
from songy.ports.jobs import JobHistory, JobRun
from songy.ports.repositories import UnitOfWorkFactory
from songy.ports.system import Clock

DATABASE = "database"
QUEUE = "queue"  # the broker, and the job history kept next to it (Redis in production)
READ_TIMEOUT_S = 10.0


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of ``values`` (``None`` when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass(frozen=True)
class QueueSnapshot:
    """``dependencies``: name -> ``"ok"`` or why it cannot be used. ``database_read`` / ``history_read``: whether
    the sections from the database (counts, outbox, failures, retries) and from the job history (outcomes,
    durations) could be read; the sections that could not are empty."""

    dependencies: dict[str, str]
    database_read: bool
    history_read: bool
    counts: dict[str, int] = field(default_factory=dict)
    outbox_pending: int = 0
    outbox_lag_s: float = 0.0
    job_outcomes: dict[str, int] = field(default_factory=dict)
    duration_s: dict[str, float | None] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    retries: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _DatabaseSection:
    counts: dict[str, int] = field(default_factory=dict)
    outbox_pending: int = 0
    outbox_lag_s: float = 0.0
    failures: list[dict[str, Any]] = field(default_factory=list)
    retries: list[dict[str, Any]] = field(default_factory=list)


class QueueDashboard:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        history: JobHistory,
        clock: Clock,
        dependencies: CheckDependencies,
        *,
        read_timeout_s: float = READ_TIMEOUT_S,
    ) -> None:
        self._uow = uow
        self._history = history
        self._clock = clock
        self._dependencies = dependencies
        self._read_timeout_s = read_timeout_s

    async def snapshot(self, *, details: bool = True) -> QueueSnapshot:
        """No authorization: for the metrics sampler, which runs inside the process. ``details=False`` leaves
        out the job history, recent failures and scheduled retries (the gauges need counts and the outbox)."""
        database = _DatabaseSection()
        runs: list[JobRun] = []

        async def read_database() -> None:
            await self._read_database(database, details)

        async def read_history() -> None:
            if details:
                runs.extend(await self._history.recent(500))

        dependencies, database_result, history_result = await asyncio.gather(
            self._dependencies(),
            outcome(read_database, self._read_timeout_s),
            outcome(read_history, self._read_timeout_s),
        )
        for name, result in ((DATABASE, database_result), (QUEUE, history_result)):
            if result != OK and dependencies.get(name, OK) == OK:
                dependencies[name] = result  # the check passed a moment ago, the read did not
        outcomes: dict[str, int] = {}
        for run in runs:
            outcomes[run.outcome] = outcomes.get(run.outcome, 0) + 1
        durations = [r.duration_s for r in runs if r.outcome == "completed"]
        return QueueSnapshot(
            dependencies=dependencies,
            database_read=database_result == OK,
            history_read=details and history_result == OK,
            counts=database.counts,
            outbox_pending=database.outbox_pending,
            outbox_lag_s=database.outbox_lag_s,
            job_outcomes=outcomes,
            duration_s={p: percentile(durations, q) for p, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))},
            failures=database.failures,
            retries=database.retries,
        )

    async def _read_database(self, into: _DatabaseSection, details: bool) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            counts = await uow.music.count_by_status()
            pending = await uow.outbox.pending_count()
            oldest = await uow.outbox.oldest_pending()
            failed = await uow.music.list_recent(MusicStatus.FAILED, 20) if details else []
            retries = await uow.outbox.scheduled_retries(20) if details else []
        into.counts = {status.value: counts.get(status, 0) for status in MusicStatus}
        into.outbox_pending = pending
        into.outbox_lag_s = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
        into.failures = [
            {"musicId": m.id, "reason": m.failure_reason, "attempts": m.attempts, "failedAt": m.updated_at}
            for m in failed
        ]
        into.retries = [
            {
                "musicId": r.event.music_id,
                "attempt": getattr(r.event, "attempt", 1),
                "nextAttemptAt": r.available_at,
                "publishAttempts": r.attempts,
            }
            for r in retries
        ]

    async def __call__(self, identity: Identity) -> QueueSnapshot:
        if not identity.is_admin:
            raise Forbidden("admin role required")
        return await self.snapshot()
