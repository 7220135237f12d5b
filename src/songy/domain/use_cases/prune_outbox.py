"""PruneOutbox: published outbox messages are history; keep them a while, then delete them."""

from __future__ import annotations

from datetime import timedelta

from songy.ports.repositories import UnitOfWorkFactory
from songy.ports.system import Clock


class PruneOutbox:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, keep: timedelta = timedelta(hours=24)) -> None:
        self._uow = uow
        self._clock = clock
        self._keep = keep

    async def __call__(self) -> int:
        async with self._uow() as uow:
            removed = await uow.outbox.prune_published(self._clock.now() - self._keep)
            await uow.commit()
        return removed
