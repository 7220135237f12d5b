"""Ids of inbound messages already applied (the inbox of webhooks we receive), in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from songy.adapters.sql import tables

if TYPE_CHECKING:
    from songy.adapters.sql.unit_of_work import SqlUnitOfWork


class SqlProcessedMessages:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def add_if_new(self, message_id: str, source: str, now: datetime) -> bool:
        statement = (
            self._uow.upsert_insert(tables.processed_messages)
            .values(source=source, message_id=message_id, processed_at=now)
            .on_conflict_do_nothing(index_elements=["source", "message_id"])
            .returning(tables.processed_messages.c.message_id)
        )
        result = await self._uow.execute(statement)
        return result.first() is not None
