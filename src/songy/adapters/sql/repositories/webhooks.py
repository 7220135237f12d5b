"""Webhook endpoints users register and the deliveries of their events, in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select, update

from songy.adapters.sql import tables
from songy.adapters.sql.timestamps import aware_utc, aware_utc_or_none
from songy.domain.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint

if TYPE_CHECKING:
    from songy.adapters.sql.unit_of_work import SqlUnitOfWork


class SqlWebhookRepository:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def add_endpoint(self, endpoint: WebhookEndpoint, *, limit: int) -> bool:
        u, e = tables.users, tables.webhook_endpoints
        # the owner's row is the lock under which the count holds until commit: concurrent registrations queue
        await self._uow.execute(select(u.c.id).where(u.c.id == endpoint.user_id).with_for_update())
        count = (await self._uow.execute(select(func.count()).where(e.c.user_id == endpoint.user_id))).scalar_one()
        if count >= limit:
            return False
        values = {k: getattr(endpoint, k) for k in ("id", "user_id", "url", "events", "secret", "created_at")}
        await self._uow.execute(insert(e).values(**values))
        return True

    async def list_endpoints(self, user_id: str) -> list[WebhookEndpoint]:
        e = tables.webhook_endpoints
        rows = (await self._uow.execute(select(e).where(e.c.user_id == user_id).order_by(e.c.created_at))).all()
        return [
            WebhookEndpoint(r.id, r.user_id, r.url, list(r.events), r.secret, aware_utc(r.created_at)) for r in rows
        ]

    async def delete_endpoint(self, endpoint_id: str) -> bool:
        e = tables.webhook_endpoints
        return (await self._uow.execute(delete(e).where(e.c.id == endpoint_id))).rowcount == 1

    async def add_delivery(self, delivery: WebhookDelivery) -> None:
        await self._uow.execute(insert(tables.webhook_deliveries).values(**_delivery_values(delivery)))

    async def due_deliveries(
        self, now: datetime, limit: int, busy_endpoints: frozenset[str] = frozenset()
    ) -> list[WebhookDelivery]:
        d = tables.webhook_deliveries
        due = [d.c.status == DeliveryStatus.PENDING.value, d.c.next_attempt_at <= now]
        if busy_endpoints:
            due.append(d.c.endpoint_id.not_in(busy_endpoints))
        order = func.row_number().over(partition_by=d.c.endpoint_id, order_by=(d.c.next_attempt_at, d.c.id))
        ranked = select(d.c.id, order.label("place")).where(*due).subquery()
        query = (  # the oldest due delivery of each endpoint: one endpoint's backlog never queues another's
            select(d)
            .where(d.c.id.in_(select(ranked.c.id).where(ranked.c.place == 1)), *due)
            .order_by(d.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_delivery_from_row(r) for r in (await self._uow.execute(query)).all()]

    async def save_delivery(self, delivery: WebhookDelivery) -> None:
        d = tables.webhook_deliveries
        await self._uow.execute(update(d).where(d.c.id == delivery.id).values(**_delivery_values(delivery)))

    async def list_deliveries(self, user_id: str, endpoint_id: str, limit: int) -> list[WebhookDelivery]:
        d = tables.webhook_deliveries
        query = (
            select(d)
            .where(d.c.endpoint_id == endpoint_id, d.c.user_id == user_id)
            .order_by(d.c.created_at.desc())
            .limit(limit)
        )
        return [_delivery_from_row(r) for r in (await self._uow.execute(query)).all()]


def _delivery_values(delivery: WebhookDelivery) -> dict[str, Any]:
    values = dict(delivery.__dict__)
    values["status"] = delivery.status.value
    return values


def _delivery_from_row(row: Any) -> WebhookDelivery:
    return WebhookDelivery(
        id=row.id,
        endpoint_id=row.endpoint_id,
        user_id=row.user_id,
        event_name=row.event_name,
        payload=row.payload,
        created_at=aware_utc(row.created_at),
        next_attempt_at=aware_utc(row.next_attempt_at),
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        delivered_at=aware_utc_or_none(row.delivered_at),
    )
