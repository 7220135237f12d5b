"""The job queue port: hands a generation attempt to a worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

QUEUE_NAME = "music-generation"
JOB_NAME = "generate-music"


@dataclass(frozen=True)
class GenerationJob:
    music_id: str
    attempt: int = 1
    request_id: str | None = None


class JobQueue(Protocol):
    async def enqueue(self, job: GenerationJob) -> None:
        """Hand the job to the broker; raises :class:`QueueUnavailable` when it cannot."""
        ...

    async def check(self) -> None:
        """Raise when the broker cannot take jobs (readiness)."""
        ...


class QueueUnavailable(Exception):
    """The broker could not accept the job now (the outbox keeps it and tries again)."""


@dataclass(frozen=True)
class JobRun:
    """One execution of ``generate-music``, as the job history keeps it for a while."""

    task_id: str
    music_id: str
    attempt: int
    outcome: str
    duration_s: float
    finished_at: float
    error: str | None = None


class JobHistory(Protocol):
    async def recent(self, limit: int = 100) -> list[JobRun]: ...
