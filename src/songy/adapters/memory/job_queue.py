"""A job queue that records jobs, and can be told to be down."""

from __future__ import annotations

from songy.ports.jobs import GenerationJob, QueueUnavailable


class MemoryJobQueue:
    def __init__(self) -> None:
        self.jobs: list[GenerationJob] = []
        self.available = True

    async def enqueue(self, job: GenerationJob) -> None:
        if not self.available:
            raise QueueUnavailable("memory queue is down")
        self.jobs.append(job)

    def take_all(self) -> list[GenerationJob]:
        jobs, self.jobs = self.jobs, []
        return jobs

    async def check(self) -> None:
        if not self.available:
            raise QueueUnavailable("memory queue is down")
