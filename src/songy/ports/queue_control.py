"""Whether workers may start generation jobs: an operator pauses and resumes the queue's consumption."""

from __future__ import annotations

from typing import Protocol


class QueueControl(Protocol):
    async def is_paused(self) -> bool: ...

    async def set_paused(self, paused: bool) -> None:
        """Seen by every process that shares this control (Redis in production) at its next check."""
        ...
