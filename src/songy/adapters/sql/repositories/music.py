"""Music records in SQL. Saves are conditional on the version that was read: a save that lost a race updates no
row and raises :class:`Conflict` instead of overwriting the winner."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, tuple_, update

from songy.adapters.sql import tables
from songy.adapters.sql.timestamps import aware_utc, aware_utc_or_none
from songy.domain.errors import Conflict
from songy.domain.events import MusicGenerationRequested
from songy.domain.formats import OutputFormat
from songy.domain.music import Music, MusicStatus

if TYPE_CHECKING:
    from songy.adapters.sql.unit_of_work import SqlUnitOfWork

_m = tables.music

# Statements of the hot paths, built once: values go in as parameters, so SQLAlchemy neither rebuilds the
# expression nor recomputes a cache key over every value on each request.
_INSERT = insert(_m)
_UPDATE_IF_UNCHANGED = update(_m).where(_m.c.id == bindparam("music_id"), _m.c.version == bindparam("b_version"))
_GET_FOR_UPDATE = select(_m).where(_m.c.id == bindparam("music_id")).with_for_update()
_OWNED_BY_CLERK_ID = (
    select(_m)
    .join(tables.users, tables.users.c.id == _m.c.user_id)
    .where(
        _m.c.id == bindparam("music_id"),
        tables.users.c.clerk_id == bindparam("b_clerk_id"),
        tables.users.c.deleted_at.is_(None),
    )
)
_RENEW_LEASE = (
    update(_m)
    .where(
        _m.c.id == bindparam("music_id"),
        _m.c.status == MusicStatus.GENERATING.value,
        _m.c.attempts == bindparam("b_attempt"),
        _m.c.lease_expires_at.is_not(None),
    )
    .values(lease_expires_at=bindparam("b_until"), version=_m.c.version + 1)
)


def music_from_row(row: Any) -> Music:
    return Music(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        prompt=row.prompt,
        length_ms=row.length_ms,
        output_format=OutputFormat.parse(row.output_format),
        model_id=row.model_id,
        status=MusicStatus(row.status),
        created_at=aware_utc(row.created_at),
        updated_at=aware_utc(row.updated_at),
        audio_url=row.audio_url,
        object_key=row.object_key,
        failure_reason=row.failure_reason,
        attempts=row.attempts,
        credits_reserved=row.credits_reserved,
        expired_at=aware_utc_or_none(row.expired_at),
        lease_expires_at=aware_utc_or_none(row.lease_expires_at),
        metadata=row.generation_metadata,
        version=row.version,
    )


def _values(music: Music) -> dict[str, Any]:
    return {
        "user_id": music.user_id,
        "name": music.name,
        "prompt": music.prompt,
        "length_ms": music.length_ms,
        "output_format": music.output_format.name,
        "model_id": music.model_id,
        "status": music.status.value,
        "audio_url": music.audio_url,
        "object_key": music.object_key,
        "failure_reason": music.failure_reason,
        "attempts": music.attempts,
        "credits_reserved": music.credits_reserved,
        "expired_at": music.expired_at,
        "lease_expires_at": music.lease_expires_at,
        "generation_metadata": music.metadata,
        "created_at": music.created_at,
        "updated_at": music.updated_at,
    }


class SqlMusicRepository:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def add(self, music: Music) -> None:
        await self._uow.execute(_INSERT, {"id": music.id, "version": music.version, **_values(music)})
        self._uow.track(music)

    async def get(self, music_id: str) -> Music | None:
        row = (await self._uow.execute(_GET_FOR_UPDATE, {"music_id": music_id})).first()
        return self._uow.track(music_from_row(row)) if row else None

    async def get_owned(self, music_id: str, user_id: str, *, for_update: bool = False) -> Music | None:
        query = select(_m).where(_m.c.id == music_id, _m.c.user_id == user_id)
        row = (await self._uow.execute(query.with_for_update() if for_update else query)).first()
        return self._uow.track(music_from_row(row)) if row else None

    async def get_owned_by_clerk_id(self, music_id: str, clerk_id: str) -> Music | None:
        row = (await self._uow.execute(_OWNED_BY_CLERK_ID, {"music_id": music_id, "b_clerk_id": clerk_id})).first()
        return self._uow.track(music_from_row(row)) if row else None

    async def save(self, music: Music) -> None:
        parameters = {"music_id": music.id, "b_version": music.version, "version": music.version + 1}
        result = await self._uow.execute(_UPDATE_IF_UNCHANGED, parameters | _values(music))
        if result.rowcount != 1:
            raise Conflict(f"music {music.id} was changed or removed by a concurrent request; try again")
        music.version += 1
        self._uow.track(music)

    async def renew_lease(self, music_id: str, attempt: int, until: datetime) -> bool:
        parameters = {"music_id": music_id, "b_attempt": attempt, "b_until": until}
        return (await self._uow.execute(_RENEW_LEASE, parameters)).rowcount == 1

    async def list_for_user(
        self, user_id: str, *, status: MusicStatus | None, limit: int, before: tuple[datetime, str] | None
    ) -> list[Music]:
        query = select(_m).where(_m.c.user_id == user_id)
        if status is not None:
            query = query.where(_m.c.status == status.value)
        if before is not None:
            query = query.where(tuple_(_m.c.created_at, _m.c.id) < tuple_(*before))
        query = query.order_by(_m.c.created_at.desc(), _m.c.id.desc()).limit(limit)
        return [music_from_row(row) for row in (await self._uow.execute(query)).all()]

    async def list_expirable(self, completed_before: datetime, limit: int) -> list[Music]:
        query = (
            select(_m)
            .where(
                _m.c.status == MusicStatus.COMPLETED.value,
                _m.c.expired_at.is_(None),
                _m.c.updated_at < completed_before,
            )
            .order_by(_m.c.updated_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [self._uow.track(music_from_row(row)) for row in (await self._uow.execute(query)).all()]

    async def list_failed_before(self, updated_before: datetime, limit: int) -> list[Music]:
        query = (
            select(_m)
            .where(_m.c.status == MusicStatus.FAILED.value, _m.c.updated_at < updated_before)
            .order_by(_m.c.updated_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [self._uow.track(music_from_row(row)) for row in (await self._uow.execute(query)).all()]

    async def delete(self, music_id: str) -> None:
        await self._uow.execute(delete(_m).where(_m.c.id == music_id))
        self._uow.forget(music_id)

    async def count_by_status(self) -> dict[MusicStatus, int]:
        rows = (await self._uow.execute(select(_m.c.status, func.count()).group_by(_m.c.status))).all()
        counts = dict.fromkeys(MusicStatus, 0)
        counts.update({MusicStatus(status): int(n) for status, n in rows})
        return counts

    async def list_recent(self, status: MusicStatus, limit: int) -> list[Music]:
        query = select(_m).where(_m.c.status == status.value).order_by(_m.c.updated_at.desc()).limit(limit)
        return [music_from_row(row) for row in (await self._uow.execute(query)).all()]

    async def list_stale_generating(self, updated_before: datetime, now: datetime, limit: int) -> list[Music]:
        o = tables.outbox
        handoff_pending_or_recent = (
            select(o.c.id)
            .where(
                o.c.music_id == _m.c.id,
                o.c.topic == MusicGenerationRequested.name,
                or_(o.c.published_at.is_(None), o.c.published_at >= updated_before),
            )
            .exists()
        )
        dead_attempt = _m.c.lease_expires_at <= now
        lost_job = and_(_m.c.lease_expires_at.is_(None), _m.c.updated_at < updated_before, ~handoff_pending_or_recent)
        query = (
            select(_m)
            .where(_m.c.status == MusicStatus.GENERATING.value, or_(dead_attempt, lost_job))
            .order_by(_m.c.updated_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [self._uow.track(music_from_row(row)) for row in (await self._uow.execute(query)).all()]
