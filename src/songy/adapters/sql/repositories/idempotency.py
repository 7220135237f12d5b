"""Idempotency keys in SQL: a taken key is a :class:`~songy.domain.errors.Conflict` (its primary key)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select

from songy.adapters.sql import tables
from songy.adapters.sql.timestamps import aware_utc
from songy.domain.idempotency import IdempotencyRecord

if TYPE_CHECKING:
    from songy.adapters.sql.unit_of_work import SqlUnitOfWork


class SqlIdempotencyKeys:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def get(self, user_id: str, key: str) -> IdempotencyRecord | None:
        t = tables.idempotency_keys
        row = (await self._uow.execute(select(t).where(t.c.user_id == user_id, t.c.key == key))).first()
        if row is None:
            return None
        return IdempotencyRecord(row.user_id, row.key, row.fingerprint, tuple(row.music_ids), aware_utc(row.created_at))

    async def add(self, record: IdempotencyRecord) -> None:
        values = {
            "user_id": record.user_id,
            "key": record.key,
            "fingerprint": record.fingerprint,
            "music_ids": list(record.music_ids),
            "created_at": record.created_at,
        }
        await self._uow.execute(insert(tables.idempotency_keys).values(**values))

    async def delete(self, user_id: str, key: str) -> None:
        t = tables.idempotency_keys
        await self._uow.execute(delete(t).where(t.c.user_id == user_id, t.c.key == key))

    async def prune(self, created_before: datetime) -> int:
        t = tables.idempotency_keys
        return int((await self._uow.execute(delete(t).where(t.c.created_at < created_before))).rowcount or 0)
