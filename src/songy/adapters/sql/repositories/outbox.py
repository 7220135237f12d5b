"""The transactional outbox in SQL: events written with the change that caused them, relayed after commit."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, insert, select, update

from songy.adapters.sql import tables
from songy.adapters.sql.timestamps import aware_utc
from songy.domain.events import DomainEvent, event_from_payload
from songy.ports.repositories import OutboxMessage

if TYPE_CHECKING:
    from songy.adapters.sql.unit_of_work import SqlUnitOfWork

_INSERT = insert(tables.outbox)


class SqlOutbox:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def add(self, event: DomainEvent, available_at: datetime) -> None:
        values = {
            "topic": event.name,
            "payload": event.payload(),
            "available_at": available_at,
            "created_at": self._uow.now(),
            "attempts": 0,
            "request_id": self._uow.request_id(),
            "music_id": event.music_id,
        }
        await self._uow.execute(_INSERT, values)
        self._uow.wrote_events = True

    async def claim_due(self, now: datetime, limit: int) -> list[OutboxMessage]:
        t = tables.outbox
        query = (
            select(t)
            .where(t.c.published_at.is_(None), t.c.available_at <= now)
            .order_by(t.c.available_at, t.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = (await self._uow.execute(query)).all()
        return [
            OutboxMessage(
                row.id,
                event_from_payload(row.topic, row.payload),
                aware_utc(row.available_at),
                row.attempts,
                row.request_id,
            )
            for row in rows
        ]

    async def mark_published(self, message_ids: list[int], now: datetime) -> None:
        if message_ids:
            t = tables.outbox
            await self._uow.execute(update(t).where(t.c.id.in_(message_ids)).values(published_at=now))

    async def postpone(self, message_id: int, until: datetime, error: str) -> None:
        t = tables.outbox
        statement = (
            update(t)
            .where(t.c.id == message_id)
            .values(available_at=until, attempts=t.c.attempts + 1, last_error=error[:2000])
        )
        await self._uow.execute(statement)

    async def pending_count(self) -> int:
        t = tables.outbox
        query = select(func.count()).select_from(t).where(t.c.published_at.is_(None))
        return int((await self._uow.execute(query)).scalar_one())

    async def oldest_pending(self) -> datetime | None:
        t = tables.outbox
        value = (await self._uow.execute(select(func.min(t.c.available_at)).where(t.c.published_at.is_(None)))).scalar()
        return aware_utc(value) if value is not None else None

    async def scheduled_retries(self, limit: int) -> list[OutboxMessage]:
        t = tables.outbox
        query = (
            select(t)
            .where(t.c.published_at.is_(None), t.c.topic == "music.generation.requested")
            .order_by(t.c.available_at)
            .limit(limit * 4)
        )
        rows = (await self._uow.execute(query)).all()
        messages = [
            OutboxMessage(row.id, event_from_payload(row.topic, row.payload), aware_utc(row.available_at), row.attempts)
            for row in rows
        ]
        return [m for m in messages if getattr(m.event, "attempt", 1) > 1][:limit]

    async def prune_published(self, published_before: datetime) -> int:
        t = tables.outbox
        statement = delete(t).where(t.c.published_at.is_not(None), t.c.published_at < published_before)
        return int((await self._uow.execute(statement)).rowcount or 0)
