"""ExpireAudio: the retention policy. Audio older than the retention period is deleted from the blob store;
the record stays, marked with ``expiredAt`` and no ``audioUrl``. A dry run only reports."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from songy.domain.use_cases.manage_music import delete_objects
from songy.ports.blobs import BlobStore
from songy.ports.repositories import UnitOfWorkFactory
from songy.ports.system import Clock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExpiredTrack:
    music_id: str
    user_id: str
    object_key: str | None


class ExpireAudio:
    def __init__(self, uow: UnitOfWorkFactory, blobs: BlobStore, clock: Clock, retention: timedelta | None) -> None:
        self._uow = uow
        self._blobs = blobs
        self._clock = clock
        self._retention = retention

    async def __call__(self, *, dry_run: bool = False, limit: int = 500) -> list[ExpiredTrack]:
        """Expire one batch (oldest first); returns what was (or, in a dry run, would be) expired."""
        if self._retention is None:
            return []
        now = self._clock.now()
        async with self._uow() as uow:
            due = await uow.music.list_expirable(now - self._retention, limit)
            report = [ExpiredTrack(m.id, m.user_id, m.object_key) for m in due]
            if dry_run:
                return report
            for music in due:
                music.expire(now)
                await uow.music.save(music)
            await uow.commit()
        for track in report:  # the records no longer point at the files: deleting them cannot break a link
            if track.object_key:
                await delete_objects(self._blobs, track.object_key)
        if report:
            log.info("retention expired the audio of %d tracks", len(report))
        return report
