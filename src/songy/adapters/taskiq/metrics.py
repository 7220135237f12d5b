"""Prometheus metrics of job execution, recorded by a taskiq middleware in whichever process runs jobs."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Histogram
from taskiq import TaskiqMessage, TaskiqMiddleware, TaskiqResult

JOBS = Counter("songy_jobs_total", "generate-music executions by outcome", ["outcome"])
GENERATION_SECONDS = Histogram(
    "songy_generation_duration_seconds",
    "Wall time of one generate-music execution (render + store)",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)


class JobMetricsMiddleware(TaskiqMiddleware):
    async def post_execute(self, message: TaskiqMessage, result: TaskiqResult[Any]) -> None:
        outcome = "error" if result.is_err else str(result.return_value)
        JOBS.labels(outcome=outcome).inc()
        GENERATION_SECONDS.observe(result.execution_time)
