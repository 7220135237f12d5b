"""QueueDashboard: what an operator needs to see of the generation queue (the seed's Bull dashboard)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from songy.domain.errors import Forbidden
from songy.domain.music import MusicStatus
from songy.domain.user import Identity
from songy.ports.jobs import JobHistory
from songy.ports.repositories import UnitOfWorkFactory
from songy.ports.system import Clock


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of ``values`` (``None`` when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass(frozen=True)
class QueueSnapshot:
    counts: dict[str, int]
    outbox_pending: int
    outbox_lag_s: float
    job_outcomes: dict[str, int]
    duration_s: dict[str, float | None]
    failures: list[dict[str, Any]]
    retries: list[dict[str, Any]]


class QueueDashboard:
    def __init__(self, uow: UnitOfWorkFactory, history: JobHistory, clock: Clock) -> None:
        self._uow = uow
        self._history = history
        self._clock = clock

    async def snapshot(self) -> QueueSnapshot:
        """No authorization: for metrics, which are scraped inside the deployment."""
        now = self._clock.now()
        async with self._uow() as uow:
            counts = await uow.music.count_by_status()
            pending = await uow.outbox.pending_count()
            oldest = await uow.outbox.oldest_pending()
            failed = await uow.music.list_recent(MusicStatus.FAILED, 20)
            retries = await uow.outbox.scheduled_retries(20)
        runs = await self._history.recent(500)
        outcomes: dict[str, int] = {}
        for run in runs:
            outcomes[run.outcome] = outcomes.get(run.outcome, 0) + 1
        durations = [r.duration_s for r in runs if r.outcome == "completed"]
        return QueueSnapshot(
            counts={status.value: n for status, n in counts.items()},
            outbox_pending=pending,
            outbox_lag_s=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
            job_outcomes=outcomes,
            duration_s={p: percentile(durations, q) for p, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))},
            failures=[
                {"musicId": m.id, "reason": m.failure_reason, "attempts": m.attempts, "failedAt": m.updated_at}
                for m in failed
            ],
            retries=[
                {
                    "musicId": r.event.music_id,
                    "attempt": getattr(r.event, "attempt", 1),
                    "nextAttemptAt": r.available_at,
                    "publishAttempts": r.attempts,
                }
                for r in retries
            ],
        )

    async def __call__(self, identity: Identity) -> QueueSnapshot:
        if not identity.is_admin:
            raise Forbidden("admin role required")
        return await self.snapshot()
