"""The queue's pause switch in this process's memory: the embedded default, where one process runs the jobs."""

from __future__ import annotations


class MemoryQueueControl:
    def __init__(self) -> None:
        self._paused = False

    async def is_paused(self) -> bool:
        return self._paused

    async def set_paused(self, paused: bool) -> None:
        self._paused = paused
